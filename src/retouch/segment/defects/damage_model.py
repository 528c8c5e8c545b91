"""The per-pixel damage model of :func:`retouch.segment.damage`: what it reads of each pixel, and its trees.

Every pixel is described by cheap filter responses of the photo's luma and
colour (:data:`FEATURES`): how far it lies from medians of four sizes (thin
damage and specks stand out of a median wider than they are), the
curvature of the luma at two scales (the Hessian's eigenvalues: ridges and
valleys of cracks, hair and scratches), the texture and edges of the
background it lies on (a 5 x 5 median removes thin damage, so its gradient
and local spread are the scene's own), how grey its difference from its
surroundings is (dust, cracks and scratches are grey or paper white; the
scene's details are coloured), and how crowded the neighbourhood is with
other such pixels (texture repeats; damage stands apart). Gradient-boosted
trees (``training/train_damage.py``), written out as arrays and walked
by :func:`retouch.segment.defects.trees.boosted_probability`, turn them into the
probability that the pixel is damage. Only pixels that differ from some
median by at least :data:`CANDIDATE` are weighed; the others are not damage.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from . import trees as _forest

__all__ = ["FEATURES", "CONTEXT", "MODEL", "CONTEXT_MODEL", "CANDIDATE", "features", "photo_chroma", "context", "first", "probability", "clean_up",
           "drop_thick"]

MODEL = Path(__file__).with_name("models") / "damage_first.npz"
CONTEXT_MODEL = Path(__file__).with_name("models") / "damage_context.npz"
MEDIANS = (5, 9, 17, 31)
# px each output pixel's probability depends on, to every side: the first trees read up to 19 px
# (the 31 px box of strong 9 px median residuals), the second read their output up to 12 px further
# (the 25 px box); tiles overlap by more than both
HALO = 40
TILE = 1024
THICK_RADIUS, THICK_EXTENT = 2.5, 20  # px: see drop_thick
CANDIDATE = 0.03  # |luma - some median| below this (about 8 levels of 255): not weighed, not damage
FEATURES = (
    "luma", "background",
    *(f"residual_{k}" for k in MEDIANS),
    "hessian_hi_1", "hessian_lo_1", "hessian_hi_2", "hessian_lo_2",
    "texture_9", "texture_21", "edge",
    "chroma", "residual_chroma",
    "crowd", "paper", "photo_chroma",
)


def _box(x: np.ndarray, k: int) -> np.ndarray:
    return cv2.boxFilter(x, cv2.CV_32F, (k, k), borderType=cv2.BORDER_REFLECT)


def _hessian(y: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """The larger and smaller eigenvalue of the luma's Hessian at ``sigma``, scaled by sigma squared."""
    g = cv2.GaussianBlur(y, (0, 0), sigma)
    dxx = cv2.Sobel(g, cv2.CV_32F, 2, 0, ksize=3)
    dyy = cv2.Sobel(g, cv2.CV_32F, 0, 2, ksize=3)
    dxy = cv2.Sobel(g, cv2.CV_32F, 1, 1, ksize=3)
    half = (dxx + dyy) / 2
    root = np.sqrt(((dxx - dyy) / 2) ** 2 + dxy**2)
    s2 = np.float32(sigma**2)
    return (half + root) * s2, (half - root) * s2


