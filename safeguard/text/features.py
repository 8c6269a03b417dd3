"""Per-message features: behaviour hits and hashed word n-grams of the normalised text.

The n-gram features are hashed (scikit-learn's ``HashingVectorizer``, signed 32-bit MurmurHash3 of each
word and word pair), so a model file holds weights for hash buckets and no vocabulary: nothing readable of
the training text is stored in it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn import config_context
from sklearn.feature_extraction.text import HashingVectorizer

from safeguard.text.behaviours import BEHAVIOURS, Behaviour, Hit, detect
from safeguard.text.normalise import normalise_for_features

N_BEHAVIOURS = len(BEHAVIOURS)
MINOR = BEHAVIOURS.index(Behaviour.minor_self_disclosure)


@dataclass(frozen=True, slots=True)
class HashingConfig:
    """How messages are hashed; stored in the model file so scoring hashes exactly as training did."""

    n_features: int = 2**20
    ngram_max: int = 2

    def vectorizer(self) -> HashingVectorizer:
        return HashingVectorizer(
            n_features=self.n_features,
            analyzer=_word_ngrams(self.ngram_max),
            alternate_sign=False,
            norm="l2",
            dtype=np.float32,
        )


def _word_ngrams(ngram_max: int) -> Callable[[str], list[str]]:
    # The normalised text holds only [a-z0-9? ] separated by single spaces, so str.split() gives the
    # tokens scikit-learn's default word analyzer would; doing it here skips its slower Python path.
    def analyse(text: str) -> list[str]:
        tokens = normalise_for_features(text).split()
        grams = list(tokens)
        for n in range(2, ngram_max + 1):
            grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
        return grams

    return analyse


def hash_messages(texts: Sequence[str], config: HashingConfig) -> sparse.csr_matrix:
    """Hashed n-grams of each message's normalised text (rows are L2-normalised)."""
    # Skipping scikit-learn's argument validation (our input is always a list of str) saves ~30% of the
    # time of scoring one message at a time (profiled: 3.8 s of 12.5 s for 3,000 single-message calls).
    with config_context(skip_parameter_validation=True, assume_finite=True):
        matrix: sparse.csr_matrix = config.vectorizer().transform(texts)
    return matrix


@dataclass(slots=True)
class MessageFeatures:
    """What the scorer needs from a batch of messages, one row per message."""

    hits: list[list[Hit]]
    behaviours: np.ndarray  # (n, N_BEHAVIOURS) 0/1: did the message show the behaviour
    child_directed: np.ndarray  # (n,) bool: a child-directed pattern matched
    hashed: sparse.csr_matrix


def featurise(texts: Sequence[str], config: HashingConfig) -> MessageFeatures:
    hits = [detect(text) for text in texts]
    behaviours = np.zeros((len(texts), N_BEHAVIOURS), dtype=np.float64)
    child = np.zeros(len(texts), dtype=bool)
    for row, message_hits in enumerate(hits):
        for hit in message_hits:
            behaviours[row, _INDEX[hit.behaviour]] = 1.0
            if hit.child_directed:
                child[row] = True
    return MessageFeatures(hits, behaviours, child, hash_messages(texts, config))


_INDEX: dict[Behaviour, int] = {b: i for i, b in enumerate(BEHAVIOURS)}
