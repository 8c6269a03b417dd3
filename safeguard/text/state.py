"""The scorer's running state: a few numbers per author and per conversation, updated in O(1).

Per author: how many messages they wrote, how many showed each behaviour, how many child-directed hits,
the running sum of their messages' language score, whether child-directed context was seen, the peak risk
and the message at which it first crossed the threshold, and at most three pieces of evidence per
behaviour (the first two and the latest). Per conversation: the authors, and how many messages said "I am
a minor". Nothing else of the text is kept. The state is a small JSON document, so an API worker can
load it from the database, add a message and store it back (``to_dict`` / ``from_dict``).

:func:`author_features` turns the state into the vector the risk model reads. It works on arrays, so
training (every prefix of every author at once) and scoring (one message) use the same code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from safeguard.text.behaviours import BEHAVIOURS
from safeguard.text.features import MINOR, N_BEHAVIOURS
from safeguard.text.messages import Evidence

STATE_VERSION = 1
EVIDENCE_FIRST = 2  # keep the first two pieces of evidence of each behaviour ...
EXCERPT_CHARS = 120  # ... and the latest one; excerpts are a few words, never whole long messages
# A participant saying they are a minor is context for the others only in a small conversation: in a
# chat room it is not addressed to anyone in particular.
MAX_GATE_PARTICIPANTS = 4
TEXT_PRIOR_MESSAGES = 5.0  # shrinks the mean language score of authors with few messages towards 0

_GROOMING = [i for i in range(N_BEHAVIOURS) if i != MINOR]
FEATURE_NAMES: tuple[str, ...] = (
    "log_messages",
    *(f"log_count_{BEHAVIOURS[i].value}" for i in _GROOMING),
    *(f"rate_{BEHAVIOURS[i].value}" for i in _GROOMING),
    "distinct_behaviours",
    "language_mean",
    "language_mean_x_log_messages",
    "language_sum",
    "log_own_minor",
    "log_child_directed",
    "log_partner_minor",
)
# Risk may only rise with evidence of grooming (monotone constraints of the tree model): more behaviour
# hits, a higher language score, a partner saying they are a minor can never lower it.
MONOTONIC: tuple[int, ...] = (0, *([1] * (2 * len(_GROOMING))), 1, 1, 1, 1, 0, 1, 1)
# Behaviours that count as the author's own evidence: an author is only flagged once they have written
# one of these (or a child-directed phrase). Asking "asl" is not enough on its own, and neither is the
# context of talking to someone who said they are 13: the reasons must quote the author's own words.
OWN_EVIDENCE: tuple[int, ...] = tuple(i for i in _GROOMING if BEHAVIOURS[i].value != "age_location_probing")


def has_own_evidence(counts: np.ndarray, child_count: np.ndarray) -> np.ndarray:
    """Rows where the author has written a grooming behaviour of their own (see ``OWN_EVIDENCE``)."""
    own: np.ndarray = (counts[:, OWN_EVIDENCE] > 0).any(axis=1) | (child_count > 0)
    return own


def author_features(
    n: np.ndarray,
    counts: np.ndarray,
    child_count: np.ndarray,
    text_sum: np.ndarray,
    partner_minor: np.ndarray,
) -> np.ndarray:
    """``(rows, len(FEATURE_NAMES))`` feature matrix; ``counts`` is ``(rows, N_BEHAVIOURS)``;
    ``partner_minor`` is how many times the other participants of a small conversation said they are under
    18 (see :func:`advance`)."""
    n = n.astype(np.float64)
    grooming = counts[:, _GROOMING]
    log_n = np.log1p(n)
    mean = text_sum / (n + TEXT_PRIOR_MESSAGES)
    columns = [
        log_n[:, None],
        np.log1p(grooming),
        grooming / (n[:, None] + 10.0),
        (grooming > 0).sum(axis=1)[:, None],
        mean[:, None],
        (mean * log_n)[:, None],
        (np.sign(text_sum) * np.log1p(np.abs(text_sum)))[:, None],
        np.log1p(counts[:, MINOR])[:, None],
        np.log1p(child_count)[:, None],
        np.log1p(partner_minor)[:, None],
    ]
    return np.hstack(columns)


@dataclass(slots=True)
class AuthorState:
    n: int = 0
    counts: list[int] = field(default_factory=lambda: [0] * N_BEHAVIOURS)
    child_count: int = 0
    text_sum: float = 0.0
    gate: bool = False
    peak: float = 0.0
    current: float = 0.0
    first_flag: int | None = None
    evidence: dict[str, list[Evidence]] = field(default_factory=dict)

    def add_evidence(self, item: Evidence) -> None:
        kept = self.evidence.setdefault(item.behaviour, [])
        if len(kept) <= EVIDENCE_FIRST:
            kept.append(item)
        else:
            kept[-1] = item

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "counts": list(self.counts),
            "child": self.child_count,
            "text_sum": self.text_sum,
            "gate": self.gate,
            "peak": self.peak,
            "current": self.current,
            "first_flag": self.first_flag,
            "evidence": {b: [e.to_dict() for e in items] for b, items in self.evidence.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuthorState:
        counts = [int(c) for c in data["counts"]]
        if len(counts) != N_BEHAVIOURS:
            raise ValueError("state has a different number of behaviours")
        return cls(
            n=int(data["n"]),
            counts=counts,
            child_count=int(data["child"]),
            text_sum=float(data["text_sum"]),
            gate=bool(data["gate"]),
            peak=float(data["peak"]),
            current=float(data["current"]),
            first_flag=None if data["first_flag"] is None else int(data["first_flag"]),
            evidence={
                b: [Evidence(**{k: v for k, v in e.items()}) for e in items]
                for b, items in data["evidence"].items()
            },
        )


RECENT_IDS = 256  # message ids remembered to drop a re-sent message (retries), per conversation


@dataclass(slots=True)
class ConversationState:
    authors: dict[str, AuthorState] = field(default_factory=dict)
    minor_disclosures: int = 0
    messages: int = 0
    first_alert_message: str | None = None
    recent_ids: list[str] = field(default_factory=list)

    def remember(self, message_id: str) -> None:
        self.recent_ids.append(message_id)
        if len(self.recent_ids) > RECENT_IDS:
            del self.recent_ids[: len(self.recent_ids) - RECENT_IDS]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "authors": {a: s.to_dict() for a, s in self.authors.items()},
            "minor": self.minor_disclosures,
            "messages": self.messages,
            "first_alert_message": self.first_alert_message,
            "recent_ids": list(self.recent_ids),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConversationState:
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported conversation state version {data.get('version')!r}")
        return cls(
            authors={a: AuthorState.from_dict(s) for a, s in data["authors"].items()},
            minor_disclosures=int(data["minor"]),
            messages=int(data["messages"]),
            first_alert_message=data.get("first_alert_message"),
            recent_ids=[str(i) for i in data.get("recent_ids", [])],
        )

    def risk(self) -> float:
        return max((a.peak for a in self.authors.values()), default=0.0)


def grouped_cumsum(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Cumulative sum of ``values`` (rows) within each group, in row order."""
    order, segment, starts = _segments(groups)
    sums = np.cumsum(values[order], axis=0)
    before = np.zeros((len(starts), *sums.shape[1:]), dtype=sums.dtype)
    before[1:] = sums[starts[1:] - 1]
    result = np.empty_like(sums)
    result[order] = sums - before[segment]
    return result


