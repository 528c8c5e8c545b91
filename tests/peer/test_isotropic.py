"""scikit-image 0.26 ``morphology/tests/test_isotropic.py``, re-pointed at ``retouch.refine``.

``isotropic_erosion`` / ``dilation`` / ``opening`` / ``closing`` are
``refine.shrink`` / ``grow`` / ``opening`` / ``closing`` with ``pixels`` = the
radius: Euclidean distances, and the image border does not count as outside.
The peer compares each with ``skimage.morphology``'s operation by
``disk(radius)``; so do these.

Peer cases that cannot transfer, and why:

- ``test_isotropic_erosion_spacing``: ``spacing`` (anisotropic pixels) is not
  a setting of retouch's refinements; pixels are square.
- ``test_out_argument``: ``out=``; retouch's functions are pure and return a
  new mask (and take bool masks, not a float image of ones).
"""

from __future__ import annotations

import numpy as np
from skimage import color, data, morphology
from skimage.util import img_as_bool

from retouch import refine

img = color.rgb2gray(data.astronaut())
bw_img = img > 100 / 255.0


# test_non_square_image
def test_non_square_image():
    got = refine.shrink(bw_img[:100, :200], pixels=3)
    want = img_as_bool(morphology.erosion(bw_img[:100, :200], morphology.disk(3)))
    assert np.array_equal(got, want)


# test_isotropic_erosion
def test_isotropic_erosion():
    want = img_as_bool(morphology.erosion(bw_img, morphology.disk(3)))
    assert np.array_equal(refine.shrink(bw_img, pixels=3), want)


# test_isotropic_dilation
def test_isotropic_dilation():
    want = img_as_bool(morphology.dilation(bw_img, morphology.disk(3)))
    assert np.array_equal(refine.grow(bw_img, pixels=3), want)


# test_isotropic_closing (issue 23 item 4: retouch padded with False and left border gaps open)
def test_isotropic_closing():
    want = img_as_bool(morphology.closing(bw_img, morphology.disk(3)))
    assert np.array_equal(refine.closing(bw_img, pixels=3), want)


# test_isotropic_opening
def test_isotropic_opening():
    want = img_as_bool(morphology.opening(bw_img, morphology.disk(3)))
    assert np.array_equal(refine.opening(bw_img, pixels=3), want)


# test_footprint_overflow
def test_footprint_overflow():
    m = np.zeros((20, 20), dtype=bool)
    m[2:19, 2:19] = True
    want = img_as_bool(morphology.erosion(m, morphology.disk(9)))
    assert np.array_equal(refine.shrink(m, pixels=9), want)


# --- issue 23 item 4: closing is what its docstring says, at the border too ---


def test_closing_is_shrink_of_grow_everywhere():
    rng = np.random.default_rng(23)
    for _ in range(5):
        m = rng.random((40, 50)) > 0.7
        for p in (1, 2.5, 4):
            assert np.array_equal(refine.closing(m, pixels=p), refine.shrink(refine.grow(m, pixels=p), pixels=p) | m)


def test_closing_bridges_a_gap_that_reaches_the_border():
    m = np.zeros((12, 20), bool)
    m[:, :9] = True
    m[:, 11:] = True  # a 2 px gap from the top edge to the bottom edge
    closed = refine.closing(m, pixels=2)
    assert closed.all()
    assert np.array_equal(closed, img_as_bool(morphology.closing(m, morphology.disk(2))))
