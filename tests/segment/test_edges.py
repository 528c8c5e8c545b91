"""retouch.segment.edges: Canny / Sobel / Scharr edges as regions or as a band."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage import data
from skimage.filters import sobel
from skimage.segmentation import watershed

from retouch import RetouchError, registry
from retouch.segment.edges import edge_strength, edges


@pytest.fixture(scope="module")
def coins() -> np.ndarray:
    img = data.coins()
    img.setflags(write=False)
    return img


def _square(dtype=np.uint8, value=200) -> np.ndarray:
    image = np.zeros((40, 40), dtype)
    image[10:30, 10:30] = value
    return image


def test_registered():
    assert "edges" in registry.names("segment")


@pytest.mark.parametrize("detector", ["canny", "sobel", "scharr"])
@pytest.mark.parametrize("output", ["regions", "band"])
def test_smoke(coins, detector, output):
    mask = edges(coins, detector=detector, output=output)
    assert mask.shape == coins.shape and mask.dtype == bool
    assert 0 < mask.sum() < mask.size


@pytest.mark.parametrize(
    "image",
    [
        _square(),
        _square(np.uint16, 50000),
        _square(np.float32, 0.8),
        np.dstack([_square()] * 3),
        np.dstack([_square()] * 3 + [np.full((40, 40), 255, np.uint8)]),
        _square()[..., None],
    ],
    ids=["u8", "u16", "f32", "rgb", "rgba", "hw1"],
)
def test_shapes_and_dtypes(image):
    mask = edges(image, min_size=10)
    assert mask.shape == (40, 40) and mask.dtype == bool
    ref = np.zeros((40, 40), bool)
    ref[10:30, 10:30] = True
    assert np.mean(mask != ref) < 0.03


def test_input_unchanged(coins, astronaut):
    before_c, before_a = coins.copy(), astronaut.copy()
    edges(coins)
    edges(astronaut, detector="scharr", output="band", band_width=2)
    assert np.array_equal(coins, before_c) and np.array_equal(astronaut, before_a)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"low": 0.3, "high": 0.1}, r"low \(0\.3\) must not be greater than high \(0\.1\)"),
        ({"low": -0.1}, "low: Input should be greater than or equal to 0"),
        ({"sigma": -1}, "sigma: Input should be greater than or equal to 0"),
        ({"close": -2}, "close: Input should be greater than or equal to 0"),
        ({"band_width": 1.5}, "band_width: Input should be a valid integer"),
        ({"detector": "prewitt"}, "detector: Input should be 'canny', 'sobel' or 'scharr'"),
        ({"output": "lines"}, "output: Input should be 'regions' or 'band'"),
    ],
)
def test_bad_settings(kwargs, message):
    with pytest.raises(RetouchError, match=message):
        edges(_square(), **kwargs)


def test_bad_image():
    with pytest.raises(RetouchError, match=r"float image must be in \[0, 1\]"):
        edges(np.full((8, 8), 2.0, np.float32))


def test_edge_strength_units():
    step = np.zeros((9, 9))
    step[:, 5:] = 1.0
    for operator in ("sobel", "scharr"):
        s = edge_strength(step, sigma=0, operator=operator)
        assert s[4, 4] == pytest.approx(1.0) and s[4, 5] == pytest.approx(1.0)
        assert s[4, 1] == 0.0
    # a 10 % step measures 0.1
    assert edge_strength(0.1 * step, sigma=0)[4, 4] == pytest.approx(0.1)


def test_hand_checked_square():
    image = _square()
    regions = edges(image, min_size=10)
    assert regions[20, 20] and not regions[2, 2] and not regions[36, 36]
    band = edges(image, output="band", band_width=0)
    # Canny's thin edge runs along the square's outline, not inside or far outside
    assert not band[20, 20] and not band[2, 2]
    assert band[8:12, 20].any() and band[28:32, 20].any()
    wide = edges(image, output="band", band_width=2)
    assert wide.sum() > band.sum() and (wide | ~band).all()  # the band contains the edge
    # without filling, only the closed outline is kept
    outline = edges(image, fill=False, min_size=10)
    assert not outline[20, 20] and outline[band].all()
    # explicit thresholds above the square's contrast find nothing
    assert not edges(image, high=0.9, low=0.8).any()
    # a flat image has no edges
    assert not edges(np.full((20, 20), 0.5, np.float32)).any()


def test_close_bridges_a_gap():
    image = np.zeros((50, 50), np.uint8)
    image[10:40, 10] = image[10:40, 39] = image[10, 10:40] = 255
    image[39, 10:20] = image[39, 23:40] = 255  # a 3-pixel gap in the bottom line
    open_outline = edges(image, detector="sobel", sigma=0, close=0, high=0.5)
    assert not open_outline[25, 25]
    closed = edges(image, detector="sobel", sigma=0, close=3, high=0.5)
    assert closed[25, 25]


def test_min_size_drops_specks():
    image = _square()
    image[2, 2] = 200  # one bright pixel
    assert edges(image, detector="sobel", sigma=0, high=0.2, output="band", band_width=0, min_size=1)[1:4, 1:4].any()
    assert not edges(image, detector="sobel", sigma=0, high=0.2, output="band", band_width=0, min_size=30)[1:4, 1:4].any()


def test_quality_coins(coins):
    """Canny regions find the coins: IoU against scikit-image's watershed tutorial segmentation."""
    markers = np.zeros(coins.shape, np.uint8)
    markers[coins < 30] = 1
    markers[coins > 150] = 2
    reference = ndi.binary_fill_holes(watershed(sobel(coins), markers) == 2)
    mask = edges(coins)
    iou = (mask & reference).sum() / (mask | reference).sum()
    assert iou > 0.9
    _, n = ndi.label(mask)
    assert 20 <= n <= 30  # 24 coins
