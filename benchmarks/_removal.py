"""The pure parts of the object-removal benchmark: metrics, the mask mover, blind keys.

No file access and no peers here, so that ``tests/test_bench_remove_objects.py``
can check them on hand-made arrays. :mod:`benchmarks.remove_objects` runs the
benchmark; :mod:`benchmarks.judge_count` counts a judge's rankings.

Metrics (``out`` the fill, ``truth`` the photo, ``hole`` a bool mask):

- :func:`hole_psnr`: PSNR over the hole's pixels (all channels).
- :func:`hole_ssim`: the SSIM map (7 x 7 windows) averaged over the hole.
- :func:`detail_ratio`: mean Sobel gradient magnitude of the luma over the hole's
  interior (pixels whose 3 x 3 neighbourhood lies in the hole, so that the seam
  does not count), fill over truth: 1 is as detailed as the truth, a blur far below.
- :func:`structure_psnr`: hole PSNR after a Gaussian blur (sigma 8 px) of both:
  does the layout (horizons, large shapes, colours) continue? Fine texture no
  longer counts.
- :func:`seam_figure`: the mean colour jump between 4-neighbours across the hole's
  border, over the same measure across the borders of the hole grown by 3 to
  8 px (rings of known pixels outside it). Needs no truth; a seamless fill
  scores near the truth's own figure (about 1), a visible seam above it. A
  diffusion (blurred) fill scores below 1 too, since nothing jumps at its
  border: read the seam figure beside the detail ratio.
"""

from __future__ import annotations

import re
from itertools import combinations

import cv2
import numpy as np
from scipy import ndimage as ndi

__all__ = [
    "hole_psnr",
    "hole_ssim",
    "detail_ratio",
    "structure_psnr",
    "cross_jump",
    "seam_figure",
    "move_mask",
    "assign_letters",
    "identical_groups",
    "parse_ranking",
    "pairwise",
    "pairwise_table",
    "STRUCTURE_SIGMA",
    "SEAM_RINGS",
]

STRUCTURE_SIGMA = 8.0
SEAM_RINGS = (3, 4, 5, 6, 7, 8)


def _psnr(mse: float) -> float:
    return float(10 * np.log10(255.0**2 / max(mse, 1e-10)))


def hole_psnr(out: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    """PSNR (uint8 scale) over the hole's pixels, all channels."""
    err = (out.astype(np.float64) - truth.astype(np.float64)) ** 2
    return _psnr(float(err[hole].mean()))


def hole_ssim(out: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    """The SSIM map (7 x 7, uint8 range) averaged over the hole, on a crop around it."""
    from skimage.metrics import structural_similarity

    ys, xs = np.nonzero(hole)
    m = 8
    sl = (slice(max(0, ys.min() - m), ys.max() + m + 1), slice(max(0, xs.min() - m), xs.max() + m + 1))
    a, b, h = truth[sl], out[sl], hole[sl]
    if min(h.shape) < 7:
        return float("nan")
    kw = {"channel_axis": -1} if a.ndim == 3 else {}
    _, smap = structural_similarity(a, b, data_range=255, full=True, **kw)
    if smap.ndim == 3:
        smap = smap.mean(axis=-1)
    return float(smap[h].mean())


def _luma(img: np.ndarray) -> np.ndarray:
    f = img.astype(np.float32)
    return f if f.ndim == 2 else f[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)


def _grad(img: np.ndarray) -> np.ndarray:
    g = _luma(img)
    return np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3))


def _interior(hole: np.ndarray) -> np.ndarray:
    inner = ndi.binary_erosion(hole, np.ones((3, 3), bool), border_value=1)
    return inner if inner.any() else hole


