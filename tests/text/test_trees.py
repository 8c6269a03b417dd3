from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from safeguard.text.trees import TreeEnsemble


@pytest.fixture(scope="module")
def fitted() -> tuple[HistGradientBoostingClassifier, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 6))
    y = (x[:, 0] + x[:, 1] * x[:, 2] + rng.normal(size=2000) > 0).astype(int)
    model = HistGradientBoostingClassifier(max_iter=40, max_leaf_nodes=15, random_state=0).fit(x, y)
    return model, rng.normal(size=(3000, 6))


def test_numpy_and_compiled_walks_equal_scikit_learn(
    fitted: tuple[HistGradientBoostingClassifier, np.ndarray],
) -> None:
    model, x = fitted
    ensemble = TreeEnsemble.from_sklearn(model)
    expected = model.decision_function(x)
    assert np.allclose(ensemble.decision_function(x), expected, atol=1e-9)  # compiled walk (large batch)
    assert np.allclose(ensemble.decision_function_numpy(x), expected, atol=1e-9)
    assert np.allclose(ensemble.decision_function(x[:3]), expected[:3], atol=1e-9)  # numpy walk (small)


def test_arrays_round_trip_and_bad_arrays_are_refused(
    fitted: tuple[HistGradientBoostingClassifier, np.ndarray],
) -> None:
    model, x = fitted
    ensemble = TreeEnsemble.from_sklearn(model)
    arrays = ensemble.to_arrays("t_")
    again = TreeEnsemble.from_arrays(arrays, "t_")
    assert np.array_equal(again.decision_function(x), ensemble.decision_function(x))
    broken = dict(arrays)
    left = arrays["t_left"].copy()
    inner = np.flatnonzero(~arrays["t_is_leaf"])
    left[inner[0]] = inner[0]  # a node pointing at itself would loop forever
    broken["t_left"] = left
    with pytest.raises(ValueError, match="parent-before-child"):
        TreeEnsemble.from_arrays(broken, "t_")
    broken["t_left"] = np.full_like(left, 10**6)
    with pytest.raises(ValueError, match="out of range"):
        TreeEnsemble.from_arrays(broken, "t_")
