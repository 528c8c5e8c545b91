"""scikit-image 0.26 ``segmentation/tests/test_slic.py``, re-pointed at
``retouch.segment.superpixels.superpixel_labels(..., algorithm="slic")``.

retouch's SLIC always clusters in CIE Lab (a grey picture is its L channel),
with ``compactness`` in Lab units, connectivity enforced, and labels from 0:
the peer's ``convert2lab=False``, ``channel_axis=None``, ``start_label=0``
and ``enforce_connectivity`` arguments have no counterpart and are dropped
where the peer's expected result does not depend on them.

Peer cases that cannot transfer, and why:

- ``test_multichannel_2d``, ``test_multichannel_2d_mask``: 8-channel images;
  retouch takes grey, RGB and RGBA (the message says so).
- ``test_color_3d``, ``test_gray_3d``, ``test_color_3d_mask``,
  ``test_gray_3d_mask``: 3-D volumes are not supported.
- ``test_gray2d_default_channel_axis``: about ``channel_axis``; retouch reads
  the layout from the shape.
- ``test_list_sigma``, ``test_list_sigma_mask``, ``test_spacing``,
  ``test_spacing_mask``: per-axis ``sigma`` and ``spacing`` are not settings.
- ``test_slic_zero``, ``test_slic_zero_mask``: SLIC-zero is not offered.
- ``test_color_2d_mask``, ``test_gray_2d_mask``,
  ``test_enforce_connectivity_mask``, ``test_more_segments_than_pixels_mask``:
  SLIC inside a mask is not offered (the second halves of the two
  ``test_raises_ValueError_*`` cases, which pass a mask, are dropped too).
- ``test_enforce_connectivity``'s ``enforce_connectivity=False`` and
  ``max_size_factor`` calls: connectivity is always enforced (the connected
  result is checked).
- ``test_slic_consistency_across_image_magnitude``: its uint16 copy is
  ``256 * uint8``, and retouch reads uint16 on 0..65535 (the file's scale),
  not stretched from its minimum to its maximum as scikit-image does, so
  that copy is a slightly darker picture and segments differently (a
  ``257 *`` copy, the same picture in 16 bits, gives the uint8 labels:
  checked below); its ``+ 1000`` float copy is refused (floats are in
  [0, 1]). The uint8 / float / normalised-float comparisons are ported.
- ``test_dtype_support[float16]``, ``[int]``: refused, with a message that
  says how to convert (``astype(np.float32)``, ``astype(np.uint8)``).
"""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data, filters, img_as_float

from retouch.segment.superpixels import superpixel_labels


def slic(image, **kwargs):
    return superpixel_labels(image, algorithm="slic", **kwargs)


def _four_grey_blocks():
    rng = np.random.default_rng(0)
    img = np.zeros((20, 21))
    img[:10, :10] = 0.33
    img[10:, :10] = 0.67
    img[10:, 10:] = 1.00
    img += 0.0033 * rng.normal(size=img.shape)
    img[img > 1] = 1
    img[img < 0] = 0
    return img


# test_color_2d
def test_color_2d():
    rng = np.random.default_rng(0)
    img = np.zeros((20, 21, 3))
    img[:10, :10, 0] = 1
    img[10:, :10, 1] = 1
    img[10:, 10:, 2] = 1
    img += 0.01 * rng.normal(size=img.shape)
    img[img > 1] = 1
    img[img < 0] = 0
    seg = slic(img, n_segments=4, sigma=0)
    assert len(np.unique(seg)) == 4
    assert seg.shape == img.shape[:-1]
    assert (seg[:10, :10] == 0).all()
    assert (seg[10:, :10] == 2).all()
    assert (seg[:10, 10:] == 1).all()
    assert (seg[10:, 10:] == 3).all()


# test_gray_2d (compactness=1)
def test_gray_2d():
    img = _four_grey_blocks()
    seg = slic(img, sigma=0, n_segments=4, compactness=1)
    assert len(np.unique(seg)) == 4
    assert seg.shape == img.shape
    assert (seg[:10, :10] == 0).all()
    assert (seg[10:, :10] == 2).all()
    assert (seg[:10, 10:] == 1).all()
    assert (seg[10:, 10:] == 3).all()


