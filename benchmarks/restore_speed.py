"""Restore's time and memory on a large scan, with the median-filter peer in the same run.

The scan: a photo of ``DATA/oldphotos`` (``--photo``, default the largest,
``IrishLate1800s.jpg``, 3024 x 4032) resized (bicubic) to ``--megapixels``
(default 20) megapixels, with realistic damage of :mod:`benchmarks._realdamage`
(film-dust scans 05-06, seed 0) laid over it, written as PNG to ``--out``.

Each method runs in its own Python process (``--threads`` cores, default 2,
as the issue's budget says), which reads the PNG, restores it and reports:

- seconds for the restore (reading and writing files not counted), and per megapixel;
- the process's peak resident memory while it reads and restores the scan
  (``VmRSS`` of ``/proc/self/status``, read every 5 ms by a thread) less its
  resident memory after the imports and a warm-up run on a small photo,
  before the scan was read, in bytes and in copies of the scan (H x W x 3
  bytes): the scan itself counts as one copy.

Methods: ``restore`` (``retouch.pipeline.recipe_for_restore()`` with its
defaults, as ``retouch restore`` runs it) and the peer: a median-filter
"dust & scratches" (5 x 5 median, 24 levels, OpenCV's Telea inpainting).

Run: ``python -m benchmarks.restore_speed --data /work/shared/data``
(``--megapixels 4`` for a quick look).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from benchmarks._realdamage import SCORE_SCANS, realistic_damage

Image.MAX_IMAGE_PIXELS = None


def _rss() -> int:
    """This process's resident memory now, in bytes."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _child(method: str, path: str, threads: int, detectors: str = "") -> None:
    """Run one method on the scan at ``path`` and print a JSON line of its figures."""
    import threading
    import time
    import warnings

    cv2.setNumThreads(threads)
    from benchmarks.restore_real import peer
    from retouch.pipeline import recipe_for_restore

    def run(image: np.ndarray) -> float:
        if method == "restore":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                chosen = {k: k in detectors.split(",") for k in ("damage", "scratches", "spots", "text")} if detectors else {}
                return float(np.asarray(recipe_for_restore(**chosen).apply(image).mask).mean())
        return float(peer(image)[1].mean())

    warm = np.full((96, 96, 3), 120, np.uint8)
    warm[40:43, 40:43] = 250
    run(warm)  # imports, compiled kernels and models loaded: not the scan's memory
    base = _rss()
    peak = [base]
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.005):
            peak[0] = max(peak[0], _rss())

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    with Image.open(path) as im:
        image = np.asarray(im.convert("RGB"))
    t0 = time.perf_counter()
    marked = run(image)
    seconds = time.perf_counter() - t0
    done.set()
    watcher.join()
    peak = max(peak[0], _rss()) - base
    print(json.dumps({"method": method, "seconds": seconds, "peak_bytes": peak, "image_bytes": image.nbytes,
                      "megapixels": image.shape[0] * image.shape[1] / 1e6, "marked": marked}))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="folder holding oldphotos/ and realdamage/")
    ap.add_argument("--out", type=Path, default=Path("bench-out/restore_speed"))
    ap.add_argument("--photo", default="IrishLate1800s.jpg", help="photo of DATA/oldphotos to enlarge")
    ap.add_argument("--megapixels", type=float, default=20)
    ap.add_argument("--threads", type=int, default=2, help="cores each method may use (OpenCV, numba, BLAS)")
    ap.add_argument("--methods", default="restore,peer")
    ap.add_argument("--detectors", default="", help="restore's detectors, comma-separated (damage, scratches, spots, text); default: its defaults")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(args.child[0], args.child[1], args.threads, args.detectors)
        return

    src = args.data / "oldphotos" / args.photo
    if not src.is_file():
        sys.exit(f"no photo {src}")
    args.out.mkdir(parents=True, exist_ok=True)
    with Image.open(src) as im:
        photo = np.asarray(im.convert("RGB"))
    scale = (args.megapixels * 1e6 / (photo.shape[0] * photo.shape[1])) ** 0.5
    big = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    damaged, _, labels = realistic_damage(big, 0, data=args.data, scans=SCORE_SCANS)
    scan = args.out / f"scan_{args.megapixels:g}mp.png"
    Image.fromarray(damaged).save(scan, compress_level=1)
    del photo, big, damaged
    print(f"scan: {src.name} resized to {scan}, {labels.shape[1]} x {labels.shape[0]} "
          f"({labels.size / 1e6:.1f} MP), {100 * (labels > 0).mean():.2f} % damaged", flush=True)

    env = {**os.environ, **{k: str(args.threads) for k in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS",
                                                           "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}}
    rows = []
    for method in args.methods.split(","):
        cmd = [sys.executable, "-m", "benchmarks.restore_speed", "--data", str(args.data), "--threads", str(args.threads),
               "--detectors", args.detectors, "--child", method, str(scan)]
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if r.returncode:
            sys.exit(f"{method} failed:\n{r.stderr[-3000:]}")
        row = json.loads(r.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(f"{method}: {row['seconds']:.1f} s ({row['seconds'] / row['megapixels']:.2f} s/MP), peak "
              f"{row['peak_bytes'] / 2**20:.0f} MiB = {row['peak_bytes'] / row['image_bytes']:.1f} copies of the scan, "
              f"{100 * row['marked']:.2f} % marked", flush=True)
    what = args.detectors or "its defaults"
    lines = [f"# Restore ({what}) on a {rows[0]['megapixels']:.1f} MP scan ({args.photo} enlarged, realistic damage), {args.threads} threads",
             "", "| method | s | s / MP | peak MiB | peak / scan | marked |", "|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['method']} | {row['seconds']:.1f} | {row['seconds'] / row['megapixels']:.2f} | "
                     f"{row['peak_bytes'] / 2**20:.0f} | {row['peak_bytes'] / row['image_bytes']:.1f} | {100 * row['marked']:.2f} % |")
    if len(rows) > 1:
        lines += ["", f"restore / peer time: {rows[0]['seconds'] / rows[1]['seconds']:.1f}x"]
    (args.out / "restore_speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
