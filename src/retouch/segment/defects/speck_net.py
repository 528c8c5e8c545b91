"""The speck network of :func:`retouch.segment.spots`: every pixel's probability of lying on a speck.

A small fully convolutional network (six 3 x 3 convolutions of 32
channels, dilated 1, 2, 4, 8, 16 and 1, each followed by a ReLU, then a
1 x 1 convolution to one logit per pixel: 48,033 weights, seeing 32 px to
every side) reads six planes per pixel: the photo's RGB in [0, 1] less 0.5,
and its difference from the median of a 31 x 31 window, times 4. It is
trained by ``training/train_spots_net.py`` (PyTorch, on the GrabCut set's
photos with drawn specks, never the CBSD68 photos that
``benchmarks/restore.py`` scores on) and shipped as ONNX
(``models/spots_net.onnx``), which OpenCV's ``cv2.dnn`` runs, so detecting needs
neither PyTorch nor a download.

The network and the boosted trees of :mod:`.specks` look at dust
differently: the trees judge each candidate by hand-made measures of its
shape, contrast and neighbourhood and reject many plainly visible specks
that lie on texture; the network looks at the pixels themselves and finds
most of those, but also takes more glints and holes in foliage.
:func:`retouch.segment.spots` keeps what either is sure of.
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
from scipy.special import expit

from ...convert import to_float

__all__ = ["NET", "WINDOW", "HALO", "BANDS", "inputs", "probability", "release"]

NET = Path(__file__).parent / "models" / "spots_net.onnx"
WINDOW = 31  # the median window of the background the network was trained with
HALO = 32  # px every output pixel sees to each side: the sum of the dilations
# px: larger photos are run tile by tile (each with HALO px of its neighbours), the same to 1e-5. The
# network's 32-channel layers take about 0.5 KB a pixel, so a tile's size bounds the memory: spots' tiles
# of a large scan (1024 px and a 124 px halo) are cut in two each way, as many pixels run as with one
# 1024 px tile, and on a 5 MP scan spots' peak fell from 479 to about 250 MiB.
TILE = 640

_local = threading.local()  # a cv2.dnn.Net is not safe to share between threads


def _net() -> cv2.dnn.Net:
    net = getattr(_local, "net", None)
    if net is None:
        net = _local.net = cv2.dnn.readNetFromONNX(str(NET))
    return net


def release() -> None:
    """Drop this thread's network: cv2.dnn keeps the buffers of the largest input it ran (about 0.5 KB a
    pixel) for as long as the network lives. :func:`retouch.segment.spots` drops it when it is done
    with a large scan; the next photo reads it again (a few milliseconds)."""
    _local.net = None


def inputs(rgb: np.ndarray) -> np.ndarray:
    """The network's six planes (``H x W x 6`` float32) of a uint8 RGB photo."""
    colour = to_float(rgb)
    background = to_float(cv2.medianBlur(rgb, WINDOW))
    return np.concatenate([colour - 0.5, (colour - background) * 4], axis=2)


def probability(planes: np.ndarray, *, tile: int = TILE, where: np.ndarray | None = None) -> np.ndarray:
    """Each pixel's probability (``H x W`` float32) of lying on a speck, from a photo's :func:`inputs`.

    Photos larger than ``tile`` on a side are run in tiles that overlap by
    :data:`HALO`, so memory stays bounded
    and the result equals the whole photo's run. With ``where`` (bool
    ``H x W``), the network is run only over the pieces of the photo that
    hold its True pixels: bands of rows (of the heights in :data:`BANDS`), and in each band the
    runs of columns that hold them (runs closer than two halos merged),
    each with its halo. Every pixel of ``where`` gets the whole photo's
    probability (to 1e-5); pixels of no piece get 0.
    """
    h, w = planes.shape[:2]
    net = _net()
    if where is None:
        logit = np.empty((h, w), np.float32)
        boxes = [(y0, min(h, y0 + tile), x0, min(w, x0 + tile)) for y0 in range(0, h, tile) for x0 in range(0, w, tile)]
    else:
        logit = np.full((h, w), -np.inf, np.float32)
        boxes = _pieces(where, tile)
    for y0, y1, x0, x1 in boxes:
        ya, xa = max(0, y0 - HALO), max(0, x0 - HALO)
        yb, xb = min(h, y1 + HALO), min(w, x1 + HALO)
        net.setInput(np.ascontiguousarray(planes[ya:yb, xa:xb].transpose(2, 0, 1)[None]))
        logit[y0:y1, x0:x1] = net.forward()[0, 0, y0 - ya : y1 - ya, x0 - xa : x1 - xa]
    return expit(logit, out=logit)


BANDS = (32, 64, 128, 256)  # rows of a band of the pieces run with ``where``: the cheapest is taken


def _pieces(where: np.ndarray, tile: int) -> list[tuple[int, int, int, int]]:
    """(y0, y1, x0, x1) of the pieces :func:`probability` runs to cover ``where``: in each band of rows,
    the runs of columns that hold a True pixel, runs less than two halos apart merged (running the gap
    costs less than a second halo), each cut to at most ``tile`` wide; of bands of each height in
    :data:`BANDS` (at most ``tile``), those that run the fewest pixels with their halos (sparse pixels
    are cheaper in low bands, dense ones in high bands, whose halos are fewer)."""
    best, cost = [], None
    for band in sorted({min(b, tile) for b in BANDS}):
        pieces = _banded(where, band, tile)
        run = sum((y1 - y0 + 2 * HALO) * (x1 - x0 + 2 * HALO) for y0, y1, x0, x1 in pieces)
        if cost is None or run < cost:
            best, cost = pieces, run
    return best


def _banded(where: np.ndarray, band: int, tile: int) -> list[tuple[int, int, int, int]]:
    h, w = where.shape
    out = []
    for y0 in range(0, h, band):
        y1 = min(h, y0 + band)
        cols = np.flatnonzero(where[y0:y1].any(axis=0))
        if not len(cols):
            continue
        breaks = np.flatnonzero(np.diff(cols) > 2 * HALO)
        starts = np.r_[cols[0], cols[breaks + 1]]
        stops = np.r_[cols[breaks] + 1, cols[-1] + 1]
        for a, b in zip(starts, stops):
            for x0 in range(int(a), int(b), tile):
                out.append((y0, y1, x0, min(int(b), x0 + tile)))
    return out
