"""Train and cross-validate the grooming model.

1. **Language model** (per message): logistic regression (``SGDClassifier``, log loss) on hashed word
   1-2-grams, predicting "the author of this message is the groomer". It is trained *within* conversations
   that hold a labelled groomer only (groomer against the other side of the same chats), so it cannot learn
   what tells one site or corpus from another; authors are weighted 1/sqrt(messages) so long chats do not
   drown short ones.
2. **Risk model** (per author, after each message): gradient-boosted trees (scikit-learn
   ``HistGradientBoostingClassifier``, monotone in every evidence feature) over the running state of
   :mod:`safeguard.text.state`, trained on the state after 1, 2, 3, 5, 8, ... messages of every author
   (each author weighing one in total), so the risk is meaningful from the first messages on. Within an
   author, the state after ``m`` messages weighs in proportion to ``m ** -early_weight_power``: an alert
   is raised at the first crossing, so the early prefixes decide how soon a groomer is caught, while the
   late ones only add chances for a benign author to cross. Measured (grouped 5-fold cross-validation on
   the shared data, docs/grooming.md): equal weights gave a median of 13 groomer messages to the first
   alert, 5 of 430 decoys flagged and F0.5 0.981; power 0.5 gives 11, 3 of 430 and 0.985.
3. **Calibration**: isotonic regression of the risk model's out-of-fold output on the labels.
4. **Threshold**: on out-of-fold risks, the one with the best author-level F0.5 among those that flag at
   most ``max_false_alert_rate`` of the benign authors, overall and of each benign source big enough to
   measure that rate (at least ``1 / max_false_alert_rate`` authors: the decoys, the chat rooms), and
   alert on groomers within a median of ``target_median_messages`` messages (relaxed in that order when
   impossible). Per source, because one source of hard negatives (the decoys) can be flagged several
   times more often than the rest while the overall rate still looks fine.

Cross-validation is grouped (a person, or a chat session, is never in both training and test folds) and
stratified by label and source. Language scores fed to the risk model are out-of-fold, so the risk model
learns how reliable they are on unseen authors. Each test fold is judged with a calibration and a
threshold fitted on the other folds only. Everything is seeded: the same data and configuration
give the same model file, byte for byte.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import StratifiedGroupKFold
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from safeguard.text.corpus import Corpus, Progress, build_corpus
from safeguard.text.errors import NoTrainingData
from safeguard.text.evaluation import AuthorResults, peaks, summarise
from safeguard.text.features import N_BEHAVIOURS, HashingConfig
from safeguard.text.loaders import Conversation
from safeguard.text.model import GroomingModel
from safeguard.text.state import MAX_GATE_PARTICIPANTS, MONOTONIC, Advance, advance, grouped_cummax
from safeguard.text.trees import TreeEnsemble

GATE_SHUT = -1.0  # decision risk of a message after which the child-directed gate is still shut
CHECKPOINTS = (
    1,
    2,
    3,
    4,
    5,
    6,
    8,
    10,
    12,
    15,
    18,
    22,
    26,
    30,
    35,
    40,
    50,
    60,
    75,
    90,
    110,
    130,
    160,
    200,
    250,
    300,
    400,
    500,
    700,
    1000,
    1500,
    2500,
    5000,
    10000,
    20000,
)


@dataclass(frozen=True, slots=True)
class TrainingConfig:
    seed: int = 7
    folds: int = 5
    hashing: HashingConfig = field(default_factory=HashingConfig)
    language_alpha: float = 1e-6
    language_epochs: int = 15
    tree_iterations: int = 100
    tree_learning_rate: float = 0.1
    tree_leaves: int = 15
    tree_min_leaf: int = 50
    max_false_alert_rate: float = 0.01
    target_median_messages: float = 15.0
    early_weight_power: float = 0.5
    ungated_cap_ratio: float = 0.5
    max_gate_participants: int = MAX_GATE_PARTICIPANTS


def _quiet(_: str) -> None:
    return None


# --- folds ---------------------------------------------------------------------------------------------


def assign_folds(corpus: Corpus, folds: int, seed: int) -> np.ndarray:
    """Fold of each author key; every author of a group (person / session) in the same fold."""
    groups = sorted(set(corpus.group.tolist()))
    index = {g: i for i, g in enumerate(groups)}
    group_of = np.array([index[g] for g in corpus.group], dtype=np.int64)
    positive = np.zeros(len(groups), dtype=bool)
    np.logical_or.at(positive, group_of, corpus.label)
    role = ["" for _ in groups]
    for g, r in zip(group_of, corpus.role, strict=True):
        role[g] = role[g] or str(r)
    sources = sorted(set(role))
    strata = np.array([int(p) * 100 + sources.index(r) for p, r in zip(positive, role, strict=True)])
    n_splits = max(2, min(folds, int(np.bincount(strata).min()) if len(strata) else 2, len(groups)))
    if n_splits < folds:
        n_splits = min(folds, len(groups))
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    group_fold = np.zeros(len(groups), dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "least populated class" warnings on small strata
        for fold, (_, test) in enumerate(
            splitter.split(np.zeros(len(groups)), strata, np.arange(len(groups)))
        ):
            group_fold[test] = fold
    result: np.ndarray = group_fold[group_of]
    return result


# --- the three fitted parts ------------------------------------------------------------------------------


def language_rows(corpus: Corpus, authors: np.ndarray) -> np.ndarray:
    """Messages the language model trains on: those of ``authors`` in conversations with a groomer."""
    eligible = authors & corpus.groomer_conversation()
    if not (corpus.label[eligible].any() and (~corpus.label[eligible]).any()):
        eligible = authors  # no contrast available (e.g. groomers' chats without the other side)
    rows: np.ndarray = np.flatnonzero(eligible[corpus.k])
    return rows


def fit_language(corpus: Corpus, rows: np.ndarray, config: TrainingConfig) -> tuple[np.ndarray, float]:
    y = corpus.label[corpus.k[rows]]
    if y.all() or not y.any():
        raise NoTrainingData("the language model needs messages of both groomers and others")
    weight = 1.0 / np.sqrt(corpus.author_messages()[corpus.k[rows]])
    weight *= len(weight) / weight.sum()
    model = SGDClassifier(
        loss="log_loss",
        alpha=config.language_alpha,
        max_iter=config.language_epochs,
        tol=None,
        random_state=config.seed,
    )
    model.fit(corpus.features.hashed[rows], y, sample_weight=weight)
    return model.coef_.ravel().astype(np.float32), float(model.intercept_[0])


def language_scores(corpus: Corpus, coef: np.ndarray, intercept: float, rows: np.ndarray) -> np.ndarray:
    scores = corpus.features.hashed[rows] @ coef
    return np.asarray(scores, dtype=np.float64).ravel() + intercept


@dataclass(frozen=True, slots=True)
class Ablation:
    """Parts switched off to measure what each contributes (comparison only; the shipped model uses all)."""

    language: bool = True
    behaviours: bool = True
    gate: bool = True


def state_rows(
    corpus: Corpus, language: np.ndarray, config: TrainingConfig, ablation: Ablation = Ablation()
) -> Advance:
    """The running state after every message of the corpus (every conversation from its start)."""
    n_keys, n_conv = corpus.n_authors, len(corpus.conversations)
    behaviours, child = corpus.features.behaviours, corpus.features.child_directed
    if not ablation.behaviours:
        behaviours, child = np.zeros_like(behaviours), np.zeros_like(child)
    if not ablation.language:
        language = np.zeros_like(language)
    states = advance(
        corpus.k,
        corpus.v,
        behaviours,
        child,
        language,
        corpus.new_author,
        n0=np.zeros(n_keys),
        counts0=np.zeros((n_keys, N_BEHAVIOURS)),
        child0=np.zeros(n_keys),
        text0=np.zeros(n_keys),
        gate0=np.zeros(n_keys, dtype=bool),
        participants0=np.zeros(n_conv),
        minor0=np.zeros(n_conv),
        max_gate_participants=config.max_gate_participants,
    )
    if not (ablation.gate and ablation.behaviours):
        states.ungated = True
    return states


def checkpoint_rows(corpus: Corpus, early_weight_power: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Rows at which each author's state becomes a training example, and weights: 1 per author, shared
    among their checkpoints in proportion to ``position ** -early_weight_power``."""
    last = corpus.position == corpus.author_messages()[corpus.k]
    rows = np.flatnonzero(np.isin(corpus.position, CHECKPOINTS) | last)
    weights = corpus.position[rows].astype(np.float64) ** -early_weight_power
    per_author = np.bincount(corpus.k[rows], weights=weights, minlength=corpus.n_authors)
    weights /= per_author[corpus.k[rows]]
    return rows, weights


