"""scikit-image 0.26 ``filters/tests/test_thresholding.py``, re-pointed at ``retouch.segment.threshold``.

retouch returns the mask ``luminance > t`` (``invert=False``), not the threshold
``t``: a peer assertion on ``t`` becomes one on the mask, either the same
comparison against the peer's value or, where the peer gives an interval, the
thresholds the mask allows (above the brightest unselected level, at or below
the darkest selected one) meeting that interval. Peer inputs of dtype ``int``
holding 0..255 are passed as uint8, which is what retouch's message for int64
asks for (retouch takes uint8, uint16 and float32 in [0, 1]).

Peer cases that cannot transfer, and why:

- ``TestSimpleImage.test_minimum``, ``test_try_all_threshold``, every ``li``,
  ``yen``, ``isodata``, ``minimum``, ``mean``, ``niblack``, ``sauvola`` and
  ``local_median`` case (``test_li*``, ``test_yen*``, ``test_isodata*``,
  ``test_threshold_minimum*``, ``test_mean``, ``test_threshold_niblack``,
  ``test_threshold_sauvola``, both ``*_iterable_window_size``,
  ``test_threshold_local_median``, ``..._median_constant_mode``,
  ``test_niblack_sauvola_pathological_image``): retouch offers Otsu,
  triangle, multi-Otsu, fixed and local mean / Gaussian only.
- ``test_otsu_negative_int``: negative values; retouch refuses signed images
  (its message says how to map them into [0, 1]).
- ``test_otsu_float_image``: float values 0..5; retouch's floats are in [0, 1].
- ``test_threshold_local_gaussian[3]``, ``test_threshold_local_mean[3]``,
  ``test_threshold_local_invalid_block_size`` (both), tuple block sizes in
  the 2-D cases, ``test_otsu_one_color_image_3d``: 3-D volumes and per-axis
  block sizes are not supported (one odd ``block_size`` for a 2-D picture).
- ``test_otsu_camera_image_histogram``, ``..._counts``,
  ``test_otsu_zero_count_histogram``, ``test_multiotsu_lut``,
  ``test_multiotsu_missing_img_and_hist``, ``test_multiotsu_hist_parameter``:
  a histogram or a private helper as input; retouch takes pictures.
- ``test_otsu_astro_image``, ``test_multiotsu_astro_image``: scikit-image
  pools the three channels of an RGB picture (and warns); retouch
  thresholds its luminance, a deliberate difference.
- ``test_triangle_uniform_images[int16]``, ``[float16]``, and the
  ``np.full(..., 2)`` part of ``[float32]``: signed and half-float images are
  refused (the message says how to convert), float 2 is outside [0, 1].
- ``test_triangle_float_images``' two ``astype(float)`` lines: float 0..255.
- ``test_mean_std_2d`` / ``_3d`` (9), ``test_variable_dtypes`` (12): private
  helper, and threshold images compared as numbers; retouch returns masks.
"""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data, util
from skimage.color import rgb2gray
from skimage.draw import disk

from retouch import RetouchError
from retouch.segment.threshold import threshold

SIMPLE = np.array(
    [[0, 0, 1, 3, 5], [0, 1, 4, 3, 4], [1, 2, 5, 4, 1], [2, 4, 5, 2, 1], [4, 5, 1, 0, 0]], dtype=np.uint8
)


