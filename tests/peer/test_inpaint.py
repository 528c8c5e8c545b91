"""scikit-image 0.26 ``restoration/tests/test_inpaint.py``, re-pointed at ``retouch.inpaint.biharmonic``.

retouch's masks are bool (True = fill): the peer's float masks of 0 / 1 are
passed as ``mask.astype(bool)``. retouch always fills each group of nearby
holes on its own crop, which is what ``split_into_regions=True`` does, so the
peer's two ``split_into_regions`` values are one retouch call (both are run,
to keep the peer's cases one to one). float64 in [0, 1] comes back float64,
solved in float64 (issue 23 item 2); uint8 comes back uint8.

Peer cases that cannot transfer, and why:

- ``test_inpaint_biharmonic_2d[float16-*]`` (2): float16 images are refused;
  the message says ``image.astype(np.float32)``.
- ``test_inpaint_biharmonic_2d_color[0]``, ``[1]``: channel-first and
  channel-in-the-middle layouts; retouch images are ``H x W x C``.
- ``test_inpaint_biharmonic_3d`` (2): a 5 x 5 x 2 volume filled in 3-D;
  retouch fills 2-D pictures (a 2-channel image is refused).
- ``test_inpaint_nrmse[float32-*]`` and ``[float64-*]`` (16) take float
  values 0..255 straight from ``astronaut().astype(float)``; retouch's floats
  are in [0, 1], so these run on the same picture divided by 255 (NRMSE does
  not change with the scale). ``[uint8-*]`` (8): retouch returns uint8 for
  uint8 (same dtype out, a deliberate difference); the NRMSE bound is
  checked on it as the peer does, the ``result.dtype == float64`` line is not.
"""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data, img_as_float
from skimage.color import rgb2gray
from skimage.metrics import mean_squared_error, normalized_root_mse
from skimage.morphology import dilation, disk

from retouch import RetouchError
from retouch.inpaint import biharmonic

REF = np.array(
    [
        [0.0, 0.0625, 0.25000000, 0.5625000, 0.73925058],
        [0.0, 0.0625, 0.25000000, 0.5478048, 0.76557821],
        [0.0, 0.0625, 0.25842878, 0.5623079, 0.85927796],
        [0.0, 0.0625, 0.25000000, 0.5625000, 1.00000000],
        [0.0, 0.0625, 0.25000000, 0.5625000, 1.00000000],
    ]
)


def _ramp(dtype):
    img = np.tile(np.square(np.linspace(0, 1, 5, dtype=dtype)), (5, 1))
    mask = np.zeros_like(img)
    mask[2, 2:] = 1
    mask[1, 3:] = 1
    mask[0, 4:] = 1
    img[np.where(mask)] = 0
    return img, mask.astype(bool)


# test_inpaint_biharmonic_2d[float32 / float64 x split_into_regions]
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("split_into_regions", [False, True])
def test_inpaint_biharmonic_2d(dtype, split_into_regions):
    img, mask = _ramp(dtype)
    out = biharmonic(img, mask)
    assert out.dtype == dtype
    rtol = 1e-7 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(REF, out, rtol=rtol)


# test_inpaint_biharmonic_2d_color[-1]
def test_inpaint_biharmonic_2d_color():
    img = img_as_float(data.astronaut()[:64, :64])
    mask = np.zeros(img.shape[:2], dtype=bool)
    mask[8:16, :16] = 1
    img_defect = img * ~mask[..., np.newaxis]
    mse_defect = mean_squared_error(img, img_defect)
    img_restored = biharmonic(img_defect, mask)
    mse_restored = mean_squared_error(img, img_restored)
    assert mse_restored < 0.01 * mse_defect


# test_inpaint_biharmonic_2d_float_dtypes
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inpaint_biharmonic_2d_float_dtypes(dtype):
    img, mask = _ramp(np.float64)
    img = img.astype(dtype, copy=False)
    out = biharmonic(img, mask)
    assert out.dtype == img.dtype
    np.testing.assert_allclose(REF, out, rtol=1e-5)


# test_invalid_input
def test_invalid_input():
    img, mask = np.zeros([]), np.zeros([])
    with pytest.raises(ValueError):
        biharmonic(img, mask)

    img, mask = np.zeros((2, 2)), np.zeros((4, 1))
    with pytest.raises(ValueError):
        biharmonic(img, mask)

    img = np.ma.array(np.zeros((2, 2)), mask=[[0, 0], [0, 0]])
    mask = np.zeros((2, 2))
    with pytest.raises(TypeError):
        biharmonic(img, mask)


