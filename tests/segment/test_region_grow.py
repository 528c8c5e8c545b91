"""retouch.segment.region_grow: seeded growth on Lab colour, numba kernel = reference."""

from __future__ import annotations

import numpy as np
import pytest

from retouch import RetouchError, registry
from retouch.convert import to_lab
from retouch.segment._region_grow_kernels import NEIGHBOURS_4, NEIGHBOURS_8, grow, grow_reference
from retouch.segment.region_grow import region_grow

SKY = (slice(10, 100), slice(280, 500))  # in data.camera()
COAT = (slice(300, 450), slice(20, 100))
GRASS = (slice(260, 350), slice(400, 500))


def _blocky(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A small RGB picture of flat blocks with a little noise and a gradient."""
    base = rng.integers(0, 256, size=(h // 4 + 1, w // 4 + 1, 3))
    img = np.kron(base, np.ones((4, 4, 1)))[:h, :w]
    img = img + rng.normal(0, 4, img.shape) + np.linspace(0, 20, w)[None, :, None]
    return np.clip(img, 0, 255).astype(np.uint8)


def test_registered():
    assert "region_grow" in registry.names("segment")


def test_smoke(camera):
    mask = region_grow(camera, seeds=[(400, 50)])
    assert mask.shape == camera.shape and mask.dtype == bool
    assert mask[50, 400] and 1 < mask.sum() < mask.size


@pytest.mark.parametrize(
    "image",
    [
        np.full((6, 7), 100, np.uint8),
        np.full((6, 7), 30000, np.uint16),
        np.full((6, 7), 0.4, np.float32),
        np.full((6, 7, 1), 100, np.uint8),
        np.full((6, 7, 3), 100, np.uint8),
        np.dstack([np.full((6, 7, 3), 100, np.uint8), np.arange(42, dtype=np.uint8).reshape(6, 7)]),
    ],
    ids=["u8", "u16", "f32", "hw1", "rgb", "rgba-alpha-ignored"],
)
def test_shapes_and_dtypes(image):
    image = image.copy()
    image[:, 4] = image.max() // 2 if image.dtype != np.float32 else 0.1
    if image.ndim == 3 and image.shape[2] == 4:
        image[:, 4, 3] = image[:, 3, 3]  # the alpha channel changes nothing
    mask = region_grow(image, seeds=[(0, 0)], tolerance=5)
    assert mask.shape == (6, 7) and mask.dtype == bool
    expected = np.zeros((6, 7), bool)
    expected[:, :4] = True
    assert np.array_equal(mask, expected)


def test_input_unchanged(astronaut):
    before = astronaut.copy()
    region_grow(astronaut, seeds=[(10, 10), (300, 300)], sigma=1, reference="seed")
    assert np.array_equal(astronaut, before)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seeds": [(64, 3)]}, r"seeds\[0\] \(64, 3\) is outside the 64x48 image; x must be in 0\.\.63"),
        ({"seeds": [(3, 3), (-1, 3)]}, r"seeds\[1\] \(-1, 3\) is outside"),
        ({"seeds": []}, "seeds is empty; give at least one"),
        ({"seeds": [(1, 1)], "tolerance": -1}, "tolerance: Input should be greater than or equal to 0"),
        ({"seeds": [(1, 1)], "connectivity": 6}, "connectivity: Input should be 4 or 8"),
        ({"seeds": [(1, 1)], "reference": "median"}, "reference: Input should be 'mean' or 'seed'"),
        ({"seeds": [(1, 1)], "max_size": 0}, "max_size: Input should be greater than or equal to 1"),
        ({"seeds": [(1, 2, 3)]}, "seeds.0: Tuple should have at most 2 items"),
        ({}, "seeds: Field required"),
    ],
)
def test_bad_input(kwargs, message):
    image = np.zeros((48, 64, 3), np.uint8)
    with pytest.raises(RetouchError, match=message):
        region_grow(image, **kwargs)


def test_hand_checked():
    image = np.zeros((4, 5), np.uint8)
    image[:, 3:] = 200
    image[0, 0] = 20  # L about 6.3 from black: outside tolerance 5, inside 10
    m = region_grow(image, seeds=[(1, 1)], tolerance=5)
    assert m.astype(int).tolist() == [[0, 1, 1, 0, 0], [1, 1, 1, 0, 0], [1, 1, 1, 0, 0], [1, 1, 1, 0, 0]]
    assert region_grow(image, seeds=[(1, 1)], tolerance=10)[0, 0]
    # two seeds, two regions
    both = region_grow(image, seeds=[(1, 1), (4, 3)], tolerance=5)
    assert both.sum() == 11 + 8
    # 4- and 8-connectivity: a diagonal line
    diag = np.full((4, 4), 255, np.uint8)
    np.fill_diagonal(diag, 0)
    assert region_grow(diag, seeds=[(0, 0)], tolerance=1, connectivity=4).sum() == 1
    assert region_grow(diag, seeds=[(0, 0)], tolerance=1, connectivity=8).sum() == 4
    # max_size counts the seeds and stops the growth in BFS order
    flat = np.zeros((5, 5), np.uint8)
    limited = region_grow(flat, seeds=[(2, 2)], max_size=5)
    assert limited.astype(int).tolist()[1:4] == [[0, 0, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 0, 0]]
    assert limited.sum() == 5


def test_mean_and_seed_reference_differ_on_a_ramp():
    ramp = np.tile(np.arange(0, 256, 4, dtype=np.uint8), (3, 1))  # L climbs slowly
    seed = region_grow(ramp, seeds=[(0, 1)], tolerance=8, reference="seed")
    mean = region_grow(ramp, seeds=[(0, 1)], tolerance=8, reference="mean")
    assert seed.sum() < mean.sum()  # the running mean follows the ramp further


@pytest.mark.parametrize("trial", range(6))
def test_kernel_matches_reference(trial):
    rng = np.random.default_rng(trial)
    h, w = rng.integers(5, 30, size=2)
    lab = to_lab(_blocky(rng, int(h), int(w)))
    seeds = np.column_stack([rng.integers(0, h, 3), rng.integers(0, w, 3)]).astype(np.int64)
    seeds[2] = seeds[0]  # a repeated seed is skipped the same way
    for use_mean in (True, False):
        for nb in (NEIGHBOURS_4, NEIGHBOURS_8):
            for tol in (0.0, 6.0, 15.0, 40.0):
                for max_size in (0, 1, 7, int(h * w) // 3):
                    fast = grow(lab, seeds, tol, use_mean, nb, max_size)
                    slow = grow_reference(lab, seeds, tol, use_mean, nb, max_size)
                    assert np.array_equal(fast, slow), (use_mean, len(nb), tol, max_size)


def test_region_grow_uses_the_kernel_order():
    """The public function equals the reference on its Lab image."""
    rng = np.random.default_rng(7)
    image = _blocky(rng, 20, 24)
    lab = np.ascontiguousarray(to_lab(image))
    for reference in ("mean", "seed"):
        mask = region_grow(image, seeds=[(3, 4), (20, 15)], tolerance=12, reference=reference, connectivity=8, max_size=150)
        ref = grow_reference(lab, np.array([[4, 3], [15, 20]]), 12.0, reference == "mean", NEIGHBOURS_8, 150)
        assert np.array_equal(mask, ref)


def test_quality_camera_sky(camera):
    """A click in the sky takes the sky and neither the coat nor the grass."""
    mask = region_grow(camera, seeds=[(400, 50)], tolerance=8, sigma=1.5)
    assert mask[SKY].mean() > 0.97
    assert mask[COAT].mean() == 0.0
    assert mask[GRASS].mean() < 0.01
