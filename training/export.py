"""Writing fitted models in the form retouch ships them.

:func:`save_boosted` turns scikit-learn's gradient-boosted trees into the plain
arrays that :mod:`retouch.segment.defects.trees` walks, so running the shipped
models needs no scikit-learn. It reads scikit-learn's private attributes
(``_predictors``, ``_baseline_prediction``), which is why it lives here, with
the training scripts, and not in the package; a test checks its arrays give
scikit-learn's own probabilities.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from retouch.segment.defects.trees import BOOSTED_FIELDS

__all__ = ["save_boosted"]


def save_boosted(path: Path, model) -> None:
    """Write a fitted binary ``sklearn.ensemble.HistGradientBoostingClassifier`` to ``path`` (``.npz``).

    Every tree's nodes go into one set of arrays (``roots``: where each tree
    starts); a leaf is its own left and right child. Only numerical splits
    are written (the models here are trained on numbers only).
    """
    trees = [predictor.nodes for (predictor,) in model._predictors]
    if any(bool(t["is_categorical"].any()) for t in trees):
        raise ValueError("categorical splits are not supported")
    sizes = [len(t) for t in trees]
    offsets = np.cumsum([0] + sizes[:-1])
    nodes = np.concatenate(trees)
    index = np.arange(len(nodes))
    shift = np.repeat(offsets, sizes)
    leaf = nodes["is_leaf"].astype(bool)
    arrays = {
        "feature": np.where(leaf, 0, nodes["feature_idx"]).astype(np.int32),
        "threshold": nodes["num_threshold"].astype(np.float64),
        "missing_left": nodes["missing_go_to_left"].astype(bool),
        "left": np.where(leaf, index, nodes["left"] + shift).astype(np.int32),
        "right": np.where(leaf, index, nodes["right"] + shift).astype(np.int32),
        "value": np.where(leaf, nodes["value"], 0.0).astype(np.float64),
        "roots": offsets.astype(np.int32),
        "baseline": np.float64(np.ravel(model._baseline_prediction)[0]),
    }
    assert tuple(arrays) == BOOSTED_FIELDS, "the arrays trees.load_boosted reads"
    np.savez_compressed(path, **arrays)