def features(rgb: np.ndarray, photo_chroma: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(``H x W x len(FEATURES)`` float32, ``H x W`` bool candidates) of a uint8 RGB photo.

    ``photo_chroma`` is the whole photo's (:func:`photo_chroma`) when ``rgb`` is a tile of it."""
    h, w = rgb.shape[:2]
    luma8 = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    y = luma8.astype(np.float32) / 255
    out = np.empty((h, w, len(FEATURES)), np.float32)
    out[..., 0] = y
    medians = [cv2.medianBlur(luma8, k).astype(np.float32) / 255 for k in MEDIANS]
    out[..., 1] = medians[-1]
    for j, m in enumerate(medians):
        out[..., 2 + j] = y - m
    k = 2 + len(MEDIANS)
    for sigma in (1.0, 2.0):
        hi, lo = _hessian(y, sigma)
        out[..., k], out[..., k + 1] = hi, lo
        k += 2
    base = medians[0]
    for size in (9, 21):
        mean = _box(base, size)
        out[..., k] = np.sqrt(np.maximum(_box(base * base, size) - mean * mean, 0))
        k += 1
    gx = cv2.Sobel(base, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(base, cv2.CV_32F, 0, 1, ksize=3)
    out[..., k] = np.sqrt(gx * gx + gy * gy)
    k += 1
    f = rgb.astype(np.float32) / 255
    out[..., k] = f.max(axis=2) - f.min(axis=2)
    res = f - cv2.medianBlur(rgb, 9).astype(np.float32) / 255
    out[..., k + 1] = res.max(axis=2) - res.min(axis=2)
    k += 2
    strong = (np.abs(out[..., 3]) >= 2 * CANDIDATE).astype(np.float32)  # residual of the 9 x 9 median
    out[..., k] = _box(strong, 31)
    out[..., k + 1] = np.minimum(y, 1 - y)
    # how colourful the whole photo is: on a black and white scan every pixel is grey, so greyness
    # tells nothing there (the median over a grid of pixels, the same for every tile of a photo)
    out[..., k + 2] = photo_chroma if photo_chroma is not None else float(np.median(out[::7, ::7, k - 2]))
    candidates = np.abs(out[..., 2 : 2 + len(MEDIANS)]).max(axis=2) >= CANDIDATE
    return out, candidates


def photo_chroma(rgb: np.ndarray) -> float:
    """The median over a grid of pixels of the spread of their channels: 0 on a black and white photo."""
    f = rgb[::7, ::7].astype(np.float32) / 255
    return float(np.median(f.max(axis=2) - f.min(axis=2)))


def context(p: np.ndarray) -> np.ndarray:
    """What the second trees read of the first trees' probabilities ``p`` around each pixel
    (``H x W x len(CONTEXT)`` float32): the mean over 5, 11 and 25 px, the most within 3 and 7 px,
    and the curvature of ``p`` (a line of damage is a ridge of it)."""
    h, w = p.shape
    out = np.empty((h, w, len(CONTEXT)), np.float32)
    out[..., 0] = p
    for j, k in enumerate((5, 11, 25)):
        out[..., 1 + j] = _box(p, k)
    for j, k in enumerate((3, 7)):
        out[..., 4 + j] = cv2.dilate(p, np.ones((k, k), np.uint8))
    hi, lo = _hessian(p, 1.5)
    out[..., 6], out[..., 7] = hi, lo
    return out


CONTEXT = ("p", "p_mean_5", "p_mean_11", "p_mean_25", "p_max_3", "p_max_7", "p_hessian_hi", "p_hessian_lo")


def first(x: np.ndarray, candidates: np.ndarray, model: Path = MODEL) -> np.ndarray:
    """The first trees' probability (``H x W`` float32; 0 off the candidates) from :func:`features`."""
    p = np.zeros(candidates.shape, np.float32)
    if candidates.any():
        p[candidates] = _forest.boosted_probability(model, x[candidates])
    return p


def probability(rgb: np.ndarray, *, model: Path = MODEL, second: Path | None = CONTEXT_MODEL, tile: int = TILE,
                chroma: float | None = None) -> np.ndarray:
    """Each pixel's probability (``H x W`` float32) of being damage, for a uint8 RGB photo.

    The first trees read :func:`features`; the second (``second``; ``None``:
    the first trees only) read the same and :func:`context` of the first's.
    A photo larger than ``tile`` on a side is run tile by tile, each with
    :data:`HALO` px of its neighbours (more than both trees see), so memory
    stays bounded by the tile and the result is the whole photo's.
    """
    h, w = rgb.shape[:2]
    chroma = photo_chroma(rgb) if chroma is None else chroma
    if max(h, w) > tile:
        out = np.empty((h, w), np.float32)
        for y0 in range(0, h, tile):
            for x0 in range(0, w, tile):
                y1, x1 = min(h, y0 + tile), min(w, x0 + tile)
                ya, xa, yb, xb = max(0, y0 - HALO), max(0, x0 - HALO), min(h, y1 + HALO), min(w, x1 + HALO)
                part = probability(np.ascontiguousarray(rgb[ya:yb, xa:xb]), model=model, second=second, tile=tile + 2 * HALO,
                                   chroma=chroma)
                out[y0:y1, x0:x1] = part[y0 - ya : y1 - ya, x0 - xa : x1 - xa]
        return out
    x, candidates = features(rgb, chroma)
    p = first(x, candidates, model)
    if second is None or not candidates.any():
        return p
    both = np.concatenate([x[candidates], context(p)[candidates]], axis=1)
    out = np.zeros(candidates.shape, np.float32)
    out[candidates] = _forest.boosted_probability(second, both)
    return out


def clean_up(p: np.ndarray, sure: float, *, seed: float | None = None, min_pixels: int = 3) -> np.ndarray:
    """The damage mask of probabilities ``p``: pixels of at least ``sure`` in groups of at least
    ``min_pixels`` that hold a pixel of at least ``seed`` (default: ``sure``)."""
    mask = p >= sure
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
    if count <= 1:
        return mask
    keep = stats[:, cv2.CC_STAT_AREA] >= min_pixels
    if seed is not None and seed > sure:
        strong = np.zeros(count, bool)
        strong[np.unique(labels[p >= seed])] = True
        keep &= strong
    keep[0] = False
    return keep[labels]


def drop_thick(mask: np.ndarray, *, radius: float = THICK_RADIUS, extent: int = THICK_EXTENT) -> np.ndarray:
    """``mask`` less its groups that are both thick (a disc of more than ``radius`` px fits inside) and
    large (more than ``extent`` px across): a crack, a hair or a scratch is at most about 5 px wide
    and a speck of dust at most 20 px across, so such a group is part of the scene, most often the
    strokes of lettering (on a 1939 photo of a petrol-price sign, 10 % of the photo was marked, the
    sign's letters whole, and 4.8 % with this rule; on the held-out GrabCut photos it drops nothing
    that was damage)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
    if count <= 1:
        return mask
    inside = cv2.distanceTransform(mask.view(np.uint8), cv2.DIST_L2, 3)
    widest = np.zeros(count, np.float32)
    np.maximum.at(widest, labels.ravel(), inside.ravel())
    drop = (widest > radius) & (np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]) > extent)
    drop[0] = False
    return mask & ~drop[labels]
