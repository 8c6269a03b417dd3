"""The reference approach the issue measures against: TF-IDF on words and characters, logistic regression,
one document per author (all their messages joined).

Used only for the comparison in ``docs/grooming.md``. It is evaluated on the same grouped folds as the
shipped model. Its author-level decision uses the whole author (as it was designed); its early-detection
figures re-score each author's first 1, 2, 3, 5, 8, ... messages with the same fitted model, and its
"streaming" false-alert rate counts an author flagged if any of those prefixes crosses 0.5, which is what
running it as a live detector would do.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from safeguard.text.corpus import Corpus
from safeguard.text.evaluation import AuthorResults, summarise

PREFIXES = (1, 2, 3, 5, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 130, 160, 200)


def _author_texts(corpus: Corpus, limit: int | None = None) -> list[str]:
    parts: list[list[str]] = [[] for _ in range(corpus.n_authors)]
    for message, key, position in zip(
        corpus.messages, corpus.k.tolist(), corpus.position.tolist(), strict=True
    ):
        if limit is None or position <= limit:
            parts[key].append(message.text)
    return [" \n ".join(p) for p in parts]


def _vectorisers() -> tuple[TfidfVectorizer, TfidfVectorizer]:
    words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=200_000, sublinear_tf=True)
    chars = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), min_df=3, max_features=300_000, sublinear_tf=True
    )
    return words, chars


def cross_validate_baseline(corpus: Corpus, fold: np.ndarray, seed: int) -> dict[str, Any]:
    """Whole-author and prefix figures of the baseline on the folds ``fold`` (per author key)."""
    whole = _author_texts(corpus)
    prefix_texts = {n: _author_texts(corpus, n) for n in PREFIXES}
    lengths = corpus.author_messages()
    whole_p = np.zeros(corpus.n_authors)
    first = np.zeros(corpus.n_authors, dtype=np.int64)
    for f in range(int(fold.max()) + 1):
        train = np.flatnonzero(fold != f)
        test = np.flatnonzero(fold == f)
        words, chars = _vectorisers()
        x_train = sparse.hstack(
            [words.fit_transform([whole[i] for i in train]), chars.fit_transform([whole[i] for i in train])]
        ).tocsr()
        model = LogisticRegression(C=10.0, max_iter=2000, class_weight="balanced", random_state=seed)
        model.fit(x_train, corpus.label[train])

        def proba(
            texts: list[str],
            words: TfidfVectorizer = words,
            chars: TfidfVectorizer = chars,
            model: LogisticRegression = model,
        ) -> np.ndarray:
            x = sparse.hstack([words.transform(texts), chars.transform(texts)]).tocsr()
            return np.asarray(model.predict_proba(x)[:, 1])

        whole_p[test] = proba([whole[i] for i in test])
        pending = test.copy()
        for n in PREFIXES:
            if not len(pending):
                break
            hit = proba([prefix_texts[n][i] for i in pending]) >= 0.5
            first[pending[hit]] = np.minimum(n, lengths[pending[hit]])
            pending = pending[~hit]
    late = (first == 0) & (whole_p >= 0.5)
    first[late] = lengths[late]  # flagged only once the whole author is seen
    author_conv = np.zeros(corpus.n_authors, dtype=np.int64)
    author_conv[corpus.k] = corpus.v
    whole_flag = np.where(whole_p >= 0.5, np.maximum(lengths, 1), 0)
    whole_results = AuthorResults(corpus.label, corpus.role, author_conv, whole_p, whole_flag, lengths)
    streaming = AuthorResults(corpus.label, corpus.role, author_conv, whole_p, first, lengths)
    return {"whole_author": summarise(whole_results), "streaming_prefixes": summarise(streaming)}
