"""retouch.segment.defects.trees: the tree models the damage detectors ship with.

The arrays ``training/export.py`` writes are checked against scikit-learn in
``tests/training/test_export.py``; here, that a missing model says what to do
and that the shipped models read the measures ``spots`` makes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retouch.segment.defects import specks as ds
from retouch.segment.defects import trees


def test_missing_model_says_reinstall():
    with pytest.raises(FileNotFoundError, match="reinstall retouch"):
        trees.load_boosted(Path("no-such-model.npz"))


def test_shipped_spot_models_read_spots_measures():
    """Both spot models ship, split only on columns ``features`` makes, and reach a leaf in every tree."""
    for path in ds.MODELS.values():
        assert path.is_file()
        m = trees.load_boosted(path)
        assert m["feature"].max() < len(ds.FEATURES) + 1
        assert len(m["roots"]) > 50
        leaf = m["left"] == np.arange(len(m["left"]))
        assert np.array_equal(leaf, m["right"] == np.arange(len(m["right"])))
        # every node's children are in its own tree: below the next tree's root
        nxt = np.append(m["roots"][1:], len(m["left"]))
        tree = np.searchsorted(m["roots"], np.arange(len(m["left"])), side="right") - 1
        assert (m["left"] < nxt[tree]).all() and (m["right"] < nxt[tree]).all()
