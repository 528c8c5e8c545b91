"""retouch.segment.threshold: fixed, Otsu, triangle, multi-Otsu, adaptive."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.filters import threshold_multiotsu, threshold_otsu

from retouch import RetouchError, registry
from retouch.segment.threshold import threshold

ALGORITHMS = ["otsu", "triangle", "multi_otsu", "adaptive_mean", "adaptive_gaussian"]


def _forms(gray_u8: np.ndarray) -> dict[str, np.ndarray]:
    rgb = np.dstack([gray_u8] * 3)
    rgba = np.dstack([rgb, np.full(gray_u8.shape, 7, np.uint8)])
    return {
        "grey_u8": gray_u8,
        "grey_u16": gray_u8.astype(np.uint16) * 257,
        "grey_f32": gray_u8.astype(np.float32) / 255,
        "grey_hw1": gray_u8[..., None],
        "rgb_u8": rgb,
        "rgba_u8": rgba,
        "rgb_f32": rgb.astype(np.float32) / 255,
    }


def test_registered():
    assert "threshold" in registry.names("segment")
    assert registry.get("segment", "threshold").settings().algorithm == "otsu"


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_smoke(camera, algorithm):
    mask = threshold(camera, algorithm=algorithm)
    assert mask.shape == camera.shape and mask.dtype == bool
    assert 0 < mask.sum() < mask.size


@pytest.mark.parametrize("form", list(_forms(np.zeros((1, 1), np.uint8))))
@pytest.mark.parametrize("algorithm", ["otsu", "multi_otsu", "adaptive_gaussian"])
def test_shapes_and_dtypes_agree(camera, form, algorithm):
    """The same picture in every layout and dtype gives (nearly) the same mask."""
    small = camera[::4, ::4]
    ref = threshold(small, algorithm=algorithm)
    mask = threshold(_forms(small)[form], algorithm=algorithm)
    assert mask.shape == small.shape and mask.dtype == bool
    assert np.mean(mask != ref) < 0.01


@pytest.mark.parametrize("form", ["grey_u8", "grey_u16", "grey_f32", "rgb_u8", "rgba_u8"])
def test_fixed_value_in_image_scale(form):
    gray = np.array([[10, 100, 101, 250]], np.uint8)
    image = _forms(gray)[form]
    scale = {"grey_u16": 257.0, "grey_f32": 1 / 255}.get(form, 1.0)
    mask = threshold(image, algorithm="fixed", value=100.5 * scale)
    assert mask.tolist() == [[False, False, True, True]]


def test_input_unchanged(astronaut):
    before = astronaut.copy()
    for algorithm in ALGORITHMS:
        threshold(astronaut, algorithm=algorithm)
    threshold(astronaut, algorithm="fixed", value=128)
    assert np.array_equal(astronaut, before)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"algorithm": "fixed"}, "algorithm 'fixed' needs a value"),
        ({"algorithm": "fixed", "value": 256}, r"value 256 is outside the uint8 range 0\.\.255"),
        ({"algorithm": "fixed", "value": -1}, "value: Input should be greater than or equal to 0"),
        ({"algorithm": "otsu", "value": 3}, "value is only used by algorithm 'fixed'"),
        ({"algorithm": "adaptive_mean", "block_size": 50}, "block_size must be odd, got 50; try 51"),
        ({"algorithm": "adaptive_mean", "block_size": 1}, "block_size: Input should be greater than or equal to 3"),
        ({"algorithm": "multi_otsu", "classes": 3, "select": 3}, r"select must be a class index in -3\.\.2"),
        ({"algorithm": "multi_otsu", "classes": 6}, "classes: Input should be less than or equal to 5"),
        ({"algorithm": "bogus"}, "algorithm: Input should be 'otsu'"),
        ({"colour": 3}, "colour is not a setting of segment method 'threshold'"),
    ],
)
def test_bad_settings(camera, kwargs, message):
    with pytest.raises(RetouchError, match=message):
        threshold(camera, **kwargs)


def test_bad_images():
    with pytest.raises(RetouchError, match="must be HxW"):
        threshold(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(RetouchError, match="dtype int32"):
        threshold(np.zeros((4, 4), np.int32))
    with pytest.raises(RetouchError, match=r"value 2 is outside the float32 range 0\.\.1"):
        threshold(np.zeros((4, 4), np.float32), algorithm="fixed", value=2)
    with pytest.raises(RetouchError, match="1 grey level"):
        threshold(np.zeros((4, 4), np.uint8), algorithm="multi_otsu")


def test_hand_checked():
    image = np.array([[10, 10, 200], [10, 200, 200]], np.uint8)
    assert threshold(image).tolist() == [[False, False, True], [False, True, True]]
    assert threshold(image, invert=True).tolist() == [[True, True, False], [True, False, False]]
    assert threshold(image, algorithm="triangle").tolist() == [[False, False, True], [False, True, True]]
    # three clear levels: each multi-Otsu class is one of them
    three = np.array([[0, 0, 120, 120, 250, 250]], np.uint8)
    assert threshold(three, algorithm="multi_otsu", select=0).tolist() == [[True, True, False, False, False, False]]
    assert threshold(three, algorithm="multi_otsu", select=1).tolist() == [[False, False, True, True, False, False]]
    assert threshold(three, algorithm="multi_otsu").tolist() == [[False, False, False, False, True, True]]
    assert threshold(three, algorithm="multi_otsu", select=-1, invert=True).tolist() == [[True] * 4 + [False] * 2]
    # a constant image has nothing above its own threshold
    assert not threshold(np.full((3, 3), 9, np.uint8)).any()


def test_adaptive_hand_checked():
    """A bright dot on a ramp: a global threshold takes half the ramp, the local one only the dot."""
    ramp = np.tile(np.linspace(0, 200, 41), (41, 1)).astype(np.uint8)
    ramp[20, 20] = 255
    local = threshold(ramp, algorithm="adaptive_mean", block_size=5, offset=-20)
    assert local[20, 20] and local.sum() == 1
    assert threshold(ramp).sum() > 300
    # offset is in the image's scale: the same on a float copy
    f = ramp.astype(np.float32) / 255
    assert np.array_equal(threshold(f, algorithm="adaptive_mean", block_size=5, offset=-20 / 255), local)


def test_quality_camera_matches_skimage_and_scene(camera):
    """Otsu equals scikit-image's; it takes the sky and leaves the coat and grass."""
    mask = threshold(camera)
    assert np.array_equal(mask, camera > threshold_otsu(camera))
    assert mask[10:100, 280:500].mean() > 0.99  # sky
    assert mask[300:450, 20:100].mean() < 0.05  # dark coat
    classes = np.digitize(camera, threshold_multiotsu(camera, classes=3), right=True)
    assert np.array_equal(threshold(camera, algorithm="multi_otsu", select=1), classes == 1)
    # the dark coat is the darkest class
    assert threshold(camera, algorithm="multi_otsu", select=0)[300:450, 20:100].mean() > 0.9