def detail_ratio(out: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    """Mean luma gradient magnitude over the hole's interior, fill over truth."""
    inner = _interior(hole)
    ref = float(_grad(truth)[inner].mean())
    return float(_grad(out)[inner].mean()) / max(ref, 1e-6)


def structure_psnr(out: np.ndarray, truth: np.ndarray, hole: np.ndarray, sigma: float = STRUCTURE_SIGMA) -> float:
    """Hole PSNR after a Gaussian blur (``sigma`` px) of both images."""

    def blur(a):
        return cv2.GaussianBlur(a.astype(np.float32), (0, 0), sigma, borderType=cv2.BORDER_REFLECT)

    return hole_psnr(blur(out), blur(truth), hole)


def cross_jump(img: np.ndarray, region: np.ndarray) -> float:
    """Mean colour difference (Euclidean over channels) of 4-neighbour pairs with one pixel in ``region``.

    NaN when no pair crosses the region's border.
    """
    f = img.astype(np.float32)
    if f.ndim == 2:
        f = f[..., None]
    total, count = 0.0, 0
    for axis in (0, 1):
        a = [slice(None)] * 2
        b = [slice(None)] * 2
        a[axis], b[axis] = slice(1, None), slice(None, -1)
        cross = region[tuple(a)] != region[tuple(b)]
        if cross.any():
            d = np.sqrt(((f[tuple(a)] - f[tuple(b)]) ** 2).sum(axis=-1))
            total += float(d[cross].sum())
            count += int(cross.sum())
    return total / count if count else float("nan")


def seam_figure(out: np.ndarray, hole: np.ndarray, rings: tuple[int, ...] = SEAM_RINGS) -> tuple[float, float, float]:
    """(jump across the hole's border, mean jump across the rings outside it, their ratio).

    The rings are the borders of the hole grown by each distance in ``rings``
    (Euclidean), so every pair there is of known pixels, which all methods
    share: the ratio only normalises the border jump by the photo's own
    texture near the hole.
    """
    # every pair that crosses a ring lies within max(rings) + 1 px of the hole: work on that box
    ys, xs = np.nonzero(hole)
    m = max(rings) + 2
    box = (slice(max(0, ys.min() - m), ys.max() + m + 1), slice(max(0, xs.min() - m), xs.max() + m + 1))
    out, hole = out[box], hole[box]
    border = cross_jump(out, hole)
    dist = ndi.distance_transform_edt(~hole)
    ring = np.nanmean([cross_jump(out, dist <= r) for r in rings])
    return border, float(ring), float(border / ring) if ring > 0 else float("nan")


def move_mask(hole: np.ndarray, forbidden: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, tuple[int, int]] | None:
    """Place ``hole``'s shape on a frame at a position where it meets no ``forbidden`` pixel.

    Every position that keeps the shape whole inside ``forbidden``'s frame and
    free of it is found at once (a correlation); one of them is drawn with
    ``rng``. Returns (placed mask of ``forbidden``'s shape, (dy, dx) shift),
    or None when there is no such position.
    """
    ys, xs = np.nonzero(hole)
    if ys.size == 0:
        return None
    y0, x0 = int(ys.min()), int(xs.min())
    shape = hole[y0 : ys.max() + 1, x0 : xs.max() + 1]
    h, w = shape.shape
    H, W = forbidden.shape
    if h > H or w > W:
        return None
    if forbidden.any():
        # the correlation's "valid" part, from a circular convolution of the frame's size (exact there)
        conv = np.fft.irfft2(np.fft.rfft2(forbidden.astype(np.float64)) * np.fft.rfft2(shape[::-1, ::-1].astype(np.float64), s=(H, W)), s=(H, W))
        free = np.argwhere(conv[h - 1 :, w - 1 :] < 0.5)
    else:
        free = np.argwhere(np.ones((H - h + 1, W - w + 1), bool))
    # the correlation is in floating point: recheck the drawn position exactly
    while free.size:
        i = int(rng.integers(len(free)))
        ty, tx = (int(v) for v in free[i])
        if not (forbidden[ty : ty + h, tx : tx + w] & shape).any():
            placed = np.zeros((H, W), bool)
            placed[ty : ty + h, tx : tx + w] = shape
            return placed, (ty - y0, tx - x0)
        free = np.delete(free, i, axis=0)
    return None


LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def assign_letters(methods: list[str], rng: np.random.Generator) -> dict[str, str]:
    """Letter -> method, in a shuffled order drawn with ``rng``."""
    if len(methods) > len(LETTERS):
        raise ValueError(f"at most {len(LETTERS)} methods on a sheet, got {len(methods)}")
    order = rng.permutation(len(methods))
    return {LETTERS[i]: methods[int(j)] for i, j in enumerate(order)}


def identical_groups(outputs: dict[str, np.ndarray]) -> list[list[str]]:
    """Groups (of two or more keys) whose images are bit-identical."""
    groups: list[list[str]] = []
    for k, v in outputs.items():
        for g in groups:
            if np.array_equal(outputs[g[0]], v):
                g.append(k)
                break
        else:
            groups.append([k])
    return [g for g in groups if len(g) > 1]


def parse_ranking(text: str) -> list[list[str]]:
    """``"C>A=B>D"`` (best first; ``=`` a tie; spaces and case ignored) -> [["C"], ["A", "B"], ["D"]]."""
    s = re.sub(r"\s+", "", text).upper()
    if not s:
        return []
    groups = [g.split("=") for g in s.split(">")]
    seen: set[str] = set()
    for g in groups:
        for x in g:
            if not re.fullmatch(r"[A-Z]", x):
                raise ValueError(f"bad ranking {text!r}: {x!r} is not one letter (write e.g. 'C>A=B>D')")
            if x in seen:
                raise ValueError(f"bad ranking {text!r}: {x} appears twice")
            seen.add(x)
    return groups


def pairwise(rankings: dict[str, str], key: dict[str, dict]) -> dict[tuple[str, str], list[int]]:
    """Pairwise counts from a judge's rankings and the key.

    ``rankings``: case -> ranking text (:func:`parse_ranking`). ``key``: case ->
    ``{"letters": {letter: method}, "identical": [[letter, ...], ...]}``.
    Returns (method a, method b) with a < b -> [a ranked above b, b above a,
    ties]; methods whose fills were bit-identical in a case count as a tie
    there whatever the judge wrote. Letters a case's ranking leaves out are
    not counted in that case. A case missing from the key is an error.
    """
    counts: dict[tuple[str, str], list[int]] = {}
    for case, text in rankings.items():
        if case not in key:
            raise KeyError(f"case {case!r} of the rankings is not in the key")
        letters = key[case]["letters"]
        same = [set(g) for g in key[case].get("identical", [])]
        rank = {}
        for pos, group in enumerate(parse_ranking(text)):
            for x in group:
                if x not in letters:
                    raise ValueError(f"case {case}: letter {x} is not on its sheet ({''.join(sorted(letters))})")
                rank[x] = pos
        for x, y in combinations(sorted(rank), 2):
            a, b = letters[x], letters[y]
            ra, rb = rank[x], rank[y]
            if a > b:
                a, b, ra, rb = b, a, rb, ra
            c = counts.setdefault((a, b), [0, 0, 0])
            if any({x, y} <= g for g in same) or ra == rb:
                c[2] += 1
            elif ra < rb:
                c[0] += 1
            else:
                c[1] += 1
    return counts


def pairwise_table(counts: dict[tuple[str, str], list[int]]) -> str:
    """A markdown table of win rates (row ranked above column, ties count half) and the pair lines."""
    methods = sorted({m for pair in counts for m in pair})

    def rec(a, b):
        if (a, b) in counts:
            return counts[(a, b)]
        if (b, a) in counts:
            w, l, t = counts[(b, a)]
            return [l, w, t]
        return None

    lines = ["Win rate of the row over the column (ties count half), over the cases where both were ranked:", ""]
    lines += ["| | " + " | ".join(methods) + " |", "|---|" + "---:|" * len(methods)]
    for a in methods:
        cells = []
        for b in methods:
            r = rec(a, b) if a != b else None
            cells.append(f"{(r[0] + r[2] / 2) / sum(r):.0%}" if r and sum(r) else "-")
        lines.append(f"| {a} | " + " | ".join(cells) + " |")
    lines += ["", "| pair | a above b | b above a | ties | a above b, share of cases |", "|---|---:|---:|---:|---:|"]
    for a, b in combinations(methods, 2):
        r = rec(a, b)
        if r and sum(r):
            lines.append(f"| {a} vs {b} | {r[0]} | {r[1]} | {r[2]} | {r[0]}/{sum(r)} = {r[0] / sum(r):.0%} |")
    return "\n".join(lines)
