"""Private machinery of :func:`retouch.segment.text`: colour modes, glyphs and lines.

Overlaid text (a date stamp, a caption) is drawn in *one* flat colour, so
its stroke pixels pile up in one small cell of the colour histogram, while
texture spreads over many. The detector therefore

1. marks the pixels that stand out from their surroundings (the largest
   white or black top-hat over the colour channels, with a structuring
   element wider than a stroke);
2. repeatedly takes the densest colour among the marked pixels that are
   left (a 32-level histogram per channel, smoothed over neighbouring
   cells) and selects every pixel of the image within a tolerance of it,
   plus the marked pixels touching those that are within 0.5 of it (the
   anti-aliased edges of thin strokes, which join a small glyph's pieces);
3. keeps the connected parts of that selection shaped like glyphs (tall
   enough, strokes thin for their height, not solid blocks, not much wider
   than tall);
4. chains glyphs of similar height whose baselines or centres align and
   whose gaps are at most a glyph height into lines;
5. keeps a line of at least ``min_chars`` glyphs when its colour is rare
   in a band around it (texture of that colour continues around; a caption
   does not) and it contrasts with the pixels just outside its strokes.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage as ndi

__all__ = ["Glyph", "stand_out", "colour_modes", "glyphs", "lines", "line_tests"]

_LEVEL = np.arange(256, dtype=np.float32) / np.float32(255)  # each 8-bit level as a float in [0, 1]
_BAND = 256  # rows compared at once

_EIGHT = np.ones((3, 3), bool)


@dataclass
class Glyph:
    """A glyph-shaped connected part: its bounding box and mask in that box."""

    y0: int
    y1: int
    x0: int
    x1: int
    mask: np.ndarray

    @property
    def h(self) -> int:
        return self.y1 - self.y0


def stand_out(rgb: np.ndarray, size: int, contrast: float) -> np.ndarray:
    """Whether some channel's white or black top-hat of a uint8 photo is at least ``contrast`` (of full
    scale), ``H x W`` bool.

    The openings and closings are taken in 8 bits and the top-hats compared in float32 (``x / 255``
    less the opening's ``o / 255``, as on a float photo), a band of rows at a time: no float planes
    of the photo's size.
    """
    se = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    planes = [rgb] if rgb.ndim == 2 else [rgb[..., c] for c in range(rgb.shape[2])]
    out = np.zeros(rgb.shape[:2], bool)
    for plane in planes:  # a channel at a time
        plane = np.ascontiguousarray(plane)
        for op in (cv2.MORPH_OPEN, cv2.MORPH_CLOSE):
            other = cv2.morphologyEx(plane, op, se)
            top, low = (plane, other) if op == cv2.MORPH_OPEN else (other, plane)
            for y in range(0, plane.shape[0], _BAND):
                rows = slice(y, y + _BAND)
                out[rows] |= _LEVEL[top[rows]] - _LEVEL[low[rows]] >= contrast
    return out



def _within(rgb: np.ndarray, mode: np.ndarray, tolerance: float) -> np.ndarray:
    """``np.abs(rgb / 255 - mode).max(axis=2) <= tolerance`` of a uint8 photo, by a lookup table per channel
    (the same float32 arithmetic on each of the 256 levels; no float planes of the photo's size)."""
    out = None
    for c in range(rgb.shape[2]):
        lut = np.abs(_LEVEL - mode[c]) <= tolerance
        here = lut[rgb[..., c]]
        out = here if out is None else np.logical_and(out, here, out=out)
    return out


def colour_modes(rgb: np.ndarray, marked: np.ndarray, *, min_pixels: int, tolerance: float, limit: int = 40):
    """Yield ``(mode colour in [0, 1], pixels within tolerance of it, pixels within 0.5 of it)`` of a uint8
    RGB photo, from densest to sparsest.

    Each mode's pixels are removed from ``marked`` before the next is taken.
    """
    q = 32
    left = marked.copy()
    for _ in range(limit):
        cols = rgb[left].astype(np.float32) / np.float32(255)
        if len(cols) < min_pixels:
            return
        cell = np.clip((cols * q).astype(np.int64), 0, q - 1)
        key = (cell[:, 0] * q + cell[:, 1]) * q + cell[:, 2]
        hist = np.bincount(key, minlength=q**3).reshape(q, q, q).astype(np.float32)
        dense = ndi.uniform_filter(hist, 3, mode="constant") * 27
        best = np.unravel_index(int(np.argmax(dense)), dense.shape)
        if dense[best] < min_pixels:
            return
        centre = (np.asarray(best) + 0.5) / q
        mode = np.median(cols[np.abs(cols - centre).max(axis=1) <= 1.5 / q], axis=0)
        near = _within(rgb, mode, tolerance)
        left &= ~near
        yield mode, near, _within(rgb, mode, 0.5)


def _stroke_width(mask: np.ndarray) -> float:
    dt = ndi.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
    ridge = (dt >= ndi.maximum_filter(dt, 3)) & mask
    return float(2 * np.median(dt[ridge])) if ridge.any() else 1.0


def glyphs(selection: np.ndarray, marked: np.ndarray, *, min_height: int, max_height: int) -> list[Glyph]:
    """Connected parts of ``selection`` shaped like glyphs."""
    labels, _ = ndi.label(selection, structure=_EIGHT)
    out = []
    for k, sl in enumerate(ndi.find_objects(labels)):
        if sl is None:
            continue
        h, w = sl[0].stop - sl[0].start, sl[1].stop - sl[1].start
        if not (min_height <= h <= max_height) or w > 2.5 * h:
            continue
        m = labels[sl] == k + 1
        if marked[sl][m].mean() <= 0.3:  # must stand out from its surroundings
            continue
        if m.sum() > 0.75 * h * w:  # a solid block, not a glyph
            continue
        if _stroke_width(m) > 0.35 * h + 1:  # strokes too thick for the height
            continue
        out.append(Glyph(sl[0].start, sl[0].stop, sl[1].start, sl[1].stop, m))
    return out


def lines(gl: list[Glyph], *, min_chars: int, gap: float = 1.0, height_ratio: float = 1.6, align: float = 0.25) -> list[list[Glyph]]:
    """Chain glyphs into lines: similar height, aligned bottoms or centres, gaps up to ``gap`` heights."""
    n = len(gl)
    parent = list(range(n))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    order = sorted(range(n), key=lambda j: gl[j].x0)
    for i, a in enumerate(order):
        ga = gl[a]
        for b in order[i + 1 :]:
            gb = gl[b]
            hm = max(ga.h, gb.h)
            if gb.x0 - ga.x1 > gap * hm:
                break
            if hm / min(ga.h, gb.h) > height_ratio:
                continue
            bottoms = abs(ga.y1 - gb.y1) <= align * hm
            centres = abs((ga.y0 + ga.y1) - (gb.y0 + gb.y1)) / 2 <= align * hm
            if bottoms or centres:
                parent[find(a)] = find(b)
    groups: dict[int, list[Glyph]] = {}
    for j in range(n):
        groups.setdefault(find(j), []).append(gl[j])
    return [g for g in groups.values() if len(g) >= min_chars]


def line_tests(rgb: np.ndarray, near: np.ndarray, mode: np.ndarray, line: list[Glyph]) -> tuple[np.ndarray, tuple[slice, slice], float, float]:
    """The line's mask (in a box around it), the box, how common its colour is around it, its contrast
    (``rgb``: the uint8 photo; ``mode``: the line's colour in [0, 1])."""
    h, w = near.shape
    y0, y1 = min(g.y0 for g in line), max(g.y1 for g in line)
    x0, x1 = min(g.x0 for g in line), max(g.x1 for g in line)
    half = int(np.median([g.h for g in line])) // 2
    ys = slice(max(0, y0 - half), min(h, y1 + half))
    xs = slice(max(0, x0 - half), min(w, x1 + half))
    mask = np.zeros((ys.stop - ys.start, xs.stop - xs.start), bool)
    for g in line:
        mask[g.y0 - ys.start : g.y1 - ys.start, g.x0 - xs.start : g.x1 - xs.start] |= g.mask
    band = np.ones_like(mask)
    band[y0 - ys.start : y1 - ys.start, x0 - xs.start : x1 - xs.start] = False
    common = float((near[ys, xs] & band).sum() / max(1, band.sum()))
    grown = cv2.dilate(mask.view(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    ring = cv2.dilate(grown.view(np.uint8), np.ones((5, 5), np.uint8)).astype(bool) & ~grown
    around = rgb[ys, xs][ring].astype(np.float32) / np.float32(255)
    contrast = float(np.median(np.abs(around - mode).max(axis=1))) if ring.any() else 0.0
    return mask, (ys, xs), common, contrast
