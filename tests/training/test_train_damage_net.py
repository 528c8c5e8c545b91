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


def test_online_crops_keep_planes_and_labels_together(monkeypatch):
    """The online trainer's crops are flipped and transposed at random: a crop's labels must stay on the
    pixels whose planes show the damage. A grey photo with white 3 x 3 specks, each speck labelled: in every
    crop the labelled pixels are exactly those whose difference from the median is bright."""
    photo = np.full((150, 170, 3), 100, np.uint8)
    labels = np.zeros(photo.shape[:2], np.uint8)
    for y, x in ((20, 30), (70, 120), (110, 40), (130, 150), (40, 90)):
        photo[y : y + 3, x : x + 3] = 250
        labels[y : y + 3, x : x + 3] = 2
    photo[5:8, 160:163] = 250  # a speck left unlabelled must show as unlabelled: the test would see a swap

    def versions(folder, rng, negative_share):
        while True:
            yield photo, labels

    monkeypatch.setattr(tdn, "_online_versions", versions)
    crops = tdn._online_crops(None, seed=3, crop=64, per_version=4, negative_share=0.0, pool=2)
    seen = 0
    for _ in range(40):
        x, y = next(crops)
        assert x.shape == (6, 64, 64) and x.dtype == np.float32 and y.shape == (64, 64) and y.dtype == np.int64
        bright = x[3] > 1.0  # (250 - 100) / 255 * 4 in the red difference plane
        unlabelled_speck = bright & (y == 0)
        assert np.array_equal(bright & (y > 0), y > 0)
        # an unlabelled bright pixel can only be the one unlabelled speck (at most 9 pixels)
        assert unlabelled_speck.sum() <= 9
        seen += int((y > 0).any())
    assert seen >= 10  # half the crops are centred near a labelled pixel



def test_online_crops_of_clean_versions_centre_on_the_networks_mistakes(monkeypatch):
    """With ``hot`` networks, most crops of a clean version are centred near what those networks take for
    damage (the hard negatives the shipped network was trained with); without, crops fall anywhere. A flat
    photo with one red square where the (stand-in) network errs: count the crops that hold the square."""
    from retouch.segment.defects import damage_net

    photo = np.full((300, 400, 3), 120, np.uint8)
    photo[20:30, 350:360] = (230, 20, 20)
    zero = np.zeros(photo.shape[:2], np.uint8)

    def versions(folder, rng, negative_share):
        while True:
            yield photo, zero

    def damage_map(rgb):
        p = np.zeros(rgb.shape[:2], np.float32)
        p[20:30, 350:360] = 0.9
        return p, np.ones(rgb.shape[:2], np.uint8)

    monkeypatch.setattr(tdn, "_online_versions", versions)
    monkeypatch.setattr(damage_net, "damage_map", damage_map)
    monkeypatch.setattr(damage_net, "NET", damage_net.NET)  # _online_crops points it at each hot network
    share = {}
    for name, hot in (("hot", ("stand-in.onnx",)), ("none", ())):
        crops = tdn._online_crops(None, seed=5, crop=64, per_version=8, negative_share=0.0, pool=2, hot=hot)
        held = 0
        for _ in range(300):
            x, y = next(crops)
            assert not y.any()
            held += int((x[0] > 0.3).sum() == 100)  # the whole red square (red - 0.5 > 0.3) is in the crop
        share[name] = held / 300
    assert 0.55 < share["hot"] < 0.85 and share["none"] < 0.15, share
