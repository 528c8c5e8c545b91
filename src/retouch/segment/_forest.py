"""The random forests the damage detectors ship with: loading them once, and their vote share.

Each forest is an OpenCV random forest (``cv2.ml.RTrees``) saved as
gzipped YAML next to this module by a training script under
``benchmarks/`` (``train_spots.py``, ``train_scratches.py``). OpenCV's
``getVotes`` is not documented as safe to call from several threads on one
forest, so every call holds one lock.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

__all__ = ["load", "probability", "vote_share"]

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
