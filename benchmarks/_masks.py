"""LaMa-style random inpainting masks: thin, medium and thick, from a fixed seed.

The generator follows LaMa's evaluation masks (Suvorov et al., "Resolution-
robust Large Mask Inpainting with Fourier Convolutions", WACV 2022,
DOI 10.1109/WACV51458.2022.00323; their ``make_random_irregular_mask`` and
``make_random_rectangle_mask``): irregular strokes made of up to five line
segments that turn by up to ``max_angle`` radians, plus, for the medium and
thick kinds, boxes with probability 0.3. The settings below are LaMa's for
512 px images (as listed in ``shared/data/README.md``); lengths, widths, box
sizes and the margin are scaled by ``sqrt(H * W) / 512`` so that a mask covers
about the same fraction of any image. A mask covering more than half of the
image (or nothing) is drawn again.

>>> m = lama_mask((321, 481), "medium", seed=0)
>>> m.shape, m.dtype, bool(0 < m.mean() <= 0.5)
((321, 481), dtype('bool'), True)
>>> bool((lama_mask((321, 481), "medium", seed=0) == m).all())
True
"""

from __future__ import annotations

import zlib

import cv2
import numpy as np

__all__ = ["KINDS", "SETTINGS", "lama_mask", "mask_seed"]

KINDS = ("thin", "medium", "thick")

# LaMa's evaluation settings for 512 x 512 images.
SETTINGS: dict[str, dict[str, float]] = {
    "thin": dict(min_times=4, max_times=70, max_width=20, max_len=100, max_angle=4, box_proba=0.0),
    "medium": dict(
        min_times=4, max_times=10, max_width=100, max_len=200, max_angle=4,
        box_proba=0.3, box_min_times=1, box_max_times=5, box_min=30, box_max=150, box_margin=10,
    ),
    "thick": dict(
        min_times=1, max_times=5, max_width=250, max_len=450, max_angle=4,
        box_proba=0.3, box_min_times=1, box_max_times=4, box_min=30, box_max=300, box_margin=10,
    ),
}

MAX_FRACTION = 0.5


def mask_seed(name: str, kind: str, seed: int = 0) -> int:
    """A stable per-(photo, kind) seed, so every run draws the same masks."""
    return (zlib.crc32(f"{name}:{kind}".encode()) + 1_000_003 * seed) % (2**32)


def _strokes(rng: np.random.Generator, h: int, w: int, s: dict[str, float], scale: float) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    times = int(rng.integers(s["min_times"], s["max_times"] + 1))
    max_len = max(1, int(round(s["max_len"] * scale)))
    max_width = max(1, int(round(s["max_width"] * scale)))
    for i in range(times):
        x, y = int(rng.integers(w)), int(rng.integers(h))
        for _ in range(1 + int(rng.integers(5))):
            angle = 0.01 + int(rng.integers(s["max_angle"]))
            if i % 2 == 0:
                angle = 2 * np.pi - angle
            length = int(round(10 * scale)) + int(rng.integers(max_len))
            width = max(1, int(round(5 * scale)) + int(rng.integers(max_width)))
            ex = int(np.clip(x + length * np.sin(angle), 0, w))
            ey = int(np.clip(y + length * np.cos(angle), 0, h))
            cv2.line(mask, (x, y), (ex, ey), 1, width)
            x, y = ex, ey
    return mask.astype(bool)


def _boxes(rng: np.random.Generator, h: int, w: int, s: dict[str, float], scale: float) -> np.ndarray:
    mask = np.zeros((h, w), bool)
    margin = int(round(s["box_margin"] * scale))
    lo = max(2, int(round(s["box_min"] * scale)))
    hi = min(int(round(s["box_max"] * scale)), h - 2 * margin, w - 2 * margin)
    if hi <= lo:
        return mask
    for _ in range(int(rng.integers(s["box_min_times"], s["box_max_times"] + 1))):
        bw, bh = int(rng.integers(lo, hi)), int(rng.integers(lo, hi))
        x0 = int(rng.integers(margin, w - margin - bw + 1))
        y0 = int(rng.integers(margin, h - margin - bh + 1))
        mask[y0 : y0 + bh, x0 : x0 + bw] = True
    return mask


def lama_mask(shape: tuple[int, int], kind: str, seed: int = 0) -> np.ndarray:
    """A LaMa-style ``H x W`` bool mask of ``kind`` ('thin', 'medium', 'thick')."""
    if kind not in SETTINGS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    h, w = int(shape[0]), int(shape[1])
    s = SETTINGS[kind]
    scale = float(np.sqrt(h * w) / 512.0)
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        mask = _strokes(rng, h, w, s, scale)
        if s["box_proba"] > 0 and rng.random() < s["box_proba"]:
            mask |= _boxes(rng, h, w, s, scale)
        if 0 < mask.mean() <= MAX_FRACTION:
            return mask
    raise RuntimeError("could not draw a mask under the coverage limit")  # pragma: no cover