# test_inpaint_nrmse (float images scaled into [0, 1]; see the module docstring)
@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("channel_axis", [None, -1])
@pytest.mark.parametrize("split_into_regions", [False, True])
def test_inpaint_nrmse(dtype, order, channel_axis, split_into_regions):
    image_orig = data.astronaut()[:, :200]
    float_dtype = np.float32 if dtype == np.float32 else np.float64
    image_orig = image_orig.astype(float_dtype, copy=False)

    mask = np.zeros(image_orig.shape[:-1], dtype=bool)
    mask[20:50, 3:20] = 1
    mask[165:180, 90:155] = 1
    mask[40:60, 170:195] = 1
    mask[-60:-40, 170:195] = 1
    mask[-180:-165, 90:155] = 1
    mask[-50:-20, :20] = 1
    mask[200:205, -200:] = 1
    mask[150:255, 20:22] = 1
    mask[365:368, 60:130] = 1
    rstate = np.random.default_rng(0)
    for radius in [0, 2, 4]:
        thresh = 3.25 + 0.25 * radius
        tmp_mask = rstate.standard_normal(image_orig.shape[:-1]) > thresh
        if radius > 0:
            tmp_mask = dilation(tmp_mask, disk(radius, dtype=bool))
        mask[tmp_mask] = 1

    image_defect = image_orig.copy()
    image_defect[np.where(mask)] = 0
    if channel_axis is None:
        image_orig = rgb2gray(image_orig)
        image_defect = rgb2gray(image_defect)
    image_orig = image_orig.astype(dtype, copy=False)
    image_defect = image_defect.astype(dtype, copy=False)
    if dtype != np.uint8:  # retouch's floats are in [0, 1]
        image_orig = image_orig / dtype(255)
        image_defect = image_defect / dtype(255)

    image_defect = np.asarray(image_defect, order=order)
    image_result = biharmonic(image_defect, mask)
    assert image_result.dtype == (np.uint8 if dtype == np.uint8 else float_dtype)

    nrmse_defect = normalized_root_mse(image_orig, image_defect)
    nrmse_result = normalized_root_mse(img_as_float(image_orig), img_as_float(image_result))
    assert nrmse_result < 0.2 * nrmse_defect


# --- issue 23 items 2 and 3, beyond the peer's cases ---


@pytest.mark.parametrize("method", ["telea", "navier_stokes", "biharmonic", "fsr_fast", "patchmatch", "auto"])
def test_every_fill_gives_float64_back_untouched_outside_the_mask(method, chelsea):
    from retouch import inpaint

    img = img_as_float(chelsea[:80, :80])  # float64, what scikit-image users have
    mask = np.zeros(img.shape[:2], bool)
    mask[30:40, 30:44] = True
    out = getattr(inpaint, method)(img, mask)
    assert out.dtype == np.float64
    assert np.array_equal(out[~mask], img[~mask])  # bit-identical, not via float32
    assert np.abs(out[mask] - img[mask]).mean() < 0.2


def test_masked_array_is_refused_in_one_line():
    img = np.ma.array(np.zeros((4, 4)), mask=np.eye(4, dtype=bool))
    with pytest.raises(RetouchError, match=r"^image is a NumPy masked array, which retouch does not read; .* \(True = fill\)$"):
        biharmonic(img, np.eye(4, dtype=bool))
    with pytest.raises(RetouchError, match=r"^mask is a NumPy masked array"):
        biharmonic(np.zeros((4, 4)), np.ma.array(np.eye(4, dtype=bool)))


def test_remove_gives_float64_back_too(chelsea):
    import retouch

    img = img_as_float(chelsea[:80, :80])
    mask = np.zeros(img.shape[:2], bool)
    mask[30:40, 30:40] = True
    result = retouch.pipeline.recipe_for_remove(has_mask=True, method="telea").apply(img, mask=mask)
    out, filled = result.image, result.mask
    assert np.array_equal(retouch.remove(img, mask=mask, method="telea"), out)
    assert out.dtype == np.float64
    assert np.array_equal(out[~filled], img[~filled])
