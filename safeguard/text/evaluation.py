"""Quality figures of a grooming detector: per author, per conversation, early detection, per source.

An author is *flagged* when their risk crosses the threshold at any message (the scorer raises the alert
then; it is not withdrawn). A conversation is flagged when any of its authors is, and is positive when it
holds a labelled groomer. Latency is the 1-based index, among the groomer's own messages, of the message
at which the alert was raised ("messages before the first correct alert").

Latency-weighted F1 (eSPD; Vogt, Leser & Akbik, ACL 2021, who take it from Sadeque, Xu & Bethard, WSDM
2018): ``F_latency = F1 * speed`` with ``speed = 1 - median(penalty(k))`` over true positives,
``penalty(k) = -1 + 2 / (1 + exp(-p * (k - 1)))`` and ``k`` the number of messages needed. ``p`` is set so
that the penalty is 0.5 at ``half_penalty_messages`` (``p = ln 3 / (m - 1)``), by default the median
number of messages of the groomers in the evaluated data, following Sadeque et al.'s choice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

FPR_LEVELS = (0.01, 0.001)


@dataclass(slots=True)
class AuthorResults:
    """Per author key: label, role, conversation, peak risk, first flagged message (0 = never), length."""

    label: np.ndarray
    role: np.ndarray
    conversation: np.ndarray
    peak: np.ndarray
    first_flag: np.ndarray
    messages: np.ndarray

    def subset(self, mask: np.ndarray) -> AuthorResults:
        return AuthorResults(
            self.label[mask],
            self.role[mask],
            self.conversation[mask],
            self.peak[mask],
            self.first_flag[mask],
            self.messages[mask],
        )


def peaks(k: np.ndarray, risk: np.ndarray, n_authors: int) -> np.ndarray:
    out = np.zeros(n_authors)
    np.maximum.at(out, k, risk)
    return out


def first_flags(
    k: np.ndarray, position: np.ndarray, risk: np.ndarray, threshold: float, n_authors: int
) -> np.ndarray:
    """1-based author message index at which ``risk`` first reaches ``threshold`` (0 where never)."""
    big = np.iinfo(np.int64).max
    out = np.full(n_authors, big, dtype=np.int64)
    hit = risk >= threshold
    np.minimum.at(out, k[hit], position[hit])
    out[out == big] = 0
    return out


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0

    def f(beta: float) -> float:
        b2 = beta * beta
        denominator = b2 * precision + recall
        return (1 + b2) * precision * recall / denominator if denominator else 0.0

    return {"precision": precision, "recall": recall, "f1": f(1.0), "f0_5": f(0.5)}


def recall_at_fpr(label: np.ndarray, score: np.ndarray, fpr: float) -> float:
    """Recall when the threshold is set so that at most ``fpr`` of the negatives score above it."""
    negatives = np.sort(score[~label])[::-1]
    positives = score[label]
    if not len(positives):
        return 0.0
    allowed = math.floor(fpr * len(negatives))
    if allowed >= len(negatives):
        return 1.0
    cut = negatives[allowed]
    return float(np.mean(positives > cut))


def espd_speed(latencies: np.ndarray, half_penalty_messages: float) -> tuple[float, float]:
    """(speed, p) of the latency-weighted F1."""
    p = math.log(3.0) / max(half_penalty_messages - 1.0, 1.0)
    if not len(latencies):
        return 0.0, p
    penalty = -1.0 + 2.0 / (1.0 + np.exp(-p * (latencies.astype(np.float64) - 1.0)))
    return float(1.0 - np.median(penalty)), p


def summarise(results: AuthorResults, half_penalty_messages: float | None = None) -> dict[str, Any]:
    label = results.label.astype(bool)
    flagged = results.first_flag > 0
    tp = int(np.sum(flagged & label))
    fp = int(np.sum(flagged & ~label))
    fn = int(np.sum(~flagged & label))
    tn = int(np.sum(~flagged & ~label))
    authors: dict[str, Any] = {"positives": int(label.sum()), "negatives": int((~label).sum())}
    authors.update({"tp": tp, "fp": fp, "fn": fn, "tn": tn}, **_prf(tp, fp, fn))
    authors["false_alerts_per_1000_benign"] = 1000.0 * fp / max(fp + tn, 1)

    conversations = np.unique(results.conversation)
    conv_pos = np.zeros(int(results.conversation.max()) + 1 if len(results.conversation) else 0, dtype=bool)
    conv_flag = np.zeros_like(conv_pos)
    np.logical_or.at(conv_pos, results.conversation, label)
    np.logical_or.at(conv_flag, results.conversation, flagged)
    cp, cf = conv_pos[conversations], conv_flag[conversations]
    per_conversation: dict[str, Any] = {"positives": int(cp.sum()), "negatives": int((~cp).sum())}
    ctp, cfp, cfn = int(np.sum(cf & cp)), int(np.sum(cf & ~cp)), int(np.sum(~cf & cp))
    per_conversation.update({"tp": ctp, "fp": cfp, "fn": cfn}, **_prf(ctp, cfp, cfn))

    latencies = results.first_flag[flagged & label]
    if half_penalty_messages is None:
        half_penalty_messages = float(np.median(results.messages[label])) if label.any() else 90.0
    speed, p = espd_speed(latencies, half_penalty_messages)
    early = {
        "median_messages_to_alert": round(float(np.median(latencies)), 1) if len(latencies) else None,
        "p90_messages_to_alert": round(float(np.percentile(latencies, 90)), 1) if len(latencies) else None,
        "within_15_messages": float(
            np.mean((results.first_flag[label] > 0) & (results.first_flag[label] <= 15))
        )
        if label.any()
        else None,
        "speed": speed,
        "penalty_p": p,
        "half_penalty_messages": half_penalty_messages,
        "latency_weighted_f1": authors["f1"] * speed,
    }
    per_role: dict[str, Any] = {}
    for role in sorted({str(r) for r in results.role}):
        mask = results.role == role
        row: dict[str, Any] = {
            "authors": int(mask.sum()),
            "groomers": int(label[mask].sum()),
            "flagged": int(flagged[mask].sum()),
            "flagged_rate": float(flagged[mask].mean()) if mask.any() else 0.0,
        }
        benign = mask & ~label
        if benign.any():
            row["false_alert_rate"] = float(flagged[benign].mean())
        if (mask & label).any():
            row["recall"] = float(flagged[mask & label].mean())
            lat = results.first_flag[mask & label & flagged]
            row["median_messages_to_alert"] = float(np.median(lat)) if len(lat) else None
        per_role[role] = row
    return {
        "authors": authors,
        "conversations": per_conversation,
        "recall_at_fpr": {str(level): recall_at_fpr(label, results.peak, level) for level in FPR_LEVELS},
        "early_detection": early,
        "per_source": per_role,
    }
