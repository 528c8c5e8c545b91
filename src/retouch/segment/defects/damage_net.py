"""The damage network of :func:`retouch.segment.damage`: every pixel's category of damage.

A small U-Net (two 3 x 3 convolutions with ReLU at each of four levels,
full size down to 1/8, of 8, 16, 32 and 48 channels; max pooling down,
nearest upsampling and the skip connections up; a 1 x 1 convolution to
four logits) reads :data:`PLANES` planes per pixel: the photo's RGB in
[0, 1] less 0.5, and its difference from the median of an
:data:`WINDOW` px window, times 4 (thin damage and specks stand out of it).
It gives every pixel the probability of four categories: none, thin
(cracks, creases, scratches, hair), spots (dust, dirt, foxing) and losses
(torn corners, lost emulsion). It is trained by
``training/train_damage_net.py`` (PyTorch, on CPUs) on realistic damage
(:mod:`benchmarks._realdamage`, film-dust shapes of scans 01-04 only) laid
over the GrabCut set's photos and DAVIS tune frames (and clean hard
negatives: sharpened, shrunk, grained, with a window's leads or rails), never
over the CBSD68 photos that ``benchmarks/restore_real.py`` scores on, and shipped as ONNX
(``models/damage_net.onnx``) that OpenCV's ``cv2.dnn`` runs.

Photos are run tile by tile (:data:`TILE` px, each with :data:`HALO` px of
its neighbours, more than the network sees), so memory is bounded by the
tile whatever the photo's size.
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

__all__ = ["NET", "PLANES", "WINDOW", "HALO", "TILE", "CATEGORIES", "inputs", "probabilities", "damage_map", "damage_labels",
           "judged_labels", "tile_parts", "clean_up", "release"]

NET = Path(__file__).parent / "models" / "damage_net.onnx"
PLANES = 6
WINDOW = 11
HALO = 64  # px each output pixel depends on to every side is about 51; a multiple of 8 keeps the pooling grid
# px: a tile and its halo are run at once. cv2.dnn holds about 440 bytes a pixel of the tile and its halo
# (the network's full-size layers): 260 MiB at 640 px, which runs 1.44 times the photo's pixels (512:
# 180 MiB, 1.56 times; 768: 350 MiB, 1.36 times)
TILE = 640
CATEGORIES = ("thin", "spots", "losses")  # categories 1, 2, 3 (0: none)

_local = threading.local()  # a cv2.dnn.Net is not safe to share between threads


def _net() -> cv2.dnn.Net:
    cached = getattr(_local, "net", None)
    if cached is None or cached[0] != NET:
        cached = _local.net = (NET, cv2.dnn.readNetFromONNX(str(NET)))
    return cached[1]


def release() -> None:
    """Drop this thread's network: cv2.dnn keeps the buffers of the largest input it ran (about 350 MiB
    after a tile of :data:`TILE` px and its halo) for as long as the network lives. A photo of more
    than one tile drops it when done; the next photo reads it again (a few milliseconds)."""
    _local.net = None


def inputs(rgb: np.ndarray) -> np.ndarray:
    """The network's planes (``H x W x PLANES`` float32) of a uint8 RGB photo."""
    colour = rgb.astype(np.float32) / 255
    background = cv2.medianBlur(rgb, WINDOW).astype(np.float32) / 255
    return np.concatenate([colour - 0.5, (colour - background) * 4], axis=2)


def _run(rgb: np.ndarray) -> np.ndarray:
    """Softmax probabilities (``4 x H x W`` float32) of a uint8 RGB tile, padded to a multiple of 8 by reflection."""
    h, w = rgb.shape[:2]
    ph, pw = -h % 8, -w % 8
    planes = inputs(rgb)
    if ph or pw:
        planes = cv2.copyMakeBorder(planes, 0, ph, 0, pw, cv2.BORDER_REFLECT)
    net = _net()
    net.setInput(np.ascontiguousarray(planes.transpose(2, 0, 1)[None]))
    logits = net.forward()[0, :, :h, :w]
    e = np.exp(logits - logits.max(axis=0))
    return e / e.sum(axis=0)


def probabilities(rgb: np.ndarray) -> np.ndarray:
    """The four categories' probabilities (``H x W x 4`` float32) of a small uint8 RGB photo, in one run."""
    return _run(rgb).transpose(1, 2, 0)


