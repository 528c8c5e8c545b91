"""Private machinery of :func:`retouch.segment.scratches`: oriented line filters and chains.

The line filter is the "line detector" of retinal-vessel segmentation
(Ricci & Perfetti 2007) made two-sided: at each pixel and orientation, the
mean of a short segment through the pixel is compared with the means of the
two parallel segments ``d`` pixels to either side, and the response is the
*smaller* of the two differences. A thin line lighter (darker) than both of
its sides answers; a step edge, where one side equals the centre, does not.
Each colour channel is filtered and the largest answer is kept, so a grey
scratch over a saturated sky (little luminance contrast, much colour
contrast) is still seen.

The segments are axis-aligned box filters on a rotated copy of the image
(one rotation per orientation), which costs the same whatever their length.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from scipy import ndimage as ndi
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from . import trees

__all__ = ["line_response", "centrelines", "link", "bridge", "chain_props", "parallel_support", "bend", "side_difference",
           "lattice", "FEATURES", "FOREST", "NEAR_GREY", "features", "scratch_probability"]


def _rotation(shape: tuple[int, int], degrees: float, pad: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Affine map rotating an ``h x w`` image by ``degrees`` into a canvas that holds all of it."""
    h, w = shape
    t = np.deg2rad(degrees)
    c, s = abs(np.cos(t)), abs(np.sin(t))
    cw, ch = int(np.ceil(w * c + h * s)) + 2 * pad, int(np.ceil(w * s + h * c)) + 2 * pad
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    m[0, 2] += cw / 2 - w / 2
    m[1, 2] += ch / 2 - h / 2
    return m, (cw, ch)


def _two_sided(channels: list[np.ndarray], d: int) -> tuple[np.ndarray, np.ndarray]:
    """Light and dark two-sided contrast of row means against the rows ``d`` above and below.

    ``channels`` are the row means of each colour channel (2-D arrays); the
    largest contrast over the channels is returned.
    """
    h, w = channels[0].shape
    light = np.zeros((h, w), np.float32)
    dark = np.zeros((h, w), np.float32)
    lt = dk = None
    for s in channels:
        c, up, dn = s[d:-d], s[: -2 * d], s[2 * d :]
        a = np.minimum(c - up, c - dn)
        b = np.minimum(up - c, dn - c)
        lt = a if lt is None else np.maximum(lt, a, out=lt)
        dk = b if dk is None else np.maximum(dk, b, out=dk)
    light[d:-d], dark[d:-d] = lt, dk
    return light, dark


