"""The tree models the damage detectors ship with: loading them once, and what they say of a row.

Two kinds, each saved in ``models/`` beside this module by a script under
``training/``:

- a random forest, OpenCV's ``cv2.ml.RTrees`` saved as gzipped YAML
  (``train_scratches.py``); what it says of a row is the share of its trees
  that vote for class 1. OpenCV's ``getVotes`` is not documented as safe to
  call from several threads on one forest, so every call holds one lock;
- gradient-boosted trees (``train_spots.py``, fitted by scikit-learn's
  ``HistGradientBoostingClassifier``) written out as plain arrays in a
  ``.npz`` file (``training/export.py``'s ``save_boosted``) and walked by a numba loop, so
  running them needs no scikit-learn; what they say of a row is the
  probability of class 1.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from numba import njit

__all__ = ["load", "probability", "vote_share", "load_boosted", "boosted_probability"]

_LOCK = threading.Lock()


@lru_cache(maxsize=4)
def load(path: Path) -> cv2.ml.RTrees:
    """The forest saved at ``path`` (read once per process)."""
    if not path.is_file():
        raise FileNotFoundError(f"retouch's model {path} is missing: reinstall retouch")
    return cv2.ml.RTrees_load(str(path))


def probability(path: Path, x: np.ndarray) -> np.ndarray:
    """The share of the trees of the forest at ``path`` that vote for class 1 on each row of ``x``."""
    if len(x) == 0:
        return np.zeros(0)
    forest = load(path)
    with _LOCK:
        return vote_share(forest, x)


def vote_share(forest: cv2.ml.RTrees, x: np.ndarray) -> np.ndarray:
    """The share of ``forest``'s trees that vote for class 1 on each row of ``x``."""
    votes = forest.getVotes(np.ascontiguousarray(x, np.float32), 0)  # first row: class labels; then counts
    labels = [int(c) for c in votes[0]]
    if 1 not in labels:
        return np.zeros(len(x))
    counts = votes[1:].astype(np.float64)
    return counts[:, labels.index(1)] / np.maximum(counts.sum(axis=1), 1.0)


# --- gradient-boosted trees as arrays -------------------------------------------------------------

BOOSTED_FIELDS = ("feature", "threshold", "missing_left", "left", "right", "value", "roots", "baseline")


@lru_cache(maxsize=4)
def load_boosted(path: Path) -> dict[str, np.ndarray]:
    """The arrays of the boosted trees saved at ``path`` (read once per process)."""
    if not path.is_file():
        raise FileNotFoundError(f"retouch's model {path} is missing: reinstall retouch")
    with np.load(path) as z:
        return {k: z[k] for k in BOOSTED_FIELDS}


def boosted_probability(path: Path, x: np.ndarray) -> np.ndarray:
    """The probability of class 1 that the boosted trees at ``path`` give each row of ``x``."""
    m = load_boosted(path)
    x = np.ascontiguousarray(x, np.float64)
    if len(x) == 0:
        return np.zeros(0)
    raw = _walk(x, m["feature"], m["threshold"], m["missing_left"], m["left"], m["right"], m["value"], m["roots"])
    return 1.0 / (1.0 + np.exp(-(m["baseline"] + raw)))


@njit(cache=True, nogil=True)
def _walk(x, feature, threshold, missing_left, left, right, value, roots):  # pragma: no cover - compiled
    """The sum over the trees of the leaf value each row of ``x`` reaches (a leaf is its own child)."""
    out = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        total = 0.0
        for root in roots:
            node = root
            while left[node] != node:
                v = x[i, feature[node]]
                if np.isnan(v):
                    go_left = missing_left[node]
                else:
                    go_left = v <= threshold[node]
                node = left[node] if go_left else right[node]
            total += value[node]
        out[i] = total
    return out