def fit_risk(
    x: np.ndarray, y: np.ndarray, weight: np.ndarray, config: TrainingConfig
) -> HistGradientBoostingClassifier:
    model = HistGradientBoostingClassifier(
        max_iter=config.tree_iterations,
        learning_rate=config.tree_learning_rate,
        max_leaf_nodes=config.tree_leaves,
        min_samples_leaf=config.tree_min_leaf,
        monotonic_cst=list(MONOTONIC),
        early_stopping=False,
        random_state=config.seed,
    )
    with threadpool_limits(1):  # one thread: sums in a fixed order, so the trees are reproducible
        model.fit(x, y, sample_weight=weight)
    return model


def fit_calibration(raw: np.ndarray, y: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
    iso.fit(raw, y.astype(np.float64), sample_weight=weight)
    return np.asarray(iso.X_thresholds_, dtype=np.float64), np.asarray(iso.y_thresholds_, dtype=np.float64)


# --- threshold -------------------------------------------------------------------------------------------


@dataclass(slots=True)
class RiskRecords:
    """Where each author's running-maximum risk rises: enough to get first alerts at any threshold."""

    k: np.ndarray
    position: np.ndarray
    value: np.ndarray
    n_authors: int

    @classmethod
    def build(cls, corpus: Corpus, risk: np.ndarray) -> RiskRecords:
        running = grouped_cummax(risk, corpus.k)
        order = np.lexsort((corpus.position, corpus.k))
        k, pos, val = corpus.k[order], corpus.position[order], running[order]
        rises = np.ones(len(order), dtype=bool)
        rises[1:] = (k[1:] != k[:-1]) | (val[1:] > val[:-1])
        return cls(k[rises], pos[rises], val[rises], corpus.n_authors)

    def first_flag(self, threshold: float) -> np.ndarray:
        big = np.iinfo(np.int64).max
        out = np.full(self.n_authors, big, dtype=np.int64)
        hit = self.value >= threshold
        np.minimum.at(out, self.k[hit], self.position[hit])
        out[out == big] = 0
        return out

    def peak(self) -> np.ndarray:
        out = np.full(self.n_authors, GATE_SHUT)
        np.maximum.at(out, self.k, self.value)
        return out


def benign_sources(role: np.ndarray, label: np.ndarray, rate: float) -> list[np.ndarray]:
    """Masks of the benign authors of each source with enough of them to measure a flag ``rate``."""
    benign = ~label
    masks = [benign & (role == r) for r in sorted({str(x) for x in role[benign]})]
    return [m for m in masks if m.sum() * rate >= 1.0]


def choose_threshold(
    records: RiskRecords, label: np.ndarray, role: np.ndarray, authors: np.ndarray, config: TrainingConfig
) -> float:
    """The threshold of the model, chosen only on ``authors`` (out-of-fold risks; see the module doc)."""
    values = records.value[(records.value > GATE_SHUT) & authors[records.k]]
    if not len(values):
        return 0.5
    candidates = np.unique(np.quantile(values, np.linspace(0.0, 1.0, 501)))
    candidates = candidates[candidates > 0.0]
    lab = label[authors]
    sources = benign_sources(role[authors], lab, config.max_false_alert_rate)
    best: dict[str, tuple[float, float]] = {}
    for threshold in candidates:
        first = records.first_flag(float(threshold))[authors]
        flagged = first > 0
        tp, fp = int(np.sum(flagged & lab)), int(np.sum(flagged & ~lab))
        fn = int(np.sum(~flagged & lab))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f05 = 1.25 * precision * recall / (0.25 * precision + recall) if precision + recall else 0.0
        fpr = max([fp / max(int((~lab).sum()), 1), *(float(flagged[m].mean()) for m in sources)])
        latency = float(np.median(first[flagged & lab])) if tp else math.inf
        tiers = ["any"]
        if fpr <= config.max_false_alert_rate:
            tiers.append("fpr")
            if latency <= config.target_median_messages:
                tiers.append("fpr+latency")
        for tier in tiers:
            if tier not in best or f05 > best[tier][0]:
                best[tier] = (f05, float(threshold))
    for tier in ("fpr+latency", "fpr", "any"):
        if tier in best:
            return best[tier][1]
    return 0.5


# --- cross-validation -------------------------------------------------------------------------------------


@dataclass(slots=True)
class CrossValidation:
    fold: np.ndarray
    language: np.ndarray  # out-of-fold language score of every message
    states: Advance
    raw: np.ndarray  # out-of-fold risk-model output of every message
    calibration: tuple[np.ndarray, np.ndarray]  # fitted on every training author (the shipped model's)
    decision_risk: np.ndarray  # risk calibrated by ``calibration``, GATE_SHUT where the gate is shut
    fold_thresholds: list[float]
    results: AuthorResults  # cross-fitted: each fold judged by a calibration and threshold of the others
    train_authors: np.ndarray


def cross_validate(
    corpus: Corpus,
    config: TrainingConfig,
    progress: Progress = _quiet,
    exclude: np.ndarray | None = None,
    ablation: Ablation = Ablation(),
) -> CrossValidation:
    """Grouped k-fold. ``exclude`` marks authors never used for training (leave-one-source-out)."""
    train_authors = np.ones(corpus.n_authors, dtype=bool) if exclude is None else ~exclude
    fold = assign_folds(corpus, config.folds, config.seed)
    folds = int(fold.max()) + 1
    language = np.zeros(len(corpus.messages))
    for f in range(folds if ablation.language else 0):
        progress(f"language model, fold {f + 1}/{folds}")
        coef, intercept = fit_language(corpus, language_rows(corpus, train_authors & (fold != f)), config)
        rows = np.flatnonzero(fold[corpus.k] == f)
        language[rows] = language_scores(corpus, coef, intercept, rows)
    states = state_rows(corpus, language, config, ablation)
    x = states.features()
    ck_rows, ck_weight = checkpoint_rows(corpus, config.early_weight_power)
    raw = np.zeros(len(corpus.messages))
    for f in range(folds):
        progress(f"risk model, fold {f + 1}/{folds}")
        use = train_authors[corpus.k[ck_rows]] & (fold[corpus.k[ck_rows]] != f)
        model = fit_risk(x[ck_rows[use]], corpus.label[corpus.k[ck_rows[use]]], ck_weight[use], config)
        rows = np.flatnonzero(fold[corpus.k] == f)
        raw[rows] = model.decision_function(x[rows])

    def calibrated(authors: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
        use = authors[corpus.k[ck_rows]]
        curve = fit_calibration(raw[ck_rows[use]], corpus.label[corpus.k[ck_rows[use]]], ck_weight[use])
        return curve, np.where(states.open, np.interp(raw, *curve), GATE_SHUT)

    calibration, decision_risk = calibrated(train_authors)
    first = np.zeros(corpus.n_authors, dtype=np.int64)
    thresholds = []
    for f in range(folds):
        # The test fold's labels choose nothing: its calibration and threshold come from the other folds.
        others = train_authors & (fold != f)
        records = RiskRecords.build(corpus, calibrated(others)[1])
        threshold = choose_threshold(records, corpus.label, corpus.role, others, config)
        thresholds.append(threshold)
        in_fold = fold == f
        first[in_fold] = records.first_flag(threshold)[in_fold]
    author_conv = np.zeros(corpus.n_authors, dtype=np.int64)
    author_conv[corpus.k] = corpus.v
    results = AuthorResults(
        label=corpus.label,
        role=corpus.role,
        conversation=author_conv,
        # Only "recall at a false-positive rate" reads the peaks, and it sets its own cut on them, so they
        # rank by the risk model's output before calibration: isotonic calibration ties its top block at
        # 1.0, and two benign authors there would leave no cut at 0.1% however the groomers rank.
        peak=peaks(corpus.k, np.where(states.open, 1.0 / (1.0 + np.exp(-raw)), 0.0), corpus.n_authors),
        first_flag=first,
        messages=corpus.author_messages(),
    )
    return CrossValidation(
        fold, language, states, raw, calibration, decision_risk, thresholds, results, train_authors
    )


# --- the shipped model --------------------------------------------------------------------------------------


def train(
    conversations: list[Conversation],
    config: TrainingConfig | None = None,
    progress: Progress = _quiet,
    corpus: Corpus | None = None,
) -> tuple[GroomingModel, dict[str, Any]]:
    """Fit the model on all the data (with cross-validated calibration and threshold) and report the
    cross-validated figures."""
    config = config or TrainingConfig()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        corpus = corpus or build_corpus(conversations, config.hashing, progress)
        if not corpus.label.any() or corpus.label.all():
            raise NoTrainingData("training needs labelled groomers and other authors")
        cv = cross_validate(corpus, config, progress)
        progress("final models on all the data")
        coef, intercept = fit_language(
            corpus, language_rows(corpus, np.ones(corpus.n_authors, dtype=bool)), config
        )
        x = cv.states.features()  # out-of-fold language scores, as at cross-validation
        ck_rows, ck_weight = checkpoint_rows(corpus, config.early_weight_power)
        risk_model = fit_risk(x[ck_rows], corpus.label[corpus.k[ck_rows]], ck_weight, config)
        records = RiskRecords.build(corpus, cv.decision_risk)
        everyone = np.ones(corpus.n_authors, dtype=bool)
        threshold = choose_threshold(records, corpus.label, corpus.role, everyone, config)
    report = {
        "library": {"scikit-learn": sklearn.__version__, "numpy": np.__version__},
        "config": asdict(config),
        "data": {
            "fingerprint": corpus.fingerprint,
            "conversations": len(corpus.conversations),
            "messages": len(corpus.messages),
            "authors": corpus.n_authors,
            "groomers": int(corpus.label.sum()),
            "roles": {r: int(np.sum(corpus.role == r)) for r in sorted(set(corpus.role.tolist()))},
        },
        "cross_validation": {
            "folds": int(cv.fold.max()) + 1,
            "fold_thresholds": [round(t, 6) for t in cv.fold_thresholds],
            "figures": summarise(cv.results),
        },
        "threshold": threshold,
    }
    model = GroomingModel(
        hashing=config.hashing,
        text_coef=coef,
        text_intercept=intercept,
        ensemble=TreeEnsemble.from_sklearn(risk_model),
        calibration_x=cv.calibration[0],
        calibration_y=cv.calibration[1],
        threshold=threshold,
        ungated_cap=config.ungated_cap_ratio * threshold,
        max_gate_participants=config.max_gate_participants,
        report=_rounded(report),
    )
    return model, report


def _rounded(value: Any) -> Any:
    """Round floats in the report so the model header does not depend on the last bits of a sum."""
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return round(float(value), 6)
    return value