def damage_labels(rgb: np.ndarray, sure: float, *, tile: int = TILE) -> np.ndarray:
    """Each pixel's category (``H x W`` uint8, 1-3; 0 where the probability of damage is under ``sure``) of
    a uint8 RGB photo: ``np.where(p >= sure, category, 0)`` of :func:`damage_map`, tile by tile, so a
    large scan needs no float map of its own size."""
    h, w = rgb.shape[:2]
    out = np.empty((h, w), np.uint8)
    for y0, y1, x0, x1, probs in _tiles(rgb, tile):
        out[y0:y1, x0:x1] = np.where(1 - probs[0] >= sure, probs[1:].argmax(axis=0) + 1, 0)
    return out


def _regions(h: int, w: int, tile: int):
    """Each tile's core ``(y0, y1, x0, x1)`` and the region it is run on, with :data:`HALO` px of its neighbours ``(ya, yb, xa, xb)``.

    A large photo (more than one tile) releases the network's buffers when done, so they are not kept for the next photo.
    """
    try:
        for y0 in range(0, h, tile):
            for x0 in range(0, w, tile):
                y1, x1 = min(h, y0 + tile), min(w, x0 + tile)
                yield (y0, y1, x0, x1), (max(0, y0 - HALO), min(h, y1 + HALO), max(0, x0 - HALO), min(w, x1 + HALO))
    finally:
        if h > tile or w > tile:
            release()


def _tiles(rgb: np.ndarray, tile: int):
    """(y0, y1, x0, x1, the tile's ``4 x h x w`` probabilities) of each tile, run with :data:`HALO` px of its neighbours."""
    for (y0, y1, x0, x1), (ya, yb, xa, xb) in _regions(*rgb.shape[:2], tile):
        yield y0, y1, x0, x1, _run(np.ascontiguousarray(rgb[ya:yb, xa:xb]))[:, y0 - ya : y1 - ya, x0 - xa : x1 - xa]


def tile_parts(rgb: np.ndarray, tile: int = TILE):
    """For each tile, run with :data:`HALO` px of its neighbours: (the tile's core ``y0, y1, x0, x1``
    within the run region, the run region ``ya, yb, xa, xb``, its ``4 x h x w`` probabilities, its
    parts and their features, :func:`damage_parts.measure <.damage_parts.measure>`)."""
    from . import damage_parts

    h, w = rgb.shape[:2]
    for (y0, y1, x0, x1), (ya, yb, xa, xb) in _regions(h, w, tile):
        region = np.ascontiguousarray(rgb[ya:yb, xa:xb])
        probs = _run(region)
        parts, x = damage_parts.measure(region, 1 - probs[0], probs[1:], (ya == 0, yb == h, xa == 0, xb == w))
        yield (y0 - ya, y1 - ya, x0 - xa, x1 - xa), (ya, yb, xa, xb), probs, parts, x


def judged_labels(rgb: np.ndarray, keep: float, *, tile: int = TILE, model: Path | None = None) -> np.ndarray:
    """Each pixel's category (``H x W`` uint8, 1-3; 0: none) of a uint8 RGB photo, kept by part: the
    network's map cut at :data:`damage_parts.LOW <.damage_parts.LOW>`, and each part kept when the
    trees give it at least ``keep`` (and a loss shows a loss's edge: :func:`damage_parts.kept
    <.damage_parts.kept>`). Tile by tile,
    each tile's parts measured with its halo (a part longer than the halo is measured by the piece
    of it each tile sees)."""
    from . import damage_parts

    h, w = rgb.shape[:2]
    out = np.empty((h, w), np.uint8)
    for (cy0, cy1, cx0, cx1), (ya, _, xa, _), probs, parts, x in tile_parts(rgb, tile):
        kept = np.concatenate([[False], damage_parts.kept(x, keep, model)])
        core = (slice(cy0, cy1), slice(cx0, cx1))
        out[ya + cy0 : ya + cy1, xa + cx0 : xa + cx1] = np.where(kept[parts[core]], probs[1:, cy0:cy1, cx0:cx1].argmax(axis=0) + 1, 0)
    return out


def damage_map(rgb: np.ndarray, *, tile: int = TILE) -> tuple[np.ndarray, np.ndarray]:
    """(probability of damage ``H x W`` float32, most likely category 1-3 ``H x W`` uint8) of a uint8 RGB photo.

    Run tile by tile, each tile with :data:`HALO` px of its neighbours, so
    memory stays bounded by the tile; tiles start on multiples of 8 px, as
    the whole photo's run does, so the network's pooling sees the same grid.
    """
    h, w = rgb.shape[:2]
    p = np.empty((h, w), np.float32)
    category = np.empty((h, w), np.uint8)
    for y0, y1, x0, x1, probs in _tiles(rgb, tile):
        p[y0:y1, x0:x1] = 1 - probs[0]
        category[y0:y1, x0:x1] = probs[1:].argmax(axis=0) + 1
    return p, category


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
