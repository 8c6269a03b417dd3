"""A fitted scikit-learn ``HistGradientBoostingClassifier`` as plain arrays.

Why not pickle the estimator: a pickle runs code when it is loaded (a model file from elsewhere would be
a way in), and breaks across scikit-learn versions. The trees are a handful of arrays; storing them in
the model's ``.npz`` (loaded with ``allow_pickle=False``) is safe and version-proof.

Evaluation: small batches (the API's one message) walk all trees at once with numpy (~0.1 ms); large
batches hand the same node arrays to scikit-learn's compiled tree walker, which is about 20 times faster
per row than the numpy walk (measured on 100,000 rows, 200 trees). ``tests/text/test_trees.py`` checks
both against the fitted estimator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

_CHUNK_ROWS = 8_192
_COMPILED_MIN_ROWS = 256

try:  # scikit-learn's compiled tree walker (private API; the numpy walk is the fallback)
    from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
except ImportError:  # pragma: no cover - depends on the scikit-learn version
    TreePredictor = None


@dataclass(frozen=True)
class TreeEnsemble:
    feature: np.ndarray  # int32, per node
    threshold: np.ndarray  # float64, go left when x <= threshold
    left: np.ndarray  # int32, global node index
    right: np.ndarray  # int32
    value: np.ndarray  # float64, leaf value (learning rate already applied)
    is_leaf: np.ndarray  # bool
    missing_left: np.ndarray  # bool, where NaN goes
    roots: np.ndarray  # int32, root node of each tree
    baseline: float

    @classmethod
    def from_sklearn(cls, model: Any) -> TreeEnsemble:
        """From a fitted binary ``HistGradientBoostingClassifier`` without categorical features."""
        predictors = [trees[0] for trees in model._predictors]
        parts: dict[str, list[np.ndarray]] = {k: [] for k in ("f", "t", "l", "r", "v", "leaf", "miss")}
        roots = []
        offset = 0
        for predictor in predictors:
            nodes = predictor.nodes
            if np.any(nodes["is_categorical"]):
                raise ValueError("categorical splits are not supported")
            roots.append(offset)
            parts["f"].append(nodes["feature_idx"].astype(np.int32))
            parts["t"].append(nodes["num_threshold"].astype(np.float64))
            parts["l"].append(nodes["left"].astype(np.int32) + offset)
            parts["r"].append(nodes["right"].astype(np.int32) + offset)
            parts["v"].append(nodes["value"].astype(np.float64))
            parts["leaf"].append(nodes["is_leaf"].astype(bool))
            parts["miss"].append(nodes["missing_go_to_left"].astype(bool))
            offset += len(nodes)
        return cls(
            feature=np.concatenate(parts["f"]),
            threshold=np.concatenate(parts["t"]),
            left=np.concatenate(parts["l"]),
            right=np.concatenate(parts["r"]),
            value=np.concatenate(parts["v"]),
            is_leaf=np.concatenate(parts["leaf"]),
            missing_left=np.concatenate(parts["miss"]),
            roots=np.asarray(roots, dtype=np.int32),
            baseline=float(np.ravel(model._baseline_prediction)[0]),
        )

    def decision_function(self, x: np.ndarray) -> np.ndarray:
        """Raw score (log-odds) of each row of ``x``."""
        x = np.ascontiguousarray(x, dtype=np.float64)
        if len(x) >= _COMPILED_MIN_ROWS:
            compiled = self._compiled()
            if compiled is not None:
                return self._decision_compiled(compiled, x)
        return self.decision_function_numpy(x)

    def decision_function_numpy(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        out = np.full(len(x), self.baseline)
        for start in range(0, len(x), _CHUNK_ROWS):
            block = x[start : start + _CHUNK_ROWS]
            rows = np.arange(len(block))[:, None]
            node = np.broadcast_to(self.roots, (len(block), len(self.roots))).copy()
            while True:
                leaf = self.is_leaf[node]
                if leaf.all():
                    break
                values = block[rows, self.feature[node]]
                go_left = (values <= self.threshold[node]) | (np.isnan(values) & self.missing_left[node])
                node = np.where(leaf, node, np.where(go_left, self.left[node], self.right[node]))
            out[start : start + len(block)] += self.value[node].sum(axis=1)
        return out

    def decision_one(self, x: np.ndarray) -> float:
        """:meth:`decision_function_numpy` for one row (``x`` of shape ``(n_features,)``), the same number.

        Every node's branch is decided at once for this row (leaves point to themselves), giving each
        node's successor; composing that map with itself (``step[step]``) until it spans the deepest
        tree takes every root to its leaf in a handful of array operations, whatever the depth. Measured
        on one row of the shipped model (100 trees, depth up to 13), same run on the loaded development
        machine: 68 us against 114 us for ``decision_function_numpy``, which re-gathers nodes level by
        level."""
        left, right, doublings = self._single_row_tables()
        values = x[self.feature]
        go_left = values <= self.threshold
        if np.isnan(x).any():
            go_left |= np.isnan(values) & self.missing_left
        step = np.where(go_left, left, right)
        for _ in range(doublings):
            step = step[step]
        return self.baseline + float(self.value[step[self.roots]].sum())

    def _single_row_tables(self) -> tuple[np.ndarray, np.ndarray, int]:
        cached: tuple[np.ndarray, np.ndarray, int] | None = self.__dict__.get("_single_row")
        if cached is not None:
            return cached
        own = np.arange(len(self.feature), dtype=np.int32)
        left = np.where(self.is_leaf, own, self.left)
        right = np.where(self.is_leaf, own, self.right)
        depth = np.zeros(len(self.feature), dtype=np.int64)
        for node in np.flatnonzero(~self.is_leaf).tolist():  # parents come before children (validate)
            depth[self.left[node]] = depth[self.right[node]] = depth[node] + 1
        deepest = int(depth.max(initial=0))
        cached = (left, right, max(deepest - 1, 0).bit_length())  # 2**doublings >= deepest
        object.__setattr__(self, "_single_row", cached)
        return cached

    def _compiled(self) -> list[Any] | None:
        cached: list[Any] | None = self.__dict__.get("_predictors")
        if cached is not None or TreePredictor is None:
            return cached
        predictors = []
        ends = [*self.roots[1:].tolist(), len(self.feature)]
        empty_bitsets = np.zeros((0, 8), dtype=np.uint32)
        for start, end in zip(self.roots.tolist(), ends, strict=True):
            nodes = np.zeros(end - start, dtype=PREDICTOR_RECORD_DTYPE)
            nodes["value"] = self.value[start:end]
            nodes["feature_idx"] = self.feature[start:end]
            nodes["num_threshold"] = self.threshold[start:end]
            nodes["missing_go_to_left"] = self.missing_left[start:end]
            nodes["is_leaf"] = self.is_leaf[start:end]
            inner = ~self.is_leaf[start:end]
            nodes["left"][inner] = self.left[start:end][inner] - start
            nodes["right"][inner] = self.right[start:end][inner] - start
            predictors.append(TreePredictor(nodes, empty_bitsets, empty_bitsets))
        object.__setattr__(self, "_predictors", predictors)
        return predictors

    def _decision_compiled(self, predictors: list[Any], x: np.ndarray) -> np.ndarray:
        known = np.zeros((0, 8), dtype=np.uint32)
        index_map = np.zeros(x.shape[1], dtype=np.uint32)
        out = np.full(len(x), self.baseline)
        for predictor in predictors:
            out += predictor.predict(x, known, index_map, 1)
        return out

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {
            f"{prefix}feature": self.feature,
            f"{prefix}threshold": self.threshold,
            f"{prefix}left": self.left,
            f"{prefix}right": self.right,
            f"{prefix}value": self.value,
            f"{prefix}is_leaf": self.is_leaf,
            f"{prefix}missing_left": self.missing_left,
            f"{prefix}roots": self.roots,
            f"{prefix}baseline": np.asarray([self.baseline]),
        }

    @classmethod
    def from_arrays(cls, arrays: Any, prefix: str) -> TreeEnsemble:
        ensemble = cls(
            feature=np.asarray(arrays[f"{prefix}feature"], dtype=np.int32),
            threshold=np.asarray(arrays[f"{prefix}threshold"], dtype=np.float64),
            left=np.asarray(arrays[f"{prefix}left"], dtype=np.int32),
            right=np.asarray(arrays[f"{prefix}right"], dtype=np.int32),
            value=np.asarray(arrays[f"{prefix}value"], dtype=np.float64),
            is_leaf=np.asarray(arrays[f"{prefix}is_leaf"], dtype=bool),
            missing_left=np.asarray(arrays[f"{prefix}missing_left"], dtype=bool),
            roots=np.asarray(arrays[f"{prefix}roots"], dtype=np.int32),
            baseline=float(np.asarray(arrays[f"{prefix}baseline"])[0]),
        )
        ensemble.validate()
        return ensemble

    def validate(self) -> None:
        """Refuse arrays that would index out of range or loop (a corrupt or hostile model file)."""
        size = len(self.feature)
        lengths = {len(a) for a in (self.threshold, self.left, self.right, self.value, self.is_leaf)}
        if lengths != {size} or len(self.missing_left) != size:
            raise ValueError("tree arrays have different lengths")
        inner = ~self.is_leaf
        for child in (self.left[inner], self.right[inner]):
            if child.size and (child.min() < 0 or child.max() >= size):
                raise ValueError("tree child index out of range")
        if self.roots.size and (self.roots.min() < 0 or self.roots.max() >= size):
            raise ValueError("tree root index out of range")
        # Children always come after their parent in scikit-learn's layout, which rules out cycles.
        index = np.flatnonzero(inner)
        if np.any(self.left[inner] <= index) or np.any(self.right[inner] <= index):
            raise ValueError("tree nodes are not in parent-before-child order")
