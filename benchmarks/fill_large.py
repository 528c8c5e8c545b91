"""Diffusion fills on a 24-megapixel photo with a few small holes.

retouch fills each group of holes on a crop around it, so the cost follows
the holes, not the photo. This compares, in the same run:

- ``retouch.inpaint.telea`` / ``navier_stokes`` on the 24 MP photo,
- the same call on a 1 MP crop holding the same holes,
- the peer: ``cv2.inpaint`` on the whole 24 MP photo (same algorithm),

and prints seconds (least of ``--repeat`` calls), ratios, and the extra
memory traced during each call (tracemalloc) as a multiple of the photo's size.

Run: ``python -m benchmarks.fill_large --data ../shared/data``
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from pathlib import Path

import cv2
import numpy as np

from retouch import inpaint

from ._data import cbsd68_images, read_image


def _photo_24mp(data: Path) -> np.ndarray:
    """A real photo scaled up to 6000 x 4000 (24 MP), plus fine noise so it is not flat."""
    src = read_image(cbsd68_images(data)[0])
    if src.shape[0] > src.shape[1]:
        src = np.ascontiguousarray(src.transpose(1, 0, 2))
    big = cv2.resize(src, (6000, 4000), interpolation=cv2.INTER_CUBIC)
    rng = np.random.default_rng(0)
    noise = rng.integers(-3, 4, big.shape, dtype=np.int16)
    return np.clip(big.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def _holes(shape: tuple[int, ...], origin: tuple[int, int]) -> np.ndarray:
    """Scratches and dust inside a 1000 x 1000 window at ``origin``: a few small holes."""
    mask = np.zeros(shape[:2], np.uint8)
    rng = np.random.default_rng(1)
    oy, ox = origin
    for _ in range(6):
        p1 = (ox + int(rng.integers(50, 950)), oy + int(rng.integers(50, 950)))
        p2 = (p1[0] + int(rng.integers(-200, 200)), p1[1] + int(rng.integers(-200, 200)))
        cv2.line(mask, p1, p2, 1, 3)
    for _ in range(20):
        cv2.circle(mask, (ox + int(rng.integers(20, 980)), oy + int(rng.integers(20, 980))), int(rng.integers(2, 8)), 1, -1)
    return mask.astype(bool)


def _measure(fn, repeat: int) -> tuple[float, float]:
    best, peak = float("inf"), 0
    for _ in range(repeat):
        tracemalloc.start()
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
        peak = max(peak, tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    return best, peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="the shared data folder (uses cbsd68/)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    image = _photo_24mp(args.data)
    origin = (1500, 2500)
    mask = _holes(image.shape, origin)
    crop = (slice(origin[0], origin[0] + 1000), slice(origin[1], origin[1] + 1000))
    small, small_mask = np.ascontiguousarray(image[crop]), np.ascontiguousarray(mask[crop])
    print(f"photo 6000x4000 ({image.nbytes / 2**20:.0f} MiB), holes {mask.sum()} px = {100 * mask.mean():.3f} % in a 1000x1000 window")
    rows = []
    for name, flag in (("telea", cv2.INPAINT_TELEA), ("navier_stokes", cv2.INPAINT_NS)):
        fn = getattr(inpaint, name)
        t_big, m_big = _measure(lambda: fn(image, mask), args.repeat)
        t_small, m_small = _measure(lambda: fn(small, small_mask), args.repeat)
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        m8 = mask.astype(np.uint8)
        t_cv, m_cv = _measure(lambda: cv2.inpaint(bgr, m8, 3, flag), args.repeat)
        rows.append((name, t_big, t_small, t_cv, m_big / image.nbytes))
        same = np.array_equal(fn(image, mask), cv2.cvtColor(cv2.inpaint(bgr, m8, 3, flag), cv2.COLOR_BGR2RGB))
        print(
            f"{name:14s} 24 MP {t_big:7.3f} s | 1 MP crop {t_small:6.3f} s (24 MP / crop = {t_big / t_small:4.1f}x) | "
            f"cv2.inpaint on the whole photo {t_cv:7.3f} s (retouch {t_cv / t_big:5.1f}x faster) | "
            f"extra memory {m_big / image.nbytes:.2f} x the photo | same pixels as cv2: {same}"
        )


if __name__ == "__main__":
    main()
