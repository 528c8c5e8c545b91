"""Box segmentation on the GrabCut set or DAVIS 345: retouch's GrabCut against plain OpenCV.

Protocol (see the data README): the only input is a box, the tight box of the
ground truth's object grown by 5 % of its width (left and right) and
height (top and bottom), rounded outwards and clamped one pixel inside the
image. Score: % of misclassified pixels and IoU, both ignoring the GrabCut
set's 128 band (DAVIS masks have none: every non-zero value is the object).
Every method runs on every image in the same process, in alternating order,
so the timings are comparable (median seconds per image).

``--set davis --split tune`` is DAVIS frames 000-171 (choose settings there),
``--split score`` frames 172-344 (report only); ``--grey`` runs every method
on the photo's luminance (ITU-R 601, as ``cv2.COLOR_RGB2GRAY``): retouch gets
the ``H x W`` grey photo, OpenCV the grey replicated to three channels.

    python -m benchmarks.segment_box --data /work/shared/data [--set davis --split score] [--grey] [--limit N]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from ._data import davis_pairs, grabcut_pairs, read_gt, read_image

Box = tuple[int, int, int, int]


def protocol_box(gt: np.ndarray, grow: float = 0.05) -> Box:
    """(x, y, w, h): tight box of ``gt == 255`` grown by ``grow`` of its size, one pixel inside."""
    ys, xs = np.nonzero(gt == 255)
    h, w = gt.shape
    x0, x1, y0, y1 = int(xs.min()), int(xs.max()), int(ys.min()), int(ys.max())  # inclusive
    gx, gy = grow * (x1 - x0 + 1), grow * (y1 - y0 + 1)
    x0, y0 = max(1, math.floor(x0 - gx)), max(1, math.floor(y0 - gy))
    x1, y1 = min(w - 2, math.ceil(x1 + gx)), min(h - 2, math.ceil(y1 + gy))
    return x0, y0, x1 - x0 + 1, y1 - y0 + 1


def score(pred: np.ndarray, gt: np.ndarray) -> tuple[float, float]:
    """(% misclassified, IoU) of a bool mask against a 0/128/255 ground truth, 128 ignored."""
    valid = gt != 128
    obj = gt == 255
    err = 100.0 * np.count_nonzero((pred != obj) & valid) / max(1, np.count_nonzero(valid))
    union = np.count_nonzero((pred | obj) & valid)
    iou = np.count_nonzero(pred & obj & valid) / union if union else 1.0
    return err, iou


def opencv_grabcut(rgb: np.ndarray, box: Box, seed: int = 0, iterations: int = 5) -> np.ndarray:
    """Plain ``cv2.grabCut``: BGR (a grey photo replicated to three channels), GC_INIT_WITH_RECT, ``iterations`` rounds, RNG seeded."""
    bgr = cv2.cvtColor(rgb, cv2.COLOR_GRAY2BGR) if rgb.ndim == 2 else cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    state = np.zeros(rgb.shape[:2], np.uint8)
    bgd = np.zeros((1, 65), np.float64)
    fgd = np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(seed)
    cv2.grabCut(bgr, state, box, bgd, fgd, iterations, cv2.GC_INIT_WITH_RECT)
    return (state == cv2.GC_FGD) | (state == cv2.GC_PR_FGD)


def _methods() -> dict[str, Callable[[np.ndarray, Box, int], np.ndarray]]:
    from retouch.segment.grabcut import grabcut

    return {
        "opencv": opencv_grabcut,
        "retouch": lambda rgb, box, seed: grabcut(rgb, box=box, seed=seed),
        # retouch with OpenCV's choices: must score exactly like "opencv" (a check of the wrapper)
        "retouch-as-opencv": lambda rgb, box, seed: grabcut(rgb, box=box, seed=seed, color_space="rgb", iterations=5, min_part=0, rim=0),
        "retouch-rgb10": lambda rgb, box, seed: grabcut(rgb, box=box, seed=seed, color_space="rgb"),
        "retouch-lab5": lambda rgb, box, seed: grabcut(rgb, box=box, seed=seed, iterations=5),
        "retouch-no-rim": lambda rgb, box, seed: grabcut(rgb, box=box, seed=seed, rim=0),
        "retouch-keep-all-parts": lambda rgb, box, seed: grabcut(rgb, box=box, seed=seed, min_part=0),
    }


def _split_frames(split: str) -> str:
    return {"tune": "frames 000-171, the tuning half", "score": "frames 172-344, held out", "all": "frames 000-344"}[split]


def _table(rows: list[tuple[str, float, float, float]], peer: str) -> str:
    by = {r[0]: r for r in rows}
    base = by.get(peer)
    lines = [
        "| method | mean error % | mean IoU | median s | error / peer | IoU / peer | time / peer |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, err, iou, sec in rows:
        if base is not None:
            ratios = f"{err / base[1]:.3f} | {iou / base[2]:.3f} | {sec / base[3]:.2f}"
        else:
            ratios = "- | - | -"
        lines.append(f"| {name} | {err:.2f} | {iou:.4f} | {sec:.3f} | {ratios} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path, help="shared data folder (grabcut/ and davis345/)")
    parser.add_argument("--set", dest="dataset", choices=("grabcut", "davis"), default="grabcut", help="which data set")
    parser.add_argument("--split", choices=("tune", "score", "all"), default="score",
                        help="DAVIS only: tune = frames 000-171, score = 172-344 (held out), all")
    parser.add_argument("--grey", action="store_true", help="run on grey versions of the photos (luminance)")
    parser.add_argument("--out", type=Path, default=Path("bench-out/segment_box"), help="folder for the Markdown table and per-image CSV")
    parser.add_argument("--methods", default="opencv,retouch", help="comma-separated, from: " + ", ".join(_methods()))
    parser.add_argument("--limit", type=int, default=0, help="only the first N images (0: all)")
    parser.add_argument("--every", type=int, default=1, help="only every N-th image, by name (a spread-out subset)")
    parser.add_argument(
        "--seeds", type=int, default=1,
        help="run every method with RNG seeds 0..N-1 (GrabCut's k-means start) and report the spread",
    )
    args = parser.parse_args(argv)

    available = _methods()
    names = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in names if m not in available]
    if unknown:
        parser.error(f"unknown method(s) {', '.join(unknown)}; known: {', '.join(available)}")
    pairs = grabcut_pairs(args.data) if args.dataset == "grabcut" else davis_pairs(args.data, args.split)
    if not pairs:
        parser.error(f"no image / ground-truth pairs under {args.data / ('grabcut' if args.dataset == 'grabcut' else 'davis345')}")
    pairs = pairs[:: max(1, args.every)]
    if args.limit:
        pairs = pairs[: args.limit]

    seeds = list(range(max(1, args.seeds)))
    # results[method][seed] = [(error, iou, seconds) per image]
    results: dict[str, dict[int, list[tuple[float, float, float]]]] = {m: {sd: [] for sd in seeds} for m in names}
    cols = [f"{m}@{sd}" for sd in seeds for m in names]
    csv = ["image,box," + ",".join(f"{c}_error,{c}_iou,{c}_s" for c in cols)]
    k = 0
    for pair in pairs:
        rgb, gt = read_image(pair.image), read_gt(pair.gt)
        if args.dataset == "davis":
            gt = np.where(gt != 0, 255, 0).astype(np.uint8)  # every non-zero value is the object
        if rgb.ndim == 2:
            rgb = np.dstack([rgb] * 3)
        if args.grey:
            rgb = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        box = protocol_box(gt)
        row: dict[str, tuple[float, float, float]] = {}
        for sd in seeds:
            order = names if k % 2 == 0 else names[::-1]  # alternate who runs first
            k += 1
            for m in order:
                t0 = time.perf_counter()
                pred = available[m](rgb, box, sd)
                dt = time.perf_counter() - t0
                err, iou = score(pred, gt)
                row[f"{m}@{sd}"] = (err, iou, dt)
                results[m][sd].append((err, iou, dt))
        csv.append(f"{pair.name},{' '.join(map(str, box))}," + ",".join(f"{row[c][0]:.4f},{row[c][1]:.5f},{row[c][2]:.4f}" for c in cols))
        print(f"{pair.name:>10} " + "  ".join(f"{c}: {row[c][0]:6.2f}% {row[c][1]:.3f}" for c in cols), file=sys.stderr, flush=True)

    rows = []
    spread = []
    for m in names:
        every = [r for sd in seeds for r in results[m][sd]]
        errs, ious, secs = zip(*every)
        rows.append((m, float(np.mean(errs)), float(np.mean(ious)), float(statistics.median(secs))))
        per_seed = [(float(np.mean([r[0] for r in results[m][sd]])), float(np.mean([r[1] for r in results[m][sd]]))) for sd in seeds]
        spread.append(
            f"| {m} | " + " | ".join(f"{e:.2f} % / {i:.4f}" for e, i in per_seed) + " |"
        )
    peer = "opencv" if "opencv" in names else names[0]
    table = _table(rows, peer)
    what = "GrabCut set" if args.dataset == "grabcut" else f"DAVIS 345 {args.split} split ({_split_frames(args.split)})"
    header = (
        f"{what}{', grey (luminance)' if args.grey else ''}, {len(pairs)} images"
        f"{f' (every {args.every}th)' if args.every > 1 else ''}, box = tight GT box grown 5 % per side, "
        f"{len(seeds)} RNG seed(s) per image; ratios against {peer} measured in the same run."
    )
    if len(seeds) > 1:
        table += (
            "\n\nPer seed (mean error / mean IoU):\n\n| method | "
            + " | ".join(f"seed {sd}" for sd in seeds)
            + " |\n|---|"
            + "---:|" * len(seeds)
            + "\n"
            + "\n".join(spread)
        )
    print(header)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "segment_box.md").write_text(f"{header}\n\n{table}\n")
    (args.out / "segment_box.csv").write_text("\n".join(csv) + "\n")
    print(f"wrote {args.out / 'segment_box.md'} and segment_box.csv")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