def line_response(
    image: np.ndarray,
    *,
    max_width: float,
    length: int = 15,
    n_angles: int = 16,
    width_ratio: float = 0.7,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Two-sided line contrast of a float ``H x W`` or ``H x W x C`` image.

    Returns ``(light, light_angle, light_width, dark, dark_angle, dark_width)``:
    the strongest response of a line lighter (darker) than both sides over
    all orientations and the widths up to ``max_width``, the index of the
    orientation (``angle = pi * index / n_angles``, x right and y down) that
    gave it, and the side offset ``d`` of the scale that gave it (a line up
    to about ``2 * d - 3`` pixels wide). A response whose structure is
    wider than ``max_width`` (its response with sides farther out is larger
    by more than ``1 / width_ratio``) is set to 0.
    """
    h, w = image.shape[:2]
    half = int(np.ceil(max_width / 2))
    pad = half + 5 + length
    # The rotated canvas holds the whole image turned by up to 45 degrees: about
    # (w + h)^2 / 2 pixels, twice the image for a square photo but thousands of
    # times it for a strip one pixel high, and each of its many planes is float32.
    # Past a few times the image, or past 8 million pixels, work on square tiles
    # with a halo as wide as the filters reach, on the whole image's sampling
    # grid (the same answer, memory in proportion to the image). Measured on a
    # 3000 x 2000 photo: 2130 MB peak in one piece, 724 MB in tiles of 1024, for
    # 20 % more processor time.
    canvas = (w + h + 2 * pad) ** 2 / 2
    if canvas > _CANVAS_RATIO * (h + 2 * pad) * (w + 2 * pad) or canvas > _CANVAS_MAX:
        return _tiled_response(image, max_width=max_width, length=length, n_angles=n_angles, width_ratio=width_ratio)
    return _whole_response(image, max_width=max_width, length=length, n_angles=n_angles, width_ratio=width_ratio)


_CANVAS_RATIO = 8.0
"""Rotate the whole image while its 45-degree canvas is at most this many times its (padded) area ..."""
_CANVAS_MAX = 8_000_000
"""... and at most this many pixels (a photo of about 2000 x 2000)."""
_TILE = 256
"""Side of the tiles of a thin image (short side under 1024 px), halo not counted; larger images take 1024."""


def _tiled_response(
    image: np.ndarray, *, max_width: float, length: int, n_angles: int, width_ratio: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`line_response` tile by tile; each tile's halo covers what its filters reach."""
    h, w = image.shape[:2]
    half = int(np.ceil(max_width / 2))
    # a pixel's answer reads the segment (length along, the widest sides across)
    # about it, plus a pixel of interpolation each way through the rotation
    halo = int(np.ceil(np.hypot(length / 2, half + 5 + half + 1))) + 3
    out = [np.zeros((h, w), t) for t in (np.float32, np.int16, np.int16) * 2]
    side = _TILE if min(h, w) < 1024 else 4 * _TILE  # a thin strip's canvas grows with the tile's length
    for y0 in range(0, h, side):
        for x0 in range(0, w, side):
            y1, x1 = min(y0 + side, h), min(x0 + side, w)
            ty0, tx0 = max(0, y0 - halo), max(0, x0 - halo)
            ty1, tx1 = min(h, y1 + halo), min(w, x1 + halo)
            frames = [_tile_frame((h, w), (ty0, tx0, ty1, tx1), 180.0 * a / n_angles, half + 5 + length) for a in range(n_angles)]
            parts = _whole_response(
                image[ty0:ty1, tx0:tx1], max_width=max_width, length=length, n_angles=n_angles, width_ratio=width_ratio,
                frames=frames,
            )
            for dst, src in zip(out, parts):
                dst[y0:y1, x0:x1] = src[y0 - ty0 : y1 - ty0, x0 - tx0 : x1 - tx0]
    return tuple(out)  # type: ignore[return-value]


def _tile_frame(
    shape: tuple[int, int], tile: tuple[int, int, int, int], degrees: float, pad: int
) -> tuple[np.ndarray, tuple[int, int]]:
    """The rotation of a tile on the whole image's canvas grid: the same samples as the whole image.

    The whole image's rotation is moved by whole canvas pixels onto a canvas
    just around the tile, so each canvas pixel and each pixel brought back is
    interpolated at the same place as when the whole image is rotated.
    """
    y0, x0, y1, x1 = tile
    m, _ = _rotation(shape, degrees, pad)
    corners = np.array([[x0, y0], [x1 - 1, y0], [x0, y1 - 1], [x1 - 1, y1 - 1]], np.float64)
    at = corners @ m[:, :2].T + m[:, 2]
    ox, oy = np.floor(at.min(axis=0)).astype(int) - pad
    ex, ey = np.ceil(at.max(axis=0)).astype(int) + pad + 1
    t = m.copy()
    t[:, 2] = m[:, :2] @ np.array([x0, y0], np.float64) + m[:, 2] - (ox, oy)
    return t, (int(ex - ox), int(ey - oy))


def _whole_response(
    image: np.ndarray, *, max_width: float, length: int, n_angles: int, width_ratio: float,
    frames: list[tuple[np.ndarray, tuple[int, int]]] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    h, w = image.shape[:2]
    half = int(np.ceil(max_width / 2))
    # (side offset, centre width): sides just outside lines 1 .. max_width wide
    scales = [(d, 1 if d <= 3 else 2 * (d - 3)) for d in range(2, half + 3)]
    wide = (half + 5, 2 * half + 1)
    pad = wide[0] + length
    light = np.zeros((h, w), np.float32)
    dark = np.zeros((h, w), np.float32)
    light_a = np.zeros((h, w), np.int16)
    dark_a = np.zeros((h, w), np.int16)
    light_d = np.zeros((h, w), np.int16)
    dark_d = np.zeros((h, w), np.int16)
    for a in range(n_angles):
        m, size = frames[a] if frames is not None else _rotation((h, w), 180.0 * a / n_angles, pad)
        rot = cv2.warpAffine(image, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        planes = cv2.split(rot) if rot.ndim == 3 else [rot]
        means: dict[int, list[np.ndarray]] = {}

        def row_means(wc: int) -> list[np.ndarray]:
            if wc not in means:
                means[wc] = [cv2.blur(p, (length, wc), borderType=cv2.BORDER_REFLECT) for p in planes]
            return means[wc]

        lt = dk = lt_d = dk_d = None
        for d, wc in scales:
            l1, d1 = _two_sided(row_means(wc), d)
            if lt is None:
                lt, dk = l1, d1
                lt_d = np.full(l1.shape, d, np.float32)
                dk_d = lt_d.copy()
            else:
                lt_d[l1 > lt] = d
                dk_d[d1 > dk] = d
                np.maximum(lt, l1, out=lt)
                np.maximum(dk, d1, out=dk)
        if width_ratio > 0:
            lw, dw = _two_sided(row_means(wide[1]), wide[0])
            lt[lt < width_ratio * lw] = 0
            dk[dk < width_ratio * dw] = 0
        back = cv2.invertAffineTransform(m)
        lt, dk = (cv2.warpAffine(x, back, (w, h), flags=cv2.INTER_LINEAR) for x in (lt, dk))
        lt_d, dk_d = (cv2.warpAffine(x, back, (w, h), flags=cv2.INTER_NEAREST) for x in (lt_d, dk_d))
        better = lt > light
        light[better], light_a[better], light_d[better] = lt[better], a, lt_d[better]
        better = dk > dark
        dark[better], dark_a[better], dark_d[better] = dk[better], a, dk_d[better]
    return light, light_a, light_d, dark, dark_a, dark_d


def centrelines(response: np.ndarray, angle: np.ndarray, n_angles: int, low: float) -> np.ndarray:
    """Non-maximum suppression across the line direction, above ``low``."""
    h, w = response.shape
    if h > _REMAP_BLOCK + 4 or w > _REMAP_BLOCK + 4:  # OpenCV's remap takes sides below 32767: blocks, 2 px halo
        out = np.zeros((h, w), bool)
        for y0 in range(0, h, _REMAP_BLOCK):
            for x0 in range(0, w, _REMAP_BLOCK):
                y1, x1 = min(y0 + _REMAP_BLOCK, h), min(x0 + _REMAP_BLOCK, w)
                ty0, tx0, ty1, tx1 = max(0, y0 - 2), max(0, x0 - 2), min(h, y1 + 2), min(w, x1 + 2)
                part = centrelines(response[ty0:ty1, tx0:tx1], angle[ty0:ty1, tx0:tx1], n_angles, low)
                out[y0:y1, x0:x1] = part[y0 - ty0 : y1 - ty0, x0 - tx0 : x1 - tx0]
        return out
    theta = np.pi * angle.astype(np.float32) / n_angles
    nx, ny = -np.sin(theta), np.cos(theta)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    plus = cv2.remap(response, xx + nx, yy + ny, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    minus = cv2.remap(response, xx - nx, yy - ny, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return (response > low) & (response >= plus) & (response >= minus)


_REMAP_BLOCK = 16384


def link(candidates: np.ndarray, angle: np.ndarray, n_angles: int) -> tuple[np.ndarray, int]:
    """Label chains of 8-neighbouring centreline pixels that follow one direction.

    Two neighbours are linked when their orientations differ by at most one
    step and the step between them runs within 50 degrees of the line (so a
    chain may jog sideways by a pixel but not jump across to a parallel one).
    """
    h, w = candidates.shape
    ys, xs = np.nonzero(candidates)
    n = len(ys)
    labels = np.zeros((h, w), np.int32)
    if n == 0:
        return labels, 0
    index = np.full((h, w), -1, np.int64)
    index[ys, xs] = np.arange(n)
    theta = np.pi * angle / n_angles
    rows, cols = [], []
    tol = np.deg2rad(50)
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        if dx >= 0:
            p = (slice(0, h - dy), slice(0, w - dx))
            q = (slice(dy, h), slice(dx, w))
        else:
            p = (slice(0, h - dy), slice(-dx, w))
            q = (slice(dy, h), slice(0, w + dx))
        both = candidates[p] & candidates[q]
        da = np.abs(angle[p].astype(np.int32) - angle[q])
        da = np.minimum(da, n_angles - da)
        off = np.abs((theta[p] - np.arctan2(dy, dx) + np.pi / 2) % np.pi - np.pi / 2)
        ok = both & (da <= 1) & (off <= tol)
        rows.append(index[p][ok])
        cols.append(index[q][ok])
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(len(r), np.int8), (r, c)), shape=(n, n))
    count, comp = connected_components(graph, directed=False)
    labels[ys, xs] = comp + 1
    return labels, count


def _axes(ys: np.ndarray, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A chain's pixels as (x, y) points: (the points, their centre, the principal axes as rows,
    the first along the chain)."""
    p = np.stack([xs, ys], 1).astype(np.float64)
    centre = p.mean(0)
    _, _, vt = np.linalg.svd(p - centre, full_matrices=False)
    return p, centre, vt


def _ends(ys: np.ndarray, xs: np.ndarray, tail: float = 12.0) -> list[tuple[np.ndarray, np.ndarray]]:
    """The two end points of a chain and the outward direction at each."""
    p, c, vt = _axes(ys, xs)
    axis = vt[0]
    u = (p - c) @ axis
    out = []
    for sign in (-1.0, 1.0):
        k = int(np.argmax(sign * u))
        q = p[np.abs(u - u[k]) <= tail]
        if len(q) >= 3:
            _, _, vt2 = np.linalg.svd(q - q.mean(0), full_matrices=False)
            d = vt2[0]
        else:
            d = axis
        out.append((p[k], d if np.dot(d, axis * sign) >= 0 else -d))
    return out


def bridge(labels: np.ndarray, count: int, *, gap: float, min_pixels: int = 25,
           max_turn: float = np.deg2rad(8), lateral: float = 2.0) -> np.ndarray:
    """Join chains whose ends face each other across a gap; returns a label map old -> new.

    Two chains of at least ``min_pixels`` join when an end of one is within
    ``gap`` pixels of an end of the other, their end directions agree within
    ``max_turn`` radians, each lies ahead of the other, and the gap strays
    sideways from both directions by at most ``lateral + 0.15 * gap_length``.
    """
    objects = ndi.find_objects(labels)
    ends, dirs, owner = [], [], []
    for k, sl in enumerate(objects):
        if sl is None:
            continue
        ys, xs = np.nonzero(labels[sl] == k + 1)
        if len(ys) < min_pixels:
            continue
        for e, d in _ends(ys + sl[0].start, xs + sl[1].start):
            ends.append(e)
            dirs.append(d)
            owner.append(k)
    mapping = np.arange(count + 1)
    if len(ends) < 4:
        return mapping
    e, d, o = np.asarray(ends), np.asarray(dirs), np.asarray(owner)
    pairs = cKDTree(e).query_pairs(gap, output_type="ndarray")
    if len(pairs) == 0:
        return mapping
    a, b = pairs[:, 0], pairs[:, 1]
    v = e[b] - e[a]
    dist = np.hypot(v[:, 0], v[:, 1])
    facing = np.einsum("ij,ij->i", d[a], -d[b]) >= np.cos(max_turn)
    ahead = (np.einsum("ij,ij->i", v, d[a]) >= 0) & (np.einsum("ij,ij->i", -v, d[b]) >= 0)
    lat_a = np.abs(d[a][:, 0] * v[:, 1] - d[a][:, 1] * v[:, 0])
    lat_b = np.abs(d[b][:, 0] * v[:, 1] - d[b][:, 1] * v[:, 0])
    straight = np.maximum(lat_a, lat_b) <= lateral + 0.15 * dist
    ok = (o[a] != o[b]) & facing & ahead & straight
    if not ok.any():
        return mapping
    graph = coo_matrix((np.ones(int(ok.sum()), np.int8), (o[a][ok], o[b][ok])), shape=(count, count))
    _, comp = connected_components(graph, directed=False)
    mapping[1:] = comp + 1
    return mapping


def chain_props(labels: np.ndarray, response: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per chain 1..n: pixel count, mean response, and extent (bounding-box diagonal)."""
    n = int(labels.max())
    if n == 0:
        z = np.zeros(0)
        return z, z, z
    flat = labels.ravel()
    count = np.bincount(flat, minlength=n + 1)[1:].astype(np.float64)
    total = np.bincount(flat, weights=response.ravel().astype(np.float64), minlength=n + 1)[1:]
    mean = total / np.maximum(count, 1)
    objects = ndi.find_objects(labels)
    extent = np.zeros(n)
    for k, sl in enumerate(objects):
        if sl is not None:
            extent[k] = np.hypot(sl[0].stop - sl[0].start - 1, sl[1].stop - sl[1].start - 1)
    return count, mean, extent


def parallel_support(
    chain: np.ndarray,
    angle: np.ndarray,
    others: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    level: float,
    n_angles: int,
    band: tuple[float, float] = (3.0, 12.0),
) -> int:
    """How many other line pixels run beside a chain, parallel to it.

    ``chain`` is the chain's bool mask on a crop, ``angle`` its orientation
    map there; ``others`` are ``(centreline mask, angle, response)`` crops of
    every polarity. Counts centreline pixels in the band ``band`` pixels to
    either side of the chain whose response reaches ``level`` and whose
    orientation is one the chain itself takes (within one step). Texture
    (stripes, fur, grass, floors of windows) scores high; a lone scratch low.
    """
    dist = ndi.distance_transform_edt(~chain)
    ring = (dist > band[0]) & (dist <= band[1])
    hist = np.bincount(angle[chain].astype(np.int64), minlength=n_angles).astype(np.float64)
    hist /= max(hist.sum(), 1.0)
    near = hist + np.roll(hist, 1) + np.roll(hist, -1)
    total = 0
    for cand, ang, resp in others:
        sel = cand & ring & (resp >= level)
        total += int((near[ang[sel].astype(np.int64) % n_angles] > 0.1).sum())
    return total


def bend(ys: np.ndarray, xs: np.ndarray) -> float:
    """How far a chain bends: sagitta / chord.

    The chain's pixels are put in the frame of their principal axis and a
    parabola ``v = a u^2 + b u + c`` is fitted; the sagitta is the parabola's
    bow over the chain's span (``|a| span^2 / 4`` from the chord's middle).
    A straight line gives 0, a quarter circle about 0.15.
    """
    if len(ys) < 5:
        return 0.0
    p, centre, vt = _axes(ys, xs)
    p -= centre
    u, v = p @ vt[0], p @ vt[1]
    span = float(u.max() - u.min())
    if span < 1:
        return 0.0
    coef = np.polyfit(u, v, 2)
    return abs(coef[0]) * span**2 / 4 / span


#: Lines within this many degrees of a right angle cross "at right angles" in :func:`lattice`
#: (window leads seen in perspective: 80 to 90 degrees).
LATTICE_ANGLE = 75.0
#: Lines within this many degrees of each other are parallel in :func:`lattice`.
LATTICE_PARALLEL = 10.0
#: px a crossing may lie beyond a line's ends (a lead that stops just short of the frame).
LATTICE_REACH = 4.0


def lattice(lines: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Which of ``lines`` (each its rows and columns) belong to a lattice: bool, one per line.

    Two parallel lines both crossed, nearly at right angles, by the same two
    other lines make a lattice (the leads of a window, a grid of tiles or
    panes, a trellis); the two belong to it, and so do the two crossing
    lines when they are parallel to each other too. Scratches do not make
    one: a scratch may cross another scratch or a real line, but scratches
    do not form such a grid. Each line is taken as the straight segment
    along its principal axis.
    """
    n = len(lines)
    if n < 4:
        return np.zeros(n, bool)
    centre, direction, lo, hi = (np.empty((n, 2)), np.empty((n, 2)), np.empty(n), np.empty(n))
    for k, (ys, xs) in enumerate(lines):  # each line as the straight segment along its principal axis
        p, centre[k], vt = _axes(ys, xs)
        direction[k] = vt[0]
        along = (p - centre[k]) @ vt[0]
        lo[k], hi[k] = along.min(), along.max()
    cos = np.abs(direction @ direction.T)

    def cross2(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]

    # line a at position t_a meets line b at position t_b: centre_a + t_a dir_a = centre_b + t_b dir_b
    r = centre[None, :, :] - centre[:, None, :]  # [a, b] = centre_b - centre_a
    da, db = direction[:, None, :], direction[None, :, :]
    det = cross2(da, db)
    square = cos <= np.cos(np.radians(LATTICE_ANGLE))  # also keeps det away from 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ta = cross2(r, db) / det
        tb = cross2(r, da) / det
    crosses = (square & (ta >= lo[:, None] - LATTICE_REACH) & (ta <= hi[:, None] + LATTICE_REACH)
               & (tb >= lo[None, :] - LATTICE_REACH) & (tb <= hi[None, :] + LATTICE_REACH))
    shared = crosses.astype(np.int32) @ crosses.astype(np.int32)  # [a, b]: lines crossing both
    pairs = (cos >= np.cos(np.radians(LATTICE_PARALLEL))) & (shared >= 2)
    np.fill_diagonal(pairs, False)
    return pairs.any(axis=1)


def side_difference(image: np.ndarray, ys: np.ndarray, xs: np.ndarray, angle: np.ndarray, n_angles: int, dist: float) -> float:
    """Median over a chain of the largest channel difference between its two sides, ``dist`` px away.

    A scratch lies over one continuous picture, so its two sides match; a
    highlight or a shadow line along the edge of an object separates two
    different things.
    """
    theta = np.pi * angle[ys, xs].astype(np.float64) / n_angles
    nx, ny = -np.sin(theta) * dist, np.cos(theta) * dist
    img = image if image.ndim == 3 else image[..., None]
    h, w = img.shape[:2]

    def sample(px: np.ndarray, py: np.ndarray) -> np.ndarray:
        xi = np.clip(np.rint(px).astype(int), 0, w - 1)
        yi = np.clip(np.rint(py).astype(int), 0, h - 1)
        return img[yi, xi]

    left = sample(xs + nx, ys + ny)
    right = sample(xs - nx, ys - ny)
    return float(np.median(np.abs(left - right).max(axis=1)))


# --- the forest that weighs a chain's measures --------------------------------------------------

#: The measures of a chain the forest reads, in order (see ``retouch.segment.defects.detectors.scratch_chains``):
#: its close parallel texture, its family of long parallel lines, its bend, its sides' difference,
#: its contrast over the faintest asked for (``min_contrast``), its polarity and width, and the
#: median luma and chroma (channel spread, beyond :data:`NEAR_GREY`) of its pixels. Its length is
#: not among them: the forest judges what a chain looks like, and ``min_length`` alone says how
#: long is long enough (a forest that also read the length, its pixel count and their ratio did
#: worse on CBSD68: mean F1 0.795 against 0.811, with the thresholds then in use).
FEATURES = ("parallel", "family", "bend", "side", "contrast", "light", "wide", "luma", "chroma")
#: OpenCV random forest (``cv2.ml.RTrees``) trained by ``training/train_scratches.py`` on the chains
#: found on the GrabCut set's photos (less the seven that are also CBSD68 test photos) with scratches
#: drawn (``benchmarks._damage``), clean, and in black and white.
FOREST = Path(__file__).parent / "models" / "scratches_forest.yml.gz"


#: Chroma (channel spread) up to this counts as grey: the forest reads only the colour beyond it.
#: The scratches it was trained on carry a faint tint (up to 0.06), and real ones carry grain and
#: scanner noise; read exactly, chroma taught the forest that a line of exactly equal channels (a
#: pure black line drawn on a colour photo) is no scratch, and that the only coloured line in a
#: black and white photo is one.
NEAR_GREY = 0.06


def features(measures: list[dict[str, float]], *, min_contrast: float) -> np.ndarray:
    """``N x len(FEATURES)`` float32 rows for the forest: the contrast over ``min_contrast``, the
    chroma beyond :data:`NEAR_GREY`, every measure clipped at 20."""
    def value(t: dict[str, float], k: str) -> float:
        if k == "contrast":
            return float(t[k]) / min_contrast
        if k == "chroma":
            return max(float(t[k]) - NEAR_GREY, 0.0)
        return float(t[k])

    rows = [[min(value(t, k), 20.0) for k in FEATURES] for t in measures]
    return np.asarray(rows, np.float32).reshape(len(rows), len(FEATURES))


def scratch_probability(measures: list[dict[str, float]], *, min_contrast: float) -> np.ndarray:
    """The share of the forest's trees that take each chain for a scratch (0 to 1)."""
    return trees.probability(FOREST, features(measures, min_contrast=min_contrast))
