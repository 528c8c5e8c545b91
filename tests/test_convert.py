"""retouch.convert: conversions at the edges."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import color as skcolor

from retouch import convert as c


def test_float_round_trips():
    for dtype in (np.uint8, np.uint16):
        info = np.iinfo(dtype)
        a = np.array([[0, 1, info.max // 2, info.max]], dtype)
        f = c.to_float(a)
        assert f.dtype == np.float32 and f.max() == 1.0
        assert np.array_equal(c.from_float(f, dtype), a)
    f = np.array([[0.25]], np.float32)
    assert c.to_float(f) is not f


def test_to_uint8_from_16bit_rounds():
    assert c.to_uint8(np.array([0, 128, 257, 65535], np.uint16)).tolist() == [0, 0, 1, 255]


def test_alpha_split_merge():
    rgba = np.random.default_rng(0).integers(0, 256, (3, 4, 4), dtype=np.uint8)
    color, alpha = c.split_alpha(rgba)
    assert color.shape == (3, 4, 3) and alpha.shape == (3, 4)
    assert np.array_equal(c.merge_alpha(color, alpha), rgba)
    grey1 = rgba[..., :1]
    g, a = c.split_alpha(grey1)
    assert g.shape == (3, 4) and a is None
    assert c.merge_alpha(g, None, like=grey1).shape == (3, 4, 1)


def test_lab_matches_scikit_image(chelsea):
    ours = c.to_lab(chelsea)
    ref = skcolor.rgb2lab(chelsea)
    assert np.abs(ours - ref).max() < 0.5  # OpenCV's float sRGB/D65 path


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_lab_and_gray_same_for_every_dtype(chelsea, dtype):
    img = chelsea if dtype == np.uint8 else (chelsea.astype(np.uint16) * 257 if dtype == np.uint16 else chelsea.astype(np.float32) / 255)
    assert np.abs(c.to_lab(img) - c.to_lab(chelsea)).max() < 1e-3
    assert np.abs(c.to_gray(img) - c.to_gray(chelsea)).max() < 1e-5


def test_hsv_ranges(chelsea):
    hsv = c.to_hsv(chelsea)
    assert 0 <= hsv[..., 0].min() and hsv[..., 0].max() < 360
    assert hsv[..., 1:].max() <= 1.0


def test_bgr_swap_is_its_own_inverse(chelsea):
    bgr = c.to_bgr(chelsea)
    assert np.array_equal(bgr[..., 0], chelsea[..., 2])
    assert np.array_equal(c.from_bgr(bgr), chelsea)


def test_paste_keeps_outside_identical(chelsea):
    mask = np.zeros(chelsea.shape[:2], bool)
    mask[10:20, 10:20] = True
    out = c.paste(chelsea, np.zeros_like(chelsea), mask)
    assert (out[mask] == 0).all() and np.array_equal(out[~mask], chelsea[~mask])


def test_overlay(chelsea):
    mask = np.zeros(chelsea.shape[:2], bool)
    mask[50:100, 50:100] = True
    ov = c.overlay(chelsea, mask)
    assert ov.dtype == np.uint8 and ov.shape == chelsea.shape
    assert np.array_equal(ov[0:40, 0:40], chelsea[0:40, 0:40])
    assert (ov[75, 75] != chelsea[75, 75]).any()
    assert c.overlay(chelsea[..., 0], mask).shape == chelsea.shape