def _allowed(image: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """Thresholds t with ``mask == image > t``: [brightest unselected, darkest selected)."""
    lo = float(image[~mask].max()) if (~mask).any() else -np.inf
    hi = float(image[mask].min()) if mask.any() else np.inf
    assert lo < hi, "the mask is not a threshold of the image"
    return lo, hi


def _meets(image, mask, low, high) -> bool:
    """Some threshold allowed by ``mask`` lies in the open interval (low, high)."""
    lo, hi = _allowed(image, mask)
    return max(lo, low) < min(hi, high)


# TestSimpleImage.test_otsu: threshold_otsu(image) == 2
def test_simple_otsu():
    assert np.array_equal(threshold(SIMPLE, algorithm="otsu"), SIMPLE > 2)


# TestSimpleImage.test_threshold_local_gaussian[2] (block_size=3, mode='reflect'; param=1/3 is the default sigma)
def test_simple_local_gaussian():
    ref = np.array(
        [
            [False, False, False, False, True],
            [False, False, True, False, True],
            [False, False, True, True, False],
            [False, True, True, False, False],
            [True, True, False, False, False],
        ]
    )
    assert np.array_equal(threshold(SIMPLE, algorithm="adaptive_gaussian", block_size=3), ref)


# TestSimpleImage.test_threshold_local_mean[2] (block_size=3, mode='reflect')
def test_simple_local_mean():
    ref = np.array(
        [
            [False, False, False, False, True],
            [False, False, True, False, True],
            [False, False, True, True, False],
            [False, True, True, False, False],
            [True, True, False, False, False],
        ]
    )
    assert np.array_equal(threshold(SIMPLE, algorithm="adaptive_mean", block_size=3), ref)


# test_otsu_camera_image: 101 < threshold_otsu(camera) < 103
def test_otsu_camera_image():
    camera = util.img_as_ubyte(data.camera())
    assert _meets(camera, threshold(camera), 101, 103)


# test_otsu_coins_image: 106 < t < 108
def test_otsu_coins_image():
    coins = util.img_as_ubyte(data.coins())
    assert _meets(coins, threshold(coins), 106, 108)


# test_otsu_coins_image_as_float: 0.41 < t < 0.42 (float64 in [0, 1], taken as float32)
def test_otsu_coins_image_as_float():
    coins = util.img_as_float(data.coins())
    assert _meets(coins.astype(np.float32), threshold(coins), 0.41, 0.42)


# test_otsu_one_color_image: threshold_otsu(ones) == 1, so nothing is above it
def test_otsu_one_color_image():
    img = np.ones((10, 10), dtype=np.uint8)
    assert not threshold(img).any()


# test_local_even_block_size_error: block_size=4 raises ValueError
def test_local_even_block_size_error():
    with pytest.raises(ValueError):
        threshold(data.camera(), algorithm="adaptive_mean", block_size=4)


# test_triangle_uniform_images[uint8] and [float32] (zeros and ones): t == value, so an empty mask
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_triangle_uniform_images(dtype):
    assert not threshold(np.zeros((10, 10), dtype=dtype), algorithm="triangle").any()
    assert not threshold(np.ones((10, 10), dtype=dtype), algorithm="triangle").any()
    if dtype == np.uint8:
        assert not threshold(np.full((10, 10), 2, dtype=dtype), algorithm="triangle").any()


# test_triangle_uint_images: 151 / 104 / 80 / 175
@pytest.mark.parametrize(
    "image, t",
    [(np.invert(data.text()), 151), (data.text(), 104), (data.coins(), 80), (np.invert(data.coins()), 175)],
    ids=["inverted text", "text", "coins", "inverted coins"],
)
def test_triangle_uint_images(image, t):
    assert np.array_equal(threshold(image, algorithm="triangle"), image > t)


# test_triangle_float_images, the text / 255.0 lines: round(t * 255) == 104 and 151 (nbins = one per level)
@pytest.mark.parametrize("text, t", [(data.text(), 104), (np.invert(data.text()), 151)], ids=["text", "inverted"])
def test_triangle_float_images(text, t):
    assert np.array_equal(threshold(text / 255.0, algorithm="triangle"), text > t)


# test_triangle_flip: the threshold of the inverted camera, inverted, differs on under 1 % of pixels
def test_triangle_flip():
    img = data.camera()
    inv_img = np.invert(img)
    t_inv_inv_img = np.invert(threshold(inv_img, algorithm="triangle"))
    t_img = threshold(img, algorithm="triangle")
    assert np.count_nonzero(t_img != t_inv_inv_img) / t_img.size < 1e-2


# test_bimodal_multiotsu_hist: threshold_otsu(img) == threshold_multiotsu(img, 2)
@pytest.mark.parametrize("name", ["camera", "moon", "coins", "text", "clock", "page"])
def test_bimodal_multiotsu_hist_grey(name):
    img = getattr(data, name)()
    assert np.array_equal(threshold(img), threshold(img, algorithm="multi_otsu", classes=2, select=1))


@pytest.mark.parametrize("name", ["chelsea", "coffee", "astronaut", "rocket"])
def test_bimodal_multiotsu_hist_colour(name):
    img = rgb2gray(getattr(data, name)())  # float64 in [0, 1]
    assert np.array_equal(threshold(img), threshold(img, algorithm="multi_otsu", classes=2, select=1))


# test_check_multiotsu_results: classes k give k - 1 thresholds, i.e. k classes that split the image
def test_check_multiotsu_results():
    image = 0.25 * np.array([[0, 1, 2, 3, 4]] * 4)
    for k in range(3, 6):
        masks = [threshold(image, algorithm="multi_otsu", classes=k, select=i) for i in range(k)]
        assert np.array_equal(np.sum(masks, axis=0), np.ones(image.shape))
        assert all(m.any() for m in masks)


# test_multiotsu_output: three discs at 64, 128, 192 on 0; classes=4 gives thresholds [0, 64, 128]
def test_multiotsu_output():
    image = np.zeros((100, 100), dtype=np.uint8)
    for coor, val in zip([(25, 25), (50, 50), (75, 75)], [64, 128, 192]):
        rr, cc = disk(coor, 20)
        image[rr, cc] = val
    bounds = [0, 64, 128]
    labels = np.digitize(image, bounds, right=True)
    for i in range(4):
        assert np.array_equal(threshold(image, algorithm="multi_otsu", classes=4, select=i), labels == i)


# test_multiotsu_more_classes_then_values: fewer grey levels than classes raises ValueError
def test_multiotsu_more_classes_then_values():
    img = np.ones((10, 10), dtype=np.uint8)
    with pytest.raises(ValueError):
        threshold(img, algorithm="multi_otsu", classes=2)
    img[:, 3:] = 2
    with pytest.raises(ValueError):
        threshold(img, algorithm="multi_otsu", classes=3)
    img[:, 6:] = 3
    with pytest.raises(ValueError):
        threshold(img, algorithm="multi_otsu", classes=4)


# --- issue 23 items 1 and 5: what the peer promises across dtypes, beyond its own cases ---


@pytest.mark.parametrize("algorithm", ["otsu", "triangle", "multi_otsu"])
@pytest.mark.parametrize("name", ["text", "coins", "camera"])
def test_sixteen_bit_float_and_rgb_copies_get_the_8_bit_mask(algorithm, name):
    """A 16-bit scan (x 257), a float32 copy (/ 255) and an RGB copy of a grey picture: one mask."""
    grey = getattr(data, name)()
    want = threshold(grey, algorithm=algorithm)
    for copy in (grey.astype(np.uint16) * 257, grey.astype(np.float32) / 255, np.dstack([grey] * 3)):
        assert np.array_equal(threshold(copy, algorithm=algorithm), want)


def test_text_triangle_covers_the_page_not_a_third_of_it():
    """The issue's numbers: on text() as float the triangle mask covered 29 % instead of 89 %."""
    text = data.text()
    assert threshold(text.astype(np.float32) / 255, algorithm="triangle").mean() == pytest.approx(
        (text > 104).mean()
    )
    assert (text > 104).mean() > 0.85


@pytest.mark.parametrize("dtype", ["u16", "f32", "rgb"])
def test_two_class_multi_otsu_is_otsu_for_every_dtype(dtype, astronaut):
    img = {"u16": data.camera().astype(np.uint16) * 257, "f32": data.moon().astype(np.float32) / 255, "rgb": astronaut}[dtype]
    otsu = threshold(img)
    assert np.array_equal(threshold(img, algorithm="multi_otsu", classes=2, select=1), otsu)
    assert np.array_equal(threshold(img, algorithm="multi_otsu", classes=2, select=0), ~otsu)


def test_masked_array_is_refused_in_one_line():
    img = np.ma.array(data.camera(), mask=data.camera() > 200)
    with pytest.raises(RetouchError, match=r"^image is a NumPy masked array, which retouch does not read; pass the plain array"):
        threshold(img)
