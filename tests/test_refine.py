"""retouch.refine: mask morphology."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from retouch import refine
from retouch.validate import RetouchError

OPS = [
    (refine.grow, {"pixels": 3}),
    (refine.shrink, {"pixels": 3}),
    (refine.opening, {"pixels": 2}),
    (refine.closing, {"pixels": 2}),
    (refine.fill_holes, {}),
    (refine.remove_small, {"min_size": 10}),
    (refine.keep_largest, {}),
    (refine.invert, {}),
    (refine.smooth, {"sigma": 2}),
]


@pytest.fixture
def blobs() -> np.ndarray:
    m = np.zeros((60, 80), bool)
    m[10:30, 10:40] = True  # a big rectangle
    m[18:22, 20:24] = False  # with a hole
    m[45, 60] = True  # a speck
    m[40:50, 5:9] = True  # a small part
    m.setflags(write=False)
    return m


@pytest.mark.parametrize("op, kwargs", OPS)
def test_shape_dtype_and_input_unchanged(blobs, op, kwargs):
    before = blobs.copy()
    out = op(blobs, **kwargs)
    assert out.shape == blobs.shape and out.dtype == bool
    assert np.array_equal(blobs, before)
    assert out is not blobs


@pytest.mark.parametrize("op, kwargs", OPS)
def test_bad_mask_message(op, kwargs):
    with pytest.raises(RetouchError, match=r"mask must be a bool array \(True = fill\), got dtype uint8; convert it with mask > 0"):
        op(np.zeros((4, 4), np.uint8), **kwargs)


def test_grow_is_euclidean_disk():
    m = np.zeros((21, 21), bool)
    m[10, 10] = True
    g = refine.grow(m, pixels=5)
    yy, xx = np.mgrid[:21, :21]
    assert np.array_equal(g, (yy - 10) ** 2 + (xx - 10) ** 2 <= 25)


def test_shrink_is_dual_of_grow():
    # erosion by a disk is the complement of dilating the complement by the same disk
    yy, xx = np.mgrid[:41, :41]
    disk = (yy - 20) ** 2 + (xx - 20) ** 2 <= 100
    assert np.array_equal(refine.shrink(disk, pixels=3), ~refine.grow(~disk, pixels=3))
    # and the shrunk disk is about 3 px smaller in radius (digital disks: within half a pixel)
    s = refine.shrink(disk, pixels=3)
    r = np.sqrt((yy - 20) ** 2 + (xx - 20) ** 2)
    assert r[s].max() <= 7.6 and (r <= 6.5).sum() <= s.sum()


def test_shrink_does_not_erode_from_image_border():
    m = np.ones((10, 10), bool)
    m[:, 7:] = False
    s = refine.shrink(m, pixels=2)
    assert s[0, 0] and s[9, 0]  # touching the border, still selected
    assert not s[:, 5:].any()


def test_negative_pixels_refused():
    with pytest.raises(RetouchError, match=r"refine method 'grow': pixels: Input should be greater than or equal to 0 \(got -1\)"):
        refine.grow(np.zeros((3, 3), bool), pixels=-1)


def test_open_removes_speck_keeps_body(blobs):
    o = refine.opening(blobs, pixels=1)
    assert not o[45, 60]
    assert o[15, 15]
    assert not (o & ~blobs).any()  # opening never adds


def test_close_bridges_gap():
    m = np.zeros((20, 20), bool)
    m[5:15, 2:9] = True
    m[5:15, 11:18] = True  # gap of 2 px at columns 9-10
    c = refine.closing(m, pixels=2)
    assert c[10, 9] and c[10, 10]
    assert not (m & ~c).any()  # closing never removes


def test_fill_holes(blobs):
    f = refine.fill_holes(blobs)
    assert f[20, 21]
    assert not f[45, 61]  # background outside stays
    only_small = refine.fill_holes(blobs, max_size=3)
    assert not only_small[20, 21]  # the 16-px hole is bigger than 3


def test_fill_holes_matches_scipy():
    rng = np.random.default_rng(0)
    m = ndi.binary_opening(rng.random((64, 64)) > 0.45)
    assert np.array_equal(refine.fill_holes(m), ndi.binary_fill_holes(m))


def test_remove_small_and_keep_largest(blobs):
    r = refine.remove_small(blobs, min_size=2)
    assert not r[45, 60] and r[45, 6]
    k = refine.keep_largest(blobs)
    assert k[15, 15] and not k[45, 6] and not k[45, 60]
    k2 = refine.keep_largest(blobs, count=2)
    assert k2[45, 6] and not k2[45, 60]


def test_keep_largest_empty_mask():
    assert not refine.keep_largest(np.zeros((5, 5), bool)).any()


def test_invert_and_combine():
    a = np.array([[True, True, False, False]])
    b = np.array([[True, False, True, False]])
    assert refine.invert(a).tolist() == [[False, False, True, True]]
    assert refine.combine(a, b, op="union").tolist() == [[True, True, True, False]]
    assert refine.combine(a, b, op="intersection").tolist() == [[True, False, False, False]]
    assert refine.combine(a, b, op="difference").tolist() == [[False, True, False, False]]
    assert refine.combine(a, b, op="xor").tolist() == [[False, True, True, False]]


def test_combine_errors():
    a = np.zeros((4, 5), bool)
    with pytest.raises(RetouchError, match=r"b is 4x3 but a is 5x4 \(width x height\); they must be the same size"):
        refine.combine(a, np.zeros((3, 4), bool))
    with pytest.raises(RetouchError, match=r"op must be one of union, intersection, difference, xor; got 'both'"):
        refine.combine(a, a, op="both")


def test_feather_ramp_inside_mask_only(blobs):
    w = refine.feather(blobs, radius=4)
    assert w.dtype == np.float32 and w.shape == blobs.shape
    assert (w[~blobs] == 0).all()
    assert w.max() == 1.0 and w.min() == 0.0
    assert 0 < w[10, 25] < 1  # on the edge, soft
    assert refine.feather(blobs, radius=0).tolist() == blobs.astype(np.float32).tolist()


def test_smooth_rounds_corners():
    m = np.zeros((30, 30), bool)
    m[5:25, 5:25] = True
    s = refine.smooth(m, sigma=3)
    assert not s[5, 5] and s[15, 15]


def test_on_a_real_segmentation(coffee):
    # A rough colour selection of the dark saucer rim cleaned up: fewer parts, no holes.
    rough = (coffee[..., 0] > 120) & (coffee[..., 1] < 60)
    n_before = ndi.label(rough)[1]
    clean = refine.fill_holes(refine.remove_small(refine.closing(rough, pixels=2), min_size=200))
    n_after = ndi.label(clean)[1]
    assert n_after < n_before / 5
    assert clean.sum() > 0.8 * rough.sum()