# test_slic_consistency_across_image_magnitude: uint8, float and normalised float
def test_slic_consistency_across_image_magnitude():
    img_uint8 = data.cat()[:256, :128]
    img_float32 = img_as_float(img_uint8)
    img_float32_norm = img_float32 / img_float32.max()
    seg1 = slic(img_uint8)
    seg3 = slic(img_float32)
    seg4 = slic(img_float32_norm)
    np.testing.assert_array_equal(seg1, seg3)
    n_seg1, n_seg4 = seg1.max(), seg4.max()
    assert abs(n_seg1 - n_seg4) / n_seg1 < 0.5


def test_sixteen_bit_copy_of_the_same_picture_gets_the_same_labels():
    """The deliberate difference above: uint16 is read on 0..65535, so x 257 is the same picture."""
    img_uint8 = data.cat()[:256, :128]
    np.testing.assert_array_equal(slic(img_uint8), slic(img_uint8.astype(np.uint16) * 257))


# test_invalid_lab_conversion: values above 1 cannot be converted to Lab -> ValueError
def test_invalid_lab_conversion():
    img = np.array([[1, 1, 1, 0, 0], [1, 1, 0, 0, 0]], float) + 1
    with pytest.raises(ValueError):
        slic(img)


# test_enforce_connectivity (the enforce_connectivity=True result)
def test_enforce_connectivity():
    img = np.array([[0, 0, 0, 1, 1, 1], [1, 0, 0, 1, 1, 0], [0, 0, 0, 1, 1, 0]], float)
    segments_connected = slic(img, n_segments=2, compactness=0.0001)
    result_connected = np.array([[0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 1]], float)
    np.testing.assert_equal(segments_connected, result_connected)


# test_more_segments_than_pixels: every pixel its own segment
def test_more_segments_than_pixels():
    seg = slic(_four_grey_blocks(), sigma=0, n_segments=500, compactness=1)
    assert np.all(seg.ravel() == np.arange(seg.size))


# test_dtype_support[float32 / float64 / uint8]: runs without error
@pytest.mark.parametrize("dtype", ["float32", "float64", "uint8"])
def test_dtype_support(dtype):
    img = np.random.default_rng(0).random((28, 28)).astype(dtype)
    slic(img)


# test_start_label_fix (gh-6240): no label below the first one; retouch's labels start at 0
def test_start_label_fix():
    rng = np.random.default_rng(9)
    img = rng.standard_normal((8, 13)) > 0
    img = filters.gaussian(img, sigma=1)
    superp = slic(img, n_segments=6, compactness=0.01)
    assert superp.min() == 0
    assert np.array_equal(np.unique(superp), np.arange(superp.max() + 1))


# test_raises_ValueError_if_input_has_NaN (first half)
def test_raises_value_error_if_input_has_nan():
    img = np.zeros((4, 5), dtype=float)
    img[2, 3] = np.nan
    with pytest.raises(ValueError):
        slic(img)


# test_raises_ValueError_if_input_has_inf (first half)
@pytest.mark.parametrize("inf", [-np.inf, np.inf])
def test_raises_value_error_if_input_has_inf(inf):
    img = np.zeros((4, 5), dtype=float)
    img[2, 3] = inf
    with pytest.raises(ValueError):
        slic(img)


# --- issue 23 item 6: the dtype refusals say how to convert ---


@pytest.mark.parametrize(
    "dtype, hint",
    [
        ("float16", r"float16; use uint8, uint16 or float32 in \[0, 1\]: convert it with image\.astype\(np\.float32\) \(values in \[0, 1\]\)$"),
        ("int", r"its values 0\.\.0 fit 8 bits: image\.astype\(np\.uint8\)"),
    ],
)
def test_refused_dtypes_say_how_to_convert(dtype, hint):
    img = np.random.default_rng(0).random((28, 28)).astype(dtype)  # test_dtype_support's input
    with pytest.raises(ValueError, match=hint):
        slic(img)


def test_eight_channels_are_refused_saying_so():
    with pytest.raises(ValueError, match="8 channels: 3-D volumes and images with other than 1, 3 or 4 channels are not supported"):
        slic(np.zeros((20, 20, 8)))
