"""retouch.segment.color: colour range in Lab or HSV, from a colour or a picked point."""

from __future__ import annotations

import numpy as np
import pytest

from retouch import RetouchError, registry
from retouch.segment.color import color_range

CREMA = (slice(130, 170), slice(240, 330))  # the coffee's surface in data.coffee()
SAUCER = (slice(250, 290), slice(100, 150))  # the red saucer
TABLE = (slice(10, 60), slice(480, 580))  # the wooden table


def _forms(rgb_u8: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "u8": rgb_u8,
        "u16": rgb_u8.astype(np.uint16) * 257,
        "f32": rgb_u8.astype(np.float32) / 255,
        "rgba": np.dstack([rgb_u8, np.zeros(rgb_u8.shape[:2], np.uint8)]),
    }


def test_registered():
    assert "color_range" in registry.names("segment")


@pytest.mark.parametrize("space", ["lab", "hsv"])
def test_smoke(coffee, space):
    mask = color_range(coffee, point=(290, 150), space=space)
    assert mask.shape == coffee.shape[:2] and mask.dtype == bool
    assert mask[150, 290]
    assert 0 < mask.sum() < mask.size


@pytest.mark.parametrize("form", ["u8", "u16", "f32", "rgba"])
@pytest.mark.parametrize("space", ["lab", "hsv"])
def test_dtypes_agree(coffee, form, space):
    small = coffee[::4, ::4]
    ref = color_range(small, color=(229, 142, 53), space=space)
    mask = color_range(_forms(small)[form], color=(229, 142, 53), space=space)
    assert mask.shape == small.shape[:2] and mask.dtype == bool
    assert np.mean(mask != ref) < 0.005


def test_grey_image():
    gray = np.array([[0, 128, 130, 255]], np.uint8)
    assert color_range(gray, color=(128, 128, 128), tolerance=2).tolist() == [[False, True, True, False]]
    assert color_range(gray[..., None], point=(1, 0), tolerance=2).tolist() == [[False, True, True, False]]


def test_input_unchanged(coffee):
    before = coffee.copy()
    color_range(coffee, point=(290, 150), radius=3)
    color_range(coffee, color=(200, 10, 10), space="hsv")
    color_range(coffee, color=(200, 10, 10), metric="ciede2000")
    assert np.array_equal(coffee, before)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, r"give either color=\(r, g, b\) in 0\.\.255 or point=\(x, y\)"),
        ({"color": (1, 2, 3), "point": (1, 1)}, "not both or neither"),
        ({"point": (600, 5)}, r"point \(600, 5\) is outside the 600x400 image"),
        ({"point": (5, -1)}, "is outside the 600x400 image"),
        ({"color": (1, 2, 3), "tolerance": -1}, "tolerance: Input should be greater than or equal to 0"),
        ({"color": (1, 2, 300)}, "color.2: Input should be less than or equal to 255"),
        ({"color": (1, 2)}, "color.2: Field required"),
        ({"color": (1, 2, 3), "space": "rgb"}, "space: Input should be 'lab' or 'hsv'"),
        ({"color": (1, 2, 3), "hue_tolerance": 200}, "hue_tolerance: Input should be less than or equal to 180"),
    ],
)
def test_bad_input(coffee, kwargs, message):
    with pytest.raises(RetouchError, match=message):
        color_range(coffee, **kwargs)


def test_bad_image():
    with pytest.raises(RetouchError, match="must be a NumPy array"):
        color_range([[1, 2]], color=(1, 2, 3))


def test_hand_checked_lab():
    image = np.zeros((2, 3, 3), np.uint8)
    image[0, 0] = (250, 0, 0)
    image[1, 2] = (240, 10, 5)
    image[0, 1] = (0, 0, 250)
    mask = color_range(image, color=(255, 0, 0), tolerance=15)
    assert mask.tolist() == [[True, False, False], [False, False, True]]
    # tolerance 0 keeps exactly the picked colour; the bound is inclusive
    assert color_range(image, point=(0, 0), tolerance=0).sum() == 1
    # radius averages the picked colour over a disk: here red and black -> dark red
    dark = color_range(image, point=(0, 0), radius=1, tolerance=1)
    assert dark.sum() == 0


def test_hand_checked_hsv():
    image = np.zeros((1, 4, 3), np.uint8)
    image[0, 0] = (255, 0, 0)  # hue 0
    image[0, 1] = (255, 0, 40)  # hue about 351: across the 0/360 wrap
    image[0, 2] = (255, 128, 0)  # hue about 30
    image[0, 3] = (128, 0, 0)  # hue 0, darker
    mask = color_range(image, color=(255, 0, 0), space="hsv", hue_tolerance=10, value_tolerance=0.3)
    assert mask.tolist() == [[True, True, False, False]]
    mask = color_range(image, color=(255, 0, 0), space="hsv", hue_tolerance=10, value_tolerance=0.6)
    assert mask.tolist() == [[True, True, False, True]]
    # the picked hue is averaged round the wheel: 0 and 351 average near 355, not 175
    wrap = color_range(image, point=(0, 0), radius=1, space="hsv", hue_tolerance=10, value_tolerance=0.6)
    assert wrap[0, 0] and wrap[0, 1] and not wrap[0, 2]


def test_quality_coffee(coffee):
    """Picking the crema takes the crema and leaves the red saucer and the wooden table."""
    mask = color_range(coffee, point=(290, 150), radius=5, tolerance=15)
    assert mask[CREMA].mean() > 0.95
    assert mask[SAUCER].mean() < 0.02
    assert mask[TABLE].mean() < 0.02
    red = color_range(coffee, color=(155, 39, 15), tolerance=20, metric="ciede2000")
    assert red[SAUCER].mean() > 0.6 and red[CREMA].mean() < 0.01
