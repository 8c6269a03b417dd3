"""The detector with scikit-learn's conventions: samples are authors of conversations.

``X`` is a list of :class:`~safeguard.text.loaders.Conversation`; the samples are its (conversation,
author) pairs in order of first message (:func:`author_keys`), labelled by each conversation's
``groomers``. ``predict_proba`` gives each author's risk after the whole conversation (the running
maximum, as the streaming scorer reports it), ``predict`` whether the author was flagged, and ``score``
the author-level F0.5 (accuracy says little when one author in a thousand is a groomer).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from safeguard.text.loaders import Conversation
from safeguard.text.model import GroomingModel
from safeguard.text.scorer import StreamingScorer
from safeguard.text.training import TrainingConfig, train


def author_keys(conversations: list[Conversation]) -> list[tuple[str, str]]:
    return [(c.id, a) for c in conversations for a in c.authors()]


def author_labels(conversations: list[Conversation]) -> np.ndarray:
    return np.array([a in c.groomers for c in conversations for a in c.authors()], dtype=bool)


class GroomingDetector(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    def __init__(self, seed: int = 7, folds: int = 5, threshold: float | None = None) -> None:
        self.seed = seed
        self.folds = folds
        self.threshold = threshold

    def fit(self, X: list[Conversation], y: Any = None) -> GroomingDetector:
        """Train on labelled conversations (``y`` is ignored: labels come from ``Conversation.groomers``)."""
        self.model_, self.report_ = train(X, TrainingConfig(seed=self.seed, folds=self.folds))
        self.classes_ = np.array([False, True])
        return self

    @classmethod
    def from_model(
        cls, model: GroomingModel | None = None, threshold: float | None = None
    ) -> GroomingDetector:
        """A detector around an existing model file (the shipped one by default), without training."""
        detector = cls(threshold=threshold)
        detector.model_ = model or GroomingModel.load()
        detector.report_ = detector.model_.report
        detector.classes_ = np.array([False, True])
        return detector

    def _scorer(self) -> StreamingScorer:
        return StreamingScorer(self.model_, self.threshold)

    def predict_proba(self, X: list[Conversation]) -> np.ndarray:
        risks = {
            (r.conversation_id, r.author_id): r.risk
            for r in self._scorer().score_stream(m for c in X for m in c.messages)
        }
        p = np.array([risks.get(key, 0.0) for key in author_keys(X)])
        return np.column_stack([1.0 - p, p])

    def predict(self, X: list[Conversation]) -> np.ndarray:
        threshold = self._scorer().threshold
        result: np.ndarray = self.predict_proba(X)[:, 1] >= threshold
        return result

    def score(self, X: list[Conversation], y: Any = None, sample_weight: Any = None) -> float:
        """Author-level F0.5 against ``Conversation.groomers`` (or ``y`` if given)."""
        truth = author_labels(X) if y is None else np.asarray(y, dtype=bool)
        flagged = self.predict(X)
        tp = float(np.sum(flagged & truth))
        fp = float(np.sum(flagged & ~truth))
        fn = float(np.sum(~flagged & truth))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        return 1.25 * precision * recall / (0.25 * precision + recall) if precision + recall else 0.0