def grouped_cummax(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Running maximum of ``values`` (finite) within each group, in row order."""
    order, segment, _ = _segments(groups)
    sorted_values = values[order].astype(np.float64)
    # Lift each group above all earlier ones so one global running maximum never crosses groups.
    span = float(np.ptp(sorted_values)) + 1.0 if len(order) else 1.0
    lifted = np.maximum.accumulate(sorted_values + segment * span) - segment * span
    result = np.empty_like(lifted)
    result[order] = lifted
    return result


def _segments(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stable order by group, each sorted row's segment number, and where segments start."""
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = sorted_groups[1:] != sorted_groups[:-1]
    starts = np.flatnonzero(new)
    segment = np.cumsum(new) - 1
    return order, segment, starts


@dataclass(slots=True)
class Advance:
    """Each message's author state after the message (rows follow the batch)."""

    n: np.ndarray
    counts: np.ndarray
    child: np.ndarray
    text: np.ndarray
    partner: np.ndarray  # minor disclosures by the other participants, while the conversation is small
    gate: np.ndarray  # child-directed context seen (own phrase, or a participant said they are a minor)
    ungated: bool = False  # comparison only: no gate at all

    @property
    def open(self) -> np.ndarray:
        """May this author be flagged: child-directed context *and* grooming behaviour of their own."""
        if self.ungated:
            return np.ones(len(self.n), dtype=bool)
        result: np.ndarray = self.gate & has_own_evidence(self.counts, self.child)
        return result

    def features(self) -> np.ndarray:
        return author_features(self.n, self.counts, self.child, self.text, self.partner)


def advance(
    k: np.ndarray,
    v: np.ndarray,
    behaviours: np.ndarray,
    child_directed: np.ndarray,
    language: np.ndarray,
    new_author: np.ndarray,
    *,
    n0: np.ndarray,
    counts0: np.ndarray,
    child0: np.ndarray,
    text0: np.ndarray,
    gate0: np.ndarray,
    participants0: np.ndarray,
    minor0: np.ndarray,
    max_gate_participants: int,
) -> Advance:
    """The recurrences of the running state, for a batch at once.

    ``k``/``v`` give each message's author key and conversation (indices into the ``*0`` arrays, which
    hold the state before the batch); ``new_author`` marks an author's first message in its conversation.
    """
    ones = np.ones(len(k))
    participants = participants0[v] + grouped_cumsum(new_author.astype(np.float64), v)
    minor_conv = minor0[v] + grouped_cumsum(behaviours[:, MINOR], v)
    n = n0[k] + grouped_cumsum(ones, k)
    counts = counts0[k] + grouped_cumsum(behaviours, k)
    child = child0[k] + grouped_cumsum(child_directed.astype(np.float64), k)
    text = text0[k] + grouped_cumsum(language, k)
    # Issue 7 (grooming quality; training side): the partner's minor disclosures are now a risk feature
    # too (``log_partner_minor``), not only the gate, so they count only in a small conversation; the gate
    # is unchanged. The scalar twins below follow.
    partner = np.where(participants <= max_gate_participants, minor_conv - counts[:, MINOR], 0.0)
    event = child_directed | (partner > 0)
    gate = gate0[k] | (grouped_cumsum(event.astype(np.float64), k) > 0)
    return Advance(n, counts, child, text, partner, gate)


# --- one message at a time ----------------------------------------------------------------------------
# Scalar twins of ``advance`` and ``author_features`` for the scorer's single-message path: numpy's fixed
# cost per call (about 30 array operations for one row) was most of the time of scoring one message.
# ``tests/text/test_fast_path.py`` holds them equal to the array versions: change both together.


@dataclass(slots=True)
class AdvanceOne:
    n: int
    counts: list[int]
    child: int
    text: float
    partner: int
    gate: bool


def advance_one(
    author: AuthorState | None,
    participants0: int,
    minor0: int,
    behaviours: list[int],
    child_directed: bool,
    language: float,
    max_gate_participants: int,
) -> AdvanceOne:
    """:func:`advance` for one message of ``author`` (``None``: their first in the conversation), in a
    conversation that had ``participants0`` authors and ``minor0`` minor disclosures before it."""
    counts = list(author.counts) if author else [0] * N_BEHAVIOURS
    for index in behaviours:
        counts[index] += 1
    participants = participants0 + (author is None)
    minor_conv = minor0 + (MINOR in behaviours)
    partner = minor_conv - counts[MINOR] if participants <= max_gate_participants else 0
    event = child_directed or partner > 0
    return AdvanceOne(
        n=(author.n if author else 0) + 1,
        counts=counts,
        child=(author.child_count if author else 0) + child_directed,
        text=(author.text_sum if author else 0.0) + language,
        partner=partner,
        gate=(author.gate if author else False) or event,
    )


def has_own_evidence_one(counts: list[int], child_count: int) -> bool:
    return child_count > 0 or any(counts[i] > 0 for i in OWN_EVIDENCE)


def author_features_one(
    n: int, counts: list[int], child_count: int, text_sum: float, partner_minor: int
) -> list[float]:
    """One row of :func:`author_features`, in plain floats: the same IEEE operations, so the same bits
    (``log1p`` is numpy's, taken in one call: ``math.log1p`` differs from it in the last bit)."""
    nf = float(n)
    grooming = [float(counts[i]) for i in _GROOMING]
    logs = np.log1p(
        [nf, *grooming, float(counts[MINOR]), float(child_count), float(partner_minor), abs(text_sum)]
    ).tolist()
    log_n = logs[0]
    mean = text_sum / (nf + TEXT_PRIOR_MESSAGES)
    sign = 1.0 if text_sum > 0 else -1.0 if text_sum < 0 else 0.0
    return [
        log_n,
        *logs[1 : 1 + len(grooming)],
        *(g / (nf + 10.0) for g in grooming),
        float(sum(g > 0 for g in grooming)),
        mean,
        mean * log_n,
        sign * logs[-1],
        logs[-4],
        logs[-3],
        logs[-2],
    ]
