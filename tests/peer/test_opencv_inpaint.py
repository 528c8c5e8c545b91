"""OpenCV ``modules/photo/test/test_inpaint.cpp``, re-pointed at ``retouch.inpaint.telea`` / ``navier_stokes``.

Read from opencv/opencv at commit 0dd31c3bba49e26298458ce2e18969a31dbd7df8
(the stored copy found with the search tool). OpenCV's masks are 8-bit,
non-zero = fill; retouch's are bool, True = fill. OpenCV's ``CV_32FC1`` image
holds 128 and 200; retouch's float images are in [0, 1], so the float case
uses 128 / 255 and 200 / 255 (both fills scale to OpenCV's 0..255 float
path and back). ``CV_8UC3`` is BGR to OpenCV and RGB to retouch; with equal
channels that is the same image.

Peer cases that cannot transfer, and why:

- ``Photo_Inpaint.regression``: needs ``inpaint/orig.png``, ``exp1.png``,
  ``exp2.png`` and ``mask.png`` from the opencv_extra test-data repository,
  which is not available here (tests may not download data).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from retouch.inpaint import navier_stokes, telea


def _circle_case(kind: str):
    dtype, channels, grey, bright = {
        "CV_32FC1": (np.float32, 1, np.float32(128 / 255), np.float32(200 / 255)),
        "CV_16UC1": (np.uint16, 1, 128, 200),
        "CV_8UC1": (np.uint8, 1, 128, 200),
        "CV_8UC3": (np.uint8, 3, 128, 200),
    }[kind]
    shape = (100, 100) if channels == 1 else (100, 100, 3)
    src = np.full(shape, grey, dtype)
    ref = src.copy()
    cv2.circle(src, (50, 50), 5, (float(bright),) * 3, 6)
    mask = np.zeros((100, 100), np.uint8)
    cv2.circle(mask, (50, 50), 5, (200,), 6)
    return src, ref, mask > 0


# TEST_P(formats, basic) with CV_32FC1, CV_16UC1, CV_8UC1, CV_8UC3: both fills give back the flat image exactly
@pytest.mark.parametrize("kind", ["CV_32FC1", "CV_16UC1", "CV_8UC1", "CV_8UC3"])
def test_formats_basic(kind):
    src, ref, mask = _circle_case(kind)
    dst = navier_stokes(src, mask, radius=10)
    dst2 = telea(src, mask, radius=10)
    assert np.abs(dst.astype(np.float64) - ref).max() == 0
    assert np.abs(dst2.astype(np.float64) - ref).max() == 0


# TEST(Photo_InpaintBorders, regression): a masked band along the left border, Telea radius 1
def test_inpaint_borders():
    img = np.full((64, 64), 128, np.uint8)
    img[:, :16] = 0
    mask = np.zeros((64, 64), bool)
    mask[:, :16] = True
    inpainted = telea(img, mask, radius=1)
    assert np.count_nonzero(inpainted != 128) == 0


# TEST_P(Photo_InpaintSmallBorders, regression) with CV_8UC1 and CV_8UC3
@pytest.mark.parametrize("channels", [1, 3])
def test_inpaint_small_borders(channels):
    shape = (5, 5) if channels == 1 else (5, 5, 3)
    img = np.full(shape, 128, np.uint8)
    expected = img.copy()
    mask = np.zeros((5, 5), bool)
    mask[1:4, 1:4] = True
    img[mask] = 0
    assert np.count_nonzero(telea(img, mask, radius=1) != expected) == 0
    assert np.count_nonzero(navier_stokes(img, mask, radius=1) != expected) == 0
