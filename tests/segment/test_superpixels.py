"""retouch.segment.superpixels: SLIC / Felzenszwalb / watershed labels and the segments under points."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage import data
from skimage.filters import sobel
from skimage.segmentation import watershed

from retouch import RetouchError, registry
from retouch.segment.superpixels import superpixel_labels, superpixels

ALGORITHMS = ["slic", "felzenszwalb", "watershed"]


@pytest.fixture(scope="module")
def coins() -> np.ndarray:
    img = data.coins()
    img.setflags(write=False)
    return img


@pytest.fixture(scope="module")
def coins_reference(coins) -> np.ndarray:
    """The coins as segmented in scikit-image's watershed tutorial."""
    markers = np.zeros(coins.shape, np.uint8)
    markers[coins < 30] = 1
    markers[coins > 150] = 2
    return ndi.binary_fill_holes(watershed(sobel(coins), markers) == 2)


def _two_halves(dtype=np.uint8) -> np.ndarray:
    image = np.zeros((40, 60), np.uint8)
    image[:, 30:] = 255
    if dtype == np.uint16:
        return image.astype(np.uint16) * 257
    if dtype == np.float32:
        return image.astype(np.float32) / 255
    return image


def test_registered():
    assert "superpixels" in registry.names("segment")
    assert "superpixel_labels" not in registry.names("segment")  # labels are not a mask


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_smoke(astronaut, algorithm):
    small = astronaut[::4, ::4]
    labels = superpixel_labels(small, algorithm=algorithm, n_segments=60)
    assert labels.shape == small.shape[:2] and labels.dtype == np.int32
    assert labels.min() == 0 and np.array_equal(np.unique(labels), np.arange(labels.max() + 1))
    assert labels.max() > 5
    mask = superpixels(small, points=[(60, 60)], algorithm=algorithm, n_segments=60)
    assert mask.dtype == bool and mask[60, 60] and mask.sum() < mask.size


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("layout", ["grey", "hw1", "rgb", "rgba"])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_shapes_and_dtypes(dtype, layout, algorithm):
    image = _two_halves(dtype)
    if layout == "hw1":
        image = image[..., None]
    elif layout in ("rgb", "rgba"):
        image = np.dstack([image] * (3 if layout == "rgb" else 4))
        if layout == "rgba":
            image[..., 3] = image.max() // 3 if dtype != np.float32 else 0.3
    kwargs = {"sigma": 0, "markers": "minima"} if algorithm != "slic" else {"n_segments": 2}
    mask = superpixels(image, points=[(45, 20)], algorithm=algorithm, **kwargs)
    assert mask.shape == (40, 60) and mask.dtype == bool
    assert mask[:, 30:].all() and not mask[:, :30].any()


def test_input_unchanged(astronaut):
    before = astronaut.copy()
    small = astronaut[::4, ::4]
    for algorithm in ALGORITHMS:
        superpixels(small, points=[(3, 3)], algorithm=algorithm, n_segments=30)
    assert np.array_equal(astronaut, before)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"points": [(60, 0)]}, r"points\[0\] \(60, 0\) is outside the 60x40 image"),
        ({"points": []}, "points is empty"),
        ({}, "points: Field required"),
        ({"points": [(1, 1)], "n_segments": 0}, "n_segments: Input should be greater than or equal to 1"),
        ({"points": [(1, 1)], "compactness": -1}, "compactness: Input should be greater than or equal to 0"),
        ({"points": [(1, 1)], "scale": 0}, "scale: Input should be greater than 0"),
        ({"points": [(1, 1)], "algorithm": "quickshift"}, "algorithm: Input should be 'slic', 'felzenszwalb' or 'watershed'"),
        ({"points": [(1, 1)], "markers": "random"}, "markers: Input should be 'grid' or 'minima'"),
    ],
)
def test_bad_input(kwargs, message):
    with pytest.raises(RetouchError, match=message):
        superpixels(_two_halves(), **kwargs)


def test_bad_labels_input():
    with pytest.raises(RetouchError, match=r"superpixel_labels: n_segments: Input should be greater than or equal to 1 \(got 0\)"):
        superpixel_labels(_two_halves(), n_segments=0)
    with pytest.raises(RetouchError, match="must be HxW"):
        superpixel_labels(np.zeros((3, 3, 5), np.uint8))


def test_hand_checked():
    # two flat halves: every algorithm separates them along the step
    for algorithm, kwargs in [("slic", {"n_segments": 2}), ("felzenszwalb", {"sigma": 0}), ("watershed", {"markers": "minima"})]:
        labels = superpixel_labels(_two_halves(), algorithm=algorithm, **kwargs)
        assert labels.max() == 1, algorithm
        assert len(np.unique(labels[:, :30])) == 1 and len(np.unique(labels[:, 30:])) == 1
    # grid markers make n_segments watershed basins on a flat image
    flat = np.zeros((40, 40), np.uint8)
    assert superpixel_labels(flat, algorithm="watershed", n_segments=16).max() + 1 == 16
    # points in two segments select both
    both = superpixels(_two_halves(), points=[(5, 5), (50, 5)], algorithm="felzenszwalb", sigma=0)
    assert both.all()


@pytest.mark.parametrize(
    ("algorithm", "kwargs"),
    [("slic", {}), ("felzenszwalb", {}), ("watershed", {}), ("watershed", {"markers": "minima"})],
)
def test_quality_coins_boundary_adherence(coins, coins_reference, algorithm, kwargs):
    """Achievable segmentation accuracy: superpixels respect the coins' outlines."""
    labels = superpixel_labels(coins, algorithm=algorithm, **kwargs)
    n = labels.max() + 1
    inside = np.bincount(labels.ravel(), weights=coins_reference.ravel(), minlength=n)
    total = np.bincount(labels.ravel(), minlength=n)
    asa = np.maximum(inside, total - inside).sum() / labels.size
    assert asa > 0.97
    assert 100 < n < 3000
