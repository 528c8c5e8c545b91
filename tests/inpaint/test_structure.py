"""retouch.inpaint._structure: straight edges continued through a hole before the exemplar fill."""

from __future__ import annotations

import numpy as np

from retouch.inpaint import patchmatch
from retouch.inpaint import _structure as S


def _pole_photo(tilt: float = 0.0, seed: int = 0, stop: int = 160) -> np.ndarray:
    """A textured 160 x 200 grey-green field with a red pole 12 px wide (its centre at x = 100 + tilt * y), down to row ``stop``."""
    rng = np.random.default_rng(seed)
    h, w = 160, 200
    img = np.empty((h, w, 3), np.float32)
    img[...] = (90, 120, 80)
    img += rng.normal(0, 6, (h, w, 1))
    yy, xx = np.mgrid[0:h, 0:w]
    pole = (np.abs(xx - (100 + tilt * yy)) < 6) & (yy < stop)
    img[pole] = (200, 30, 30)
    return np.clip(img, 0, 255).astype(np.uint8)


def _blob(shape, cy, cx, r):
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    return (yy - cy) ** 2 + (xx - cx) ** 2 < r * r


def _edge_x(row: np.ndarray) -> tuple[int, int]:
    """First and last column of a row whose red channel is pole-red."""
    red = np.nonzero((row[:, 0].astype(int) > 150) & (row[:, 1].astype(int) < 80))[0]
    return int(red.min()), int(red.max())


def test_a_pole_behind_a_hole_is_linked_along_its_edges():
    img = _pole_photo()
    hole = _blob(img.shape, 80, 100, 30)
    f = img.astype(np.float32)
    found = S.links(S.segments(S._grey(f, hole), hole), hole)
    assert 1 <= len(found) <= 2  # the pole's edges (a short piece's direction may be too rough to link)
    for x0, y0, x1, y1 in found:
        assert abs(x0 - x1) < 2 and abs(abs(y1 - y0) - 60) < 20  # vertical, across the hole
        assert min(abs(x0 - 94), abs(x0 - 106)) < 2


def test_the_fill_continues_the_pole_where_the_edges_were():
    img = _pole_photo(tilt=0.15)
    hole = _blob(img.shape, 80, 100, 30)
    out = patchmatch(img, hole, seed=3)
    # the fill keeps the bands the line step carried along the pole's edges (the exemplar fill alone also
    # keeps this easy pole, so the bands are what tells the step was taken)
    f = img.astype(np.float32)
    f[hole] = 0
    carried, left = S.continue_lines(f, hole, ~hole)
    band = hole & ~left
    assert band.sum() > 60
    assert np.abs(out[band].astype(int) - np.rint(carried[band]).astype(int)).max() <= 1
    assert np.abs(patchmatch(img, hole, seed=3, lines=False)[band].astype(int) - np.rint(carried[band]).astype(int)).max() > 1
    for y in (60, 80, 100):  # rows through the hole
        lo, hi = _edge_x(out[y])
        cx = 100 + 0.15 * y
        assert abs(lo - (cx - 6)) <= 2 and abs(hi - (cx + 5)) <= 2, (y, lo, hi, cx)
    assert (out[~hole] == img[~hole]).all()


def test_nothing_changes_without_a_partner_on_the_far_side():
    img = _pole_photo(stop=95)  # the pole stops behind the hole: field below
    hole = _blob(img.shape, 80, 100, 30)
    f = img.astype(np.float32)
    assert S.links(S.segments(S._grey(f, hole), hole), hole) == []
    a = patchmatch(img, hole, seed=1)
    b = patchmatch(img, hole, seed=1, lines=False)
    assert (a == b).all()


def test_offset_lines_are_not_joined():
    img = _pole_photo()
    yy, xx = np.mgrid[0:160, 0:200]
    img[(yy > 80) & (np.abs(xx - 100) < 6)] = (90, 120, 80)
    img[(yy > 80) & (np.abs(xx - 130) < 6)] = (200, 30, 30)  # the lower half 30 px to the right
    hole = _blob(img.shape, 80, 110, 28)
    f = img.astype(np.float32)
    assert S.links(S.segments(S._grey(f, hole), hole), hole) == []


def test_bands_take_no_pixel_the_source_mask_forbids():
    img = _pole_photo()
    yy, xx = np.mgrid[0:160, 0:200]
    img[(yy >= 110) & (np.abs(xx - 100) < 6)] = (30, 30, 200)  # below the hole the pole is blue
    hole = _blob(img.shape, 80, 100, 30)
    f = img.astype(np.float32)
    f[hole] = 0
    # allowed everywhere: the band blends toward the blue pole further down
    out, left = S.continue_lines(f, hole, ~hole)
    band = hole & ~left
    assert band.any() and (out[band][:, 2] > 100).any()
    # nothing below the hole may be copied: no blue in the band
    allowed = ~hole
    allowed[100:, :] = False
    out, left = S.continue_lines(f, hole, allowed)
    band = hole & ~left
    assert band.any() and (out[band][:, 2] < 100).all()
    # and with nothing allowed on either side, the band stays in the hole
    out2, left2 = S.continue_lines(f, hole, np.zeros_like(hole))
    assert (left2 == hole).all()


def test_band_pixels_take_the_colour_of_their_side_of_the_edge():
    img = _pole_photo(tilt=0.15)
    hole = _blob(img.shape, 80, 100, 30)
    f = img.astype(np.float32)
    f[hole] = 0
    out, left = S.continue_lines(f, hole, ~hole)
    band = hole & ~left
    assert band.sum() > 60
    ys, xs = np.nonzero(band)
    centre = 100 + 0.15 * ys
    # across the pole's direction (unit normal of x - 0.15 y): pixels well inside the pole are red, well outside field
    across = (xs - centre) / np.hypot(1, 0.15)
    inside = np.abs(across) < 4.5
    outside = np.abs(across) > 7.0
    assert inside.any() and outside.any()
    px = out[ys, xs]
    assert (px[inside, 0] > 150).all() and (px[inside, 1] < 80).all()
    assert (px[outside, 0] < 130).all() and (px[outside, 1] > 90).all()
