"""retouch.inpaint.diffusion: Telea, Navier-Stokes, biharmonic, FSR."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio
from skimage.restoration import inpaint_biharmonic

from retouch import inpaint
from retouch.validate import RetouchError
from retouch.inpaint import EmptyMaskWarning

METHODS = [inpaint.telea, inpaint.navier_stokes, inpaint.biharmonic, inpaint.fsr_fast, inpaint.fsr_best]
FAST = [inpaint.telea, inpaint.navier_stokes, inpaint.biharmonic, inpaint.fsr_fast]


def scratch_mask(shape, seed=0) -> np.ndarray:
    """A few thin lines and small spots, like scratches and dust."""
    rng = np.random.default_rng(seed)
    m = np.zeros(shape[:2], np.uint8)
    h, w = shape[:2]
    for _ in range(4):
        p1 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        p2 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        cv2.line(m, p1, p2, 1, 2)
    for _ in range(6):
        cv2.circle(m, (int(rng.integers(5, w - 5)), int(rng.integers(5, h - 5))), 3, 1, -1)
    return m.astype(bool)


def variants(image: np.ndarray) -> dict[str, np.ndarray]:
    rgba = np.dstack([image, np.linspace(0, 255, image.shape[1], dtype=np.uint8)[None, :].repeat(image.shape[0], 0)])
    return {
        "rgb-uint8": image,
        "rgb-uint16": image.astype(np.uint16) * 257,
        "rgb-float32": image.astype(np.float32) / 255,
        "grey-uint8": image[..., 1].copy(),
        "grey-1ch": image[..., 1:2].copy(),
        "rgba-uint8": rgba,
    }


@pytest.fixture(scope="module")
def small(chelsea) -> np.ndarray:
    return np.ascontiguousarray(chelsea[100:228, 150:278])


@pytest.mark.parametrize("method", FAST, ids=lambda f: f.__name__)
@pytest.mark.parametrize("kind", ["rgb-uint8", "rgb-uint16", "rgb-float32", "grey-uint8", "grey-1ch", "rgba-uint8"])
def test_contract(small, method, kind):
    image = variants(small)[kind]
    image.setflags(write=False)
    mask = scratch_mask(image.shape)
    before = image.copy()
    out = method(image, mask)
    assert out.shape == image.shape and out.dtype == image.dtype
    assert np.array_equal(image, before)  # input unchanged
    assert np.array_equal(out[~mask], image[~mask])  # outside the mask: bit-identical
    if image.ndim == 3 and image.shape[2] == 4:
        assert np.array_equal(out[..., 3], image[..., 3])  # alpha kept as it was
    # the hole is actually filled: on a real photo, far closer to the truth than black
    ref = small if image.ndim == 3 and image.shape[2] >= 3 else small[..., 1]
    got = out[..., :3] if out.ndim == 3 and out.shape[2] == 4 else out
    got = got[..., 0] if got.ndim == 3 and got.shape[2] == 1 else got
    scale = {"uint8": 1.0, "uint16": 1 / 257, "float32": 255.0}[str(image.dtype)]
    err = np.abs(got[mask].astype(np.float64) * scale - ref[mask]).mean()
    assert err < 20, err


def test_fsr_best_contract(small):
    truth = small[:48, :48]
    mask = np.zeros(truth.shape[:2], bool)
    mask[20:24, 10:40] = True
    image = truth.copy()
    image[mask] = (255, 0, 0)  # the damage: what is under the hole is not in the input
    out = inpaint.fsr_best(image, mask)
    assert out.shape == image.shape and out.dtype == image.dtype
    assert np.array_equal(out[~mask], image[~mask])
    # the fill is OpenCV's FSR (best) on this small crop, pixel for pixel ...
    known = np.where(mask, 0, 255).astype(np.uint8)
    expected = np.zeros_like(image)
    cv2.xphoto.inpaint(cv2.cvtColor(image, cv2.COLOR_RGB2BGR), known, expected, cv2.xphoto.INPAINT_FSR_BEST)
    assert np.array_equal(out[mask], cv2.cvtColor(expected, cv2.COLOR_BGR2RGB)[mask])
    # ... and close to the photo that was there, far from the red it covered
    err = np.abs(out[mask].astype(int) - truth[mask]).mean()
    assert err < 20, err


@pytest.mark.parametrize("method, flag", [(inpaint.telea, cv2.INPAINT_TELEA), (inpaint.navier_stokes, cv2.INPAINT_NS)])
@pytest.mark.parametrize("radius", [3, 7])
def test_same_pixels_as_opencv(astronaut, method, flag, radius):
    mask = scratch_mask(astronaut.shape, seed=radius)
    expected = cv2.cvtColor(
        cv2.inpaint(cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR), mask.astype(np.uint8), radius, flag), cv2.COLOR_BGR2RGB
    )
    got = method(astronaut, mask, radius=radius)
    assert np.array_equal(got, expected)


def test_same_pixels_as_opencv_on_grey(camera):
    mask = scratch_mask(camera.shape, seed=3)
    expected = cv2.inpaint(camera, mask.astype(np.uint8), 3, cv2.INPAINT_TELEA)
    assert np.array_equal(inpaint.telea(camera, mask), expected)


def test_biharmonic_matches_scikit_image(small):
    mask = scratch_mask(small.shape, seed=5)
    expected = inpaint_biharmonic(small.astype(np.float64) / 255, mask, channel_axis=-1)
    got = inpaint.biharmonic(small, mask)
    assert np.abs(got.astype(float) - np.round(expected * 255)).max() <= 1


def test_fsr_mask_polarity(small):
    # xphoto's mask means "known"; a reversed mask would fill everything but the hole.
    mask = np.zeros(small.shape[:2], bool)
    mask[60:64, 20:100] = True
    out = inpaint.fsr_fast(small, mask)
    assert np.array_equal(out[~mask], small[~mask])
    assert peak_signal_noise_ratio(small[mask], out[mask]) > 22


@pytest.mark.parametrize("method", METHODS, ids=lambda f: f.__name__)
def test_empty_mask_returns_copy_with_warning(small, method):
    with pytest.warns(EmptyMaskWarning, match="the mask is empty: nothing to fill, image returned unchanged"):
        out = method(small, np.zeros(small.shape[:2], bool))
    assert np.array_equal(out, small) and out is not small


@pytest.mark.parametrize("method", METHODS, ids=lambda f: f.__name__)
def test_full_mask_is_an_error(small, method):
    with pytest.raises(RetouchError, match="the mask covers the whole image, so there is nothing to fill from; leave some pixels unmasked"):
        method(small, np.ones(small.shape[:2], bool))


def test_bad_inputs(small):
    mask = np.zeros(small.shape[:2], bool)
    with pytest.raises(RetouchError, match=r"mask is 10x10 but the image is 128x128 \(width x height\); they must be the same size"):
        inpaint.telea(small, np.zeros((10, 10), bool))
    with pytest.raises(RetouchError, match=r"mask must be a bool array \(True = fill\), got dtype uint8"):
        inpaint.telea(small, mask.astype(np.uint8))
    with pytest.raises(RetouchError, match=r"image has dtype int32; use uint8, uint16 or float32"):
        inpaint.telea(small.astype(np.int32), mask)
    with pytest.raises(RetouchError, match=r"float image must be in \[0, 1\], got values in \[\d+, \d+\]; scale it first"):
        inpaint.telea(small.astype(np.float32), mask)
    with pytest.raises(RetouchError, match=r"inpaint method 'telea': radius: Input should be greater than 0 \(got 0\)"):
        inpaint.telea(small, mask, radius=0)
    with pytest.raises(RetouchError, match=r"inpaint method 'navier_stokes': radus is not a setting of inpaint method 'navier_stokes' \(settings: radius\)"):
        inpaint.navier_stokes(small, mask, radus=3)


def test_quality_on_scratches(astronaut):
    # Thin damage on a real photo: diffusion restores it closely.
    mask = scratch_mask(astronaut.shape, seed=11)
    for method in (inpaint.telea, inpaint.navier_stokes, inpaint.biharmonic):
        out = method(astronaut, mask)
        assert peak_signal_noise_ratio(astronaut[mask], out[mask]) > 24, method.__name__
