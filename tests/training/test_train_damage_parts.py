"""training.train_damage_parts: a part is damage when half of it lies within 2 px of the truth; clean photos give no damage rows."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

pytest.importorskip("sklearn")

from retouch.segment.defects.damage_parts import FEATURES  # noqa: E402
from training.train_damage_parts import part_rows  # noqa: E402


def test_rows_label_the_parts_on_the_truth():
    clean = np.full((120, 160, 3), 110, np.uint8)
    damaged = clean.copy()
    cv2.polylines(damaged, [np.array([[20, 20], [60, 50], [90, 45], [140, 100]], np.int32).reshape(-1, 1, 2)], False, (235, 235, 235), 2)
    damaged[90:94, 30:34] = 240
    truth = (np.abs(damaged.astype(int) - clean).max(axis=2) >= 10).astype(np.uint8)
    x, y, area = part_rows(damaged, truth)
    assert x.shape == (len(y), len(FEATURES)) and len(y) == len(area)
    assert y.any() and area[y].sum() >= 0.8 * area.sum()  # the parts are the crack and the speck
    x, y, area = part_rows(clean, None)
    assert not y.any()
