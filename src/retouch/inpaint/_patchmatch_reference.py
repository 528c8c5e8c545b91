"""Plain NumPy / Python versions of the PatchMatch kernels, for the tests.

Each function here computes what its namesake in :mod:`._patchmatch_kernels`
computes, written for clarity (whole-patch NumPy sums, no early exit), not
speed: use it on inputs of a few dozen pixels. With integer-valued images the
sums are exact, so the kernels must match these results exactly.
"""

from __future__ import annotations

import numpy as np

__all__ = ["xorshift", "patch_distance", "copy_cost", "patch_distances", "nnf_search", "vote"]

_MASK32 = 0xFFFFFFFF


def xorshift(state: int) -> int:
    """One step of Marsaglia's 32-bit xorshift."""
    state ^= (state << 13) & _MASK32
    state ^= state >> 17
    state ^= (state << 5) & _MASK32
    return state


def _patch(img: np.ndarray, c: int, y: int, x: int, r: int) -> np.ndarray:
    return img[y - r : y + r + 1, (x - r) * c : (x + r + 1) * c].astype(np.int64)


def patch_distance(img: np.ndarray, c: int, ay: int, ax: int, by: int, bx: int, r: int) -> int:
    """Sum of squared differences of two patches of the ``H x (W * C)`` matching image."""
    diff = _patch(img, c, ay, ax, r) - _patch(img, c, by, bx, r)
    return int((diff * diff).sum())


def copy_cost(cost, ay, ax, wloc, i, y, x) -> int:
    """The source's ``cost`` plus ``wloc`` times its squared distance from target ``i``'s anchor (truncated)."""
    return int(cost[y, x]) + int(float(wloc) * ((int(y) - int(ay[i])) ** 2 + (int(x) - int(ax[i])) ** 2))


def patch_distances(img, c, ty, tx, sy, sx, r, cost, ay, ax, wloc) -> np.ndarray:
    """Distance of every target patch to its current match, plus what copying from there costs."""
    return np.array(
        [patch_distance(img, c, ty[i], tx[i], sy[i], sx[i], r) + copy_cost(cost, ay, ax, wloc, i, sy[i], sx[i]) for i in range(len(ty))],
        dtype=np.int64,
    )


def nnf_search(img, c, valid, cost, ty, tx, tindex, sy, sx, d, r, iterations, max_radius, seed, chunks, ay, ax, wloc) -> int:
    """PatchMatch propagation and random search, in place, in the kernel's order (its chunks one after another)."""
    h, w = valid.shape
    n = len(ty)
    lo_y, hi_y, lo_x, hi_x = r, h - r - 1, r, w - r - 1
    states = [((int(seed) + j * 0x9E3779B9) & _MASK32) or 0x9E3779B9 for j in range(chunks)]

    def attempt(i: int, cy: int, cx: int) -> None:
        if (cy == sy[i] and cx == sx[i]) or not valid[cy, cx]:
            return
        total = patch_distance(img, c, ty[i], tx[i], cy, cx, r) + copy_cost(cost, ay, ax, wloc, i, cy, cx)
        if total < d[i]:
            d[i], sy[i], sx[i] = total, cy, cx

    for it in range(iterations):
        step = 1 if it % 2 == 0 else -1
        shift = (it % 2) * (n // (2 * chunks))
        for j in range(chunks):
            lo = 0 if j == 0 else min(n, j * n // chunks + shift)
            hi = n if j == chunks - 1 else min(n, (j + 1) * n // chunks + shift)
            state = states[j]
            order = range(lo, hi) if step == 1 else range(hi - 1, lo - 1, -1)
            for i in order:
                y, x = int(ty[i]), int(tx[i])
                if 0 <= x - step < w and lo <= (k := tindex[y, x - step]) < hi and lo_x <= sx[k] + step <= hi_x:
                    attempt(i, int(sy[k]), int(sx[k]) + step)
                if 0 <= y - step < h and lo <= (k := tindex[y - step, x]) < hi and lo_y <= sy[k] + step <= hi_y:
                    attempt(i, int(sy[k]) + step, int(sx[k]))
                rad = max_radius
                while rad >= 1:
                    state = xorshift(state)
                    cy = int(sy[i]) + state % (2 * rad + 1) - rad
                    state = xorshift(state)
                    cx = int(sx[i]) + state % (2 * rad + 1) - rad
                    attempt(i, min(max(cy, lo_y), hi_y), min(max(cx, lo_x), hi_x))
                    rad //= 2
            states[j] = state
    out = 0
    for st in states:
        out ^= st
    return out


def vote(img, hy, hx, tindex, sy, sx, weight, r, vr, out) -> np.ndarray:
    """Weighted mean, for each hole pixel, of the patches within ``vr`` of it."""
    h, w = tindex.shape
    for j in range(len(hy)):
        y, x = int(hy[j]), int(hx[j])
        acc = np.zeros(img.shape[2])
        total = 0.0
        for dy in range(-vr, vr + 1):
            for dx in range(-vr, vr + 1):
                py, px = y - dy, x - dx
                if not (0 <= py < h and 0 <= px < w) or tindex[py, px] < 0:
                    continue
                k = tindex[py, px]
                if weight[k] <= 0:
                    continue
                acc += weight[k] * img[sy[k] + dy, sx[k] + dx].astype(np.float64)
                total += weight[k]
        out[j] = acc / total if total > 0 else img[y, x]
    return out
