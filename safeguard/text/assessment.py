"""What ``safeguard text evaluate`` and ``safeguard text compare`` run.

- :func:`evaluate_model`: a fixed model file on a labelled data set (held-out data from the platform).
- :func:`cross_validated`: grouped cross-validation of the training recipe (the honest figure when the
  data is the training data).
- :func:`leave_one_source_out`: train without one kind of author (the NPS rooms, the decoys, the PAN 2012
  excerpts) and measure how the model treats them having never seen them.
- :func:`compare`: the approaches of the comparison table, on the same folds.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from safeguard.text.baseline import cross_validate_baseline
from safeguard.text.corpus import Corpus, Progress
from safeguard.text.evaluation import AuthorResults, first_flags, peaks, summarise
from safeguard.text.model import GroomingModel
from safeguard.text.scorer import StreamingScorer
from safeguard.text.state import ConversationState
from safeguard.text.training import Ablation, TrainingConfig, assign_folds, cross_validate


def _quiet(_: str) -> None:
    return None


def score_corpus(
    model: GroomingModel, corpus: Corpus, threshold: float | None = None
) -> tuple[np.ndarray, float]:
    """Every message's author risk under ``model`` (conversations streamed from their start); the rate."""
    scorer = StreamingScorer(model, threshold)
    states: dict[str, ConversationState] = {}
    risk = np.zeros(len(corpus.messages))
    started = time.perf_counter()
    for start in range(0, len(corpus.messages), 50_000):
        chunk = corpus.messages[start : start + 50_000]
        risk[start : start + len(chunk)] = scorer.score_messages(states, chunk).risk
    rate = len(corpus.messages) / max(time.perf_counter() - started, 1e-9)
    return risk, rate


def evaluate_model(
    model: GroomingModel,
    corpus: Corpus,
    threshold: float | None = None,
    half_penalty_messages: float | None = None,
) -> dict[str, Any]:
    threshold = model.threshold if threshold is None else threshold
    risk, rate = score_corpus(model, corpus, threshold)
    author_conv = np.zeros(corpus.n_authors, dtype=np.int64)
    author_conv[corpus.k] = corpus.v
    results = AuthorResults(
        label=corpus.label,
        role=corpus.role,
        conversation=author_conv,
        peak=peaks(corpus.k, risk, corpus.n_authors),
        first_flag=first_flags(corpus.k, corpus.position, risk, threshold, corpus.n_authors),
        messages=corpus.author_messages(),
    )
    figures = summarise(results, half_penalty_messages)
    trained_on = model.report.get("data", {}).get("fingerprint")
    return {
        "threshold": threshold,
        "messages_per_second": rate,
        "same_data_as_training": trained_on == corpus.fingerprint,
        "figures": figures,
    }


def cross_validated(
    corpus: Corpus, config: TrainingConfig, progress: Progress = _quiet, ablation: Ablation = Ablation()
) -> dict[str, Any]:
    cv = cross_validate(corpus, config, progress, ablation=ablation)
    return {"fold_thresholds": cv.fold_thresholds, "figures": summarise(cv.results)}


HOLD_OUT_ROLES = ("nps", "decoy", "pan12")


def leave_one_source_out(
    corpus: Corpus, config: TrainingConfig, progress: Progress = _quiet
) -> dict[str, Any]:
    """For each role present: train without those authors, report how they (and everyone) fare."""
    report: dict[str, Any] = {}
    for role in HOLD_OUT_ROLES:
        held = corpus.role == role
        if not held.any():
            continue
        progress(f"leave out {role}")
        cv = cross_validate(corpus, config, progress, exclude=held)
        figures = summarise(cv.results.subset(held))
        report[role] = {
            "held_out_authors": int(held.sum()),
            "held_out_groomers": int(corpus.label[held].sum()),
            "held_out": figures["per_source"].get(role, {}),
            "held_out_figures": figures["authors"],
            "everyone": summarise(cv.results)["authors"],
        }
    return report


def compare(corpus: Corpus, config: TrainingConfig, progress: Progress = _quiet) -> dict[str, Any]:
    """The comparison table: baseline, ablations and the shipped recipe, on the same grouped folds."""
    rows: dict[str, Any] = {}
    progress("baseline: TF-IDF words + characters, logistic regression, whole authors")
    fold = assign_folds(corpus, config.folds, config.seed)
    rows["tfidf_whole_author"] = cross_validate_baseline(corpus, fold, config.seed)
    for name, ablation in (
        ("language_only", Ablation(behaviours=False)),
        ("behaviours_only", Ablation(language=False)),
        ("no_child_gate", Ablation(gate=False)),
        ("shipped", Ablation()),
    ):
        progress(f"streaming model: {name}")
        rows[name] = cross_validated(corpus, config, progress, ablation)
    return rows
