"""training.export: scikit-learn's boosted trees written as the arrays retouch walks.

The boosted trees are trained with scikit-learn (a test extra, not a
dependency of ``retouch``) and run by retouch's own numba loop
(:mod:`retouch.segment.defects.trees`); these tests check that the arrays
written by ``save_boosted`` give exactly scikit-learn's probabilities.
"""

from __future__ import annotations

import numpy as np
import pytest

from retouch.segment.defects import trees
from training.export import save_boosted


def _fitted(rows: int = 3000, seed: int = 0):
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 5)).astype(np.float32)
    y = ((x[:, 0] * x[:, 1] > 0.2) | (x[:, 2] > 1.5)).astype(np.int32)  # needs interactions: deep trees
    x[rng.random(rows) < 0.05, 3] = np.nan  # missing values take the side the training chose
    model = HistGradientBoostingClassifier(max_iter=30, max_leaf_nodes=15, early_stopping=False, random_state=0)
    return model.fit(x, y, sample_weight=rng.uniform(0.5, 2, rows)), x


def test_boosted_arrays_give_sklearns_probabilities(tmp_path):
    model, x = _fitted()
    path = tmp_path / "model.npz"
    save_boosted(path, model)
    rng = np.random.default_rng(1)
    fresh = rng.normal(size=(9000, 5)).astype(np.float32)  # more rows than one chunk
    fresh[::7, 3] = np.nan
    fresh[::11, 0] = np.nan
    for rows in (x, fresh, fresh[:1]):
        p = trees.boosted_probability(path, rows)
        assert p.shape == (len(rows),) and p.dtype == np.float64
        np.testing.assert_allclose(p, model.predict_proba(rows)[:, 1], rtol=0, atol=1e-12)
    # the model is not trivial: it tells the classes apart on rows it was not fitted on
    truth = (fresh[:, 0] * fresh[:, 1] > 0.2) | (fresh[:, 2] > 1.5)
    ok = ~np.isnan(fresh).any(axis=1)
    assert ((trees.boosted_probability(path, fresh) >= 0.5) == truth)[ok].mean() > 0.9
    assert trees.boosted_probability(path, np.zeros((0, 5), np.float32)).shape == (0,)


def test_boosted_refuses_categorical_splits(tmp_path):
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(0)
    x = np.stack([rng.integers(0, 4, 500), rng.normal(size=500)], 1)
    model = HistGradientBoostingClassifier(max_iter=5, categorical_features=[0], random_state=0).fit(x, x[:, 0] % 2)
    with pytest.raises(ValueError, match="categorical splits are not supported"):
        save_boosted(tmp_path / "m.npz", model)
    assert not (tmp_path / "m.npz").exists()
