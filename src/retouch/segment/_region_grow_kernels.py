"""Hot loop of :func:`retouch.segment.region_grow`, in numba, and its NumPy reference.

Both functions implement exactly the same growth, so they return identical
masks (the tests compare them):

- One first-in first-out queue holds the pixels to expand. It starts with the
  seeds in the order given (a seed on a pixel already taken is skipped);
  each seed starts its own region with its own reference colour.
- A popped pixel of region ``k`` tests its neighbours in a fixed order:
  4-connectivity (dy, dx) = (-1, 0), (0, -1), (0, 1), (1, 0); 8-connectivity
  the 3 x 3 neighbourhood in row-major order without the centre. A
  neighbour inside the image that no region has taken joins region ``k``
  when its squared Lab distance to the region's reference is at most
  ``tolerance ** 2``; it is then labelled, added to the region's sums and
  pushed. A rejected pixel stays free and may be tested again later.
- The reference is the seed's colour (``use_mean=False``) or the running
  mean of the region's pixels, ``sum / count`` recomputed in float64 for
  every test (``use_mean=True``).
- Growth stops when the queue is empty or, with ``max_size > 0``, as soon
  as the regions hold ``max_size`` pixels in all (the seeds always count).
"""

from __future__ import annotations

from collections import deque

import numpy as np
from numba import njit

__all__ = ["grow", "grow_reference", "NEIGHBOURS_4", "NEIGHBOURS_8"]

NEIGHBOURS_4 = np.array([[-1, 0], [0, -1], [0, 1], [1, 0]], np.int64)
NEIGHBOURS_8 = np.array([[-1, -1], [-1, 0], [-1, 1], [0, -1], [0, 1], [1, -1], [1, 0], [1, 1]], np.int64)


@njit(cache=True, nogil=True)
def grow(lab, seeds, tolerance, use_mean, neighbours, max_size):  # pragma: no cover - compiled
    """Grow regions from ``seeds`` on ``lab``; return the bool mask.

    Parameters
    ----------
    lab : float32 array, H x W x 3
        Colours (CIE Lab).
    seeds : int64 array, N x 2
        Seed positions as (y, x) rows, inside the image.
    tolerance : float
        Largest Lab distance to the reference.
    use_mean : bool
        Reference = running region mean (True) or seed colour (False).
    neighbours : int64 array, K x 2
        (dy, dx) offsets in test order.
    max_size : int
        Stop once this many pixels are taken; 0 = no limit.
    """
    h, w = lab.shape[0], lab.shape[1]
    n_seeds = seeds.shape[0]
    label = np.full((h, w), -1, np.int32)
    sums = np.zeros((n_seeds, 3), np.float64)
    refs = np.zeros((n_seeds, 3), np.float64)
    counts = np.zeros(n_seeds, np.int64)
    queue = np.empty(h * w, np.int64)
    head = 0
    tail = 0
    total = 0
    tol2 = tolerance * tolerance
    for k in range(n_seeds):
        y = seeds[k, 0]
        x = seeds[k, 1]
        for c in range(3):
            refs[k, c] = lab[y, x, c]
        if label[y, x] >= 0:
            continue
        label[y, x] = k
        for c in range(3):
            sums[k, c] += lab[y, x, c]
        counts[k] += 1
        total += 1
        queue[tail] = y * w + x
        tail += 1
    done = max_size > 0 and total >= max_size
    while head < tail and not done:
        p = queue[head]
        head += 1
        py = p // w
        px = p - py * w
        k = label[py, px]
        for j in range(neighbours.shape[0]):
            ny = py + neighbours[j, 0]
            nx = px + neighbours[j, 1]
            if ny < 0 or ny >= h or nx < 0 or nx >= w or label[ny, nx] >= 0:
                continue
            d2 = 0.0
            for c in range(3):
                if use_mean:
                    r = sums[k, c] / counts[k]
                else:
                    r = refs[k, c]
                diff = np.float64(lab[ny, nx, c]) - r
                d2 += diff * diff
            if d2 <= tol2:
                label[ny, nx] = k
                for c in range(3):
                    sums[k, c] += lab[ny, nx, c]
                counts[k] += 1
                total += 1
                queue[tail] = ny * w + nx
                tail += 1
                if max_size > 0 and total >= max_size:
                    done = True
                    break
    return label >= 0


def grow_reference(
    lab: np.ndarray,
    seeds: np.ndarray,
    tolerance: float,
    use_mean: bool,
    neighbours: np.ndarray,
    max_size: int,
) -> np.ndarray:
    """Plain Python version of :func:`grow` (same arguments, same result), for tests."""
    h, w = lab.shape[:2]
    lab64 = lab.astype(np.float64)
    label = np.full((h, w), -1, np.int64)
    sums: list[list[float]] = []
    refs: list[list[float]] = []
    counts: list[int] = []
    queue: deque[tuple[int, int]] = deque()
    total = 0
    for y, x in np.asarray(seeds, np.int64).tolist():
        sums.append([0.0, 0.0, 0.0])
        refs.append([float(v) for v in lab64[y, x]])
        counts.append(0)
        k = len(refs) - 1
        if label[y, x] >= 0:
            continue
        label[y, x] = k
        sums[k] = [sums[k][c] + lab64[y, x, c] for c in range(3)]
        counts[k] += 1
        total += 1
        queue.append((y, x))
    tol2 = float(tolerance) * float(tolerance)
    if max_size > 0 and total >= max_size:
        return label >= 0
    while queue:
        py, px = queue.popleft()
        k = int(label[py, px])
        for dy, dx in np.asarray(neighbours).tolist():
            ny, nx = py + dy, px + dx
            if not (0 <= ny < h and 0 <= nx < w) or label[ny, nx] >= 0:
                continue
            d2 = 0.0
            for c in range(3):
                r = sums[k][c] / counts[k] if use_mean else refs[k][c]
                diff = float(lab64[ny, nx, c]) - r
                d2 += diff * diff
            if d2 <= tol2:
                label[ny, nx] = k
                for c in range(3):
                    sums[k][c] += float(lab64[ny, nx, c])
                counts[k] += 1
                total += 1
                queue.append((ny, nx))
                if max_size > 0 and total >= max_size:
                    return label >= 0
    return label >= 0
