"""training.train_damage_net: crops read the planes the network reads of the whole photo; hard negatives are clean."""

from __future__ import annotations

import numpy as np

from retouch.segment.defects.damage_net import inputs
from training import train_damage_net as tdn


def test_crops_planes_are_the_whole_photos(astronaut):
    """A crop's planes are computed from the crop and the median's reach around it: the same numbers as the
    planes of the whole photo, cropped, inside and at the photo's borders (where the median is clipped)."""
    photo = np.ascontiguousarray(astronaut[:200, :240])
    labels = np.zeros(photo.shape[:2], np.uint8)
    labels[50:53, 60:63] = 2
    whole = inputs(photo)
    crops = tdn._Crops([(photo, labels)], seed=0)
    c = tdn.CROP
    for y0, x0 in ((0, 0), (3, 100), (60, 45), (200 - c, 240 - c), (117, 0)):
        x, y = crops.cut(0, y0, x0)
        assert np.array_equal(x, whole[y0 : y0 + c, x0 : x0 + c].transpose(2, 0, 1))
        assert np.array_equal(y, labels[y0 : y0 + c, x0 : x0 + c])
    x, y = crops.batch(5)
    assert x.shape == (5, whole.shape[2], c, c) and y.shape == (5, c, c) and y.dtype == np.int64


def test_hard_negatives_are_clean_versions(chelsea):
    """Six clean versions of a photo: sharpened, shrunk, grained, with a lattice, with scene marks; none is
    the photo itself and the lattice is drawn (a window's leads or rails change some pixels)."""
    photo = np.ascontiguousarray(chelsea)
    grey = np.repeat(photo.mean(axis=2, keepdims=True).astype(np.uint8), 3, axis=2)
    versions = list(tdn._negatives(3, photo, grey))
    assert len(versions) == 6
    assert all(v.dtype == np.uint8 and v.ndim == 3 for v in versions)
    assert versions[1].shape[:2] == (photo.shape[0] // 2, photo.shape[1] // 2)
    assert not np.array_equal(versions[0], photo)
    lattice = tdn.lattice(photo, 1)
    assert lattice.shape == photo.shape and 0.005 < (np.abs(lattice.astype(int) - photo).max(axis=2) > 10).mean() < 0.5
