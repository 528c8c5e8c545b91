"""Inpainting quality and speed: retouch's inpainters against the peers, same run.

On the CBSD68 photos (``DATA/cbsd68``) with LaMa-style thin, medium and thick
masks drawn from a fixed seed (:mod:`benchmarks._masks`), every method fills
every photo; the methods run one after the other on the same photo and mask,
so a load change on the machine hits them all alike. For each method and mask
kind it reports the median seconds, PSNR and SSIM on the whole image, PSNR
inside the hole, and the detail ratio (mean gradient magnitude of the luma,
3 x 3 Sobel, inside the hole of the result over that of the original: 1 is as
detailed as the truth, a blur scores far below 1), all averaged over photos.
Ratios of time and hole PSNR are printed against PyPatchMatch.

It also scores every connected hole on its own, grouped by inscribed radius
(half the width of the hole's widest part): the table that sets
:func:`retouch.inpaint.auto`'s threshold.

Outputs (``--out``): ``inpaint_quality.md`` (the tables), ``per_photo.csv``,
``contact_sheet.png`` (a few photos x methods, cropped around a hole).

Run: ``python -m benchmarks.inpaint_quality --data /work/shared/data``
(``--limit 10`` for a quick look; ``--pypatchmatch-sizes 3,7`` adds the 15 x 15 run).
PyPatchMatch's ``patch_size`` is a radius (patches of ``2 * patch_size + 1``
pixels a side), so the reference, ``pypatchmatch.3``, uses the same 7 x 7
patches as retouch's ``patchmatch(patch_size=7)``.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
from skimage.metrics import structural_similarity
from skimage.restoration import inpaint_biharmonic

from benchmarks._data import list_images, read_image
from benchmarks._masks import KINDS, lama_mask, mask_seed

RADIUS_BINS = [0, 2, 3, 4, 5, 6, 8, 12, 16, 24, 1e9]


def _photos(data: Path) -> list[Path]:
    return list_images(data / "cbsd68" if (data / "cbsd68").is_dir() else data)


def _methods(names: list[str], pm_sizes: list[int]):
    """name -> fill(image uint8 RGB, mask bool) -> uint8 RGB."""
    import retouch.inpaint as ri

    m = {}
    u8 = lambda mask: mask.astype(np.uint8)  # noqa: E731
    bgr = lambda f: (lambda img, mask: cv2.cvtColor(f(cv2.cvtColor(img, cv2.COLOR_RGB2BGR), mask), cv2.COLOR_BGR2RGB))  # noqa: E731
    table = {
        # retouch
        "retouch.telea": lambda img, mask: ri.telea(img, mask),
        "retouch.navier_stokes": lambda img, mask: ri.navier_stokes(img, mask),
        "retouch.biharmonic": lambda img, mask: ri.biharmonic(img, mask),
        "retouch.fsr_fast": lambda img, mask: ri.fsr_fast(img, mask),
        "retouch.patchmatch": lambda img, mask: ri.patchmatch(img, mask, seed=0),
        "retouch.auto": lambda img, mask: ri.auto(img, mask, seed=0),
        # peers, called directly on the whole image
        "cv2.telea": bgr(lambda b, mask: cv2.inpaint(b, u8(mask), 3, cv2.INPAINT_TELEA)),
        "cv2.ns": bgr(lambda b, mask: cv2.inpaint(b, u8(mask), 3, cv2.INPAINT_NS)),
        "skimage.biharmonic": lambda img, mask: np.clip(
            np.rint(inpaint_biharmonic(img.astype(np.float32) / 255, mask, channel_axis=-1) * 255), 0, 255
        ).astype(np.uint8),
        "xphoto.fsr_fast": bgr(_fsr),
    }
    try:
        from patchmatch import patch_match

        for s in pm_sizes:
            table[f"pypatchmatch.{s}"] = _pypatchmatch(patch_match, s)
    except ImportError:  # pragma: no cover - the bench extra is missing
        print("pypatchmatch is not installed (pip install retouch[bench]); skipping it", file=sys.stderr)
    for n in names:
        if n in table:
            m[n] = table[n]
        elif n == "pypatchmatch":
            m.update({k: v for k, v in table.items() if k.startswith("pypatchmatch.")})
        else:
            raise SystemExit(f"unknown method {n!r}; known: {', '.join(table)}")
    return m


def _fsr(b: np.ndarray, mask: np.ndarray) -> np.ndarray:
    dst = np.zeros_like(b)
    cv2.xphoto.inpaint(b, np.where(mask, 0, 255).astype(np.uint8), dst, cv2.xphoto.INPAINT_FSR_FAST)
    return dst


def _pypatchmatch(patch_match, size: int):
    def run(img: np.ndarray, mask: np.ndarray) -> np.ndarray:
        patch_match.set_random_seed(0)
        return patch_match.inpaint(img, mask.astype(np.uint8) * 255, patch_size=size)

    return run


def _grad(img: np.ndarray) -> np.ndarray:
    g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3))


def _psnr(mse: float) -> float:
    return float(10 * np.log10(255.0**2 / max(mse, 1e-10)))


def _scores(out: np.ndarray, img: np.ndarray, mask: np.ndarray, g_img: np.ndarray) -> dict[str, float]:
    err = (out.astype(np.float64) - img) ** 2
    return {
        "psnr": _psnr(err.mean()),
        "ssim": float(structural_similarity(img, out, channel_axis=-1, data_range=255)),
        "hole_psnr": _psnr(err[mask].mean()),
        "detail": float(_grad(out)[mask].mean() / max(g_img[mask].mean(), 1e-6)),
    }


def _hole_bins(mask: np.ndarray):
    """(bin index per connected hole, label image) by inscribed radius."""
    from retouch.inpaint.auto import hole_radii

    labels, radii = hole_radii(mask)
    return labels, np.digitize(radii, RADIUS_BINS) - 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="folder holding cbsd68/ (or the photos themselves)")
    ap.add_argument("--out", type=Path, default=Path("bench-out/inpaint_quality"))
    ap.add_argument("--limit", type=int, default=0, help="only the first N photos (0: all)")
    ap.add_argument("--stride", type=int, default=1, help="every Nth photo (2: half the set, spread over it)")
    ap.add_argument("--offset", type=int, default=0, help="start at this photo (with --stride 2: 0 and 1 are the two halves)")
    ap.add_argument("--merge", nargs="+", type=Path, metavar="CSV", help="only print the tables of earlier runs' per_photo.csv files, merged")
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument(
        "--methods",
        default="retouch.telea,retouch.navier_stokes,retouch.biharmonic,retouch.patchmatch,retouch.auto,"
        "cv2.telea,cv2.ns,skimage.biharmonic,xphoto.fsr_fast,pypatchmatch",
        help="comma-separated; retouch.fsr_fast is off by default (same algorithm as xphoto.fsr_fast, ~10 s a photo)",
    )
    ap.add_argument("--pypatchmatch-sizes", default="3", help="PyPatchMatch patch_size values (a radius: 3 = 7x7 patches)")
    ap.add_argument("--seed", type=int, default=0, help="mask seed")
    ap.add_argument("--sheet", type=int, default=4, help="photos on the contact sheet")
    args = ap.parse_args(argv)
    if args.merge:
        return _merge(args)

    photos = _photos(args.data)[args.offset :: args.stride]
    if args.limit:
        photos = photos[: args.limit]
    kinds = args.kinds.split(",")
    methods = _methods(args.methods.split(","), [int(s) for s in args.pypatchmatch_sizes.split(",")])
    args.out.mkdir(parents=True, exist_ok=True)

    # warm up (numba compile or cache load) outside the timings
    warm = np.zeros((64, 64, 3), np.uint8)
    warm[::3] = 200
    wm = np.zeros((64, 64), bool)
    wm[20:40, 20:40] = True
    for f in methods.values():
        if f is not methods.get("xphoto.fsr_fast"):
            f(warm, wm)

    rows: list[dict] = []
    comp = defaultdict(lambda: np.zeros(4))  # (kind, method, bin) -> [sum sq err, n, sum grad out, sum grad truth]
    comp_n = defaultdict(int)
    sheet: dict[tuple[str, str], dict[str, np.ndarray]] = {}
    t_start = time.perf_counter()
    for i, path in enumerate(photos):
        img = read_image(path)
        g_img = _grad(img)
        for kind in kinds:
            mask = lama_mask(img.shape[:2], kind, mask_seed(path.stem, kind, args.seed))
            labels, bins = _hole_bins(mask)
            flat_labels = labels[mask]
            for b in np.unique(bins[1:]):
                comp_n[(kind, int(b))] += int((bins[1:] == b).sum())
            for name, f in methods.items():
                t = time.perf_counter()
                out = f(img, mask)
                dt = time.perf_counter() - t
                if not (out[~mask] == img[~mask]).all():
                    print(f"warning: {name} changed pixels outside the mask on {path.stem}", file=sys.stderr)
                s = _scores(out, img, mask, g_img)
                rows.append({"photo": path.stem, "kind": kind, "method": name, "seconds": dt, "coverage": float(mask.mean()), **s})
                se = ((out.astype(np.float64) - img) ** 2).sum(axis=-1)[mask]
                sums = np.bincount(flat_labels, weights=se, minlength=len(bins))
                counts = np.bincount(flat_labels, minlength=len(bins))
                g_out = np.bincount(flat_labels, weights=_grad(out)[mask], minlength=len(bins))
                g_ref = np.bincount(flat_labels, weights=g_img[mask], minlength=len(bins))
                for lab in range(1, len(bins)):
                    comp[(kind, name, int(bins[lab]))] += (sums[lab], counts[lab] * 3, g_out[lab], g_ref[lab])
                if i < args.sheet:
                    sheet.setdefault((path.stem, kind), {"original": img, "mask": mask})[name] = out
        el = time.perf_counter() - t_start
        print(f"[{i + 1}/{len(photos)}] {path.stem}  {el:.0f} s", file=sys.stderr, flush=True)

    md = _report(rows, comp, comp_n, methods, kinds, args)
    (args.out / "inpaint_quality.md").write_text(md)
    with open(args.out / "per_photo.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    _contact_sheet(sheet, list(methods), args.out / "contact_sheet.png")
    print(md)
    print(f"wrote {args.out}/inpaint_quality.md, per_photo.csv, contact_sheet.png")
    return 0


def _merge(args) -> int:
    rows = []
    for path in args.merge:
        with open(path, newline="") as fh:
            for r in csv.DictReader(fh):
                rows.append({k: (v if k in ("photo", "kind", "method") else float(v)) for k, v in r.items()})
    names = list(dict.fromkeys(r["method"] for r in rows))
    kinds = list(dict.fromkeys(r["kind"] for r in rows))
    md = _report(rows, None, None, dict.fromkeys(names), kinds, args)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "inpaint_quality_merged.md").write_text(md)
    print(md)
    return 0


def _report(rows, comp, comp_n, methods, kinds, args) -> str:
    names = list(methods)
    pm_ref = next((n for n in names if n.startswith("pypatchmatch.3")), next((n for n in names if n.startswith("pypatchmatch")), None))
    lines = [
        "# Inpainting quality (CBSD68, LaMa-style masks)",
        "",
        f"{len({r['photo'] for r in rows})} photos, masks seed {args.seed}; means over photos, median seconds; "
        f"ratios against {pm_ref or 'no PyPatchMatch'} measured in the same run "
        "(time ratio = median of per-photo PyPatchMatch seconds / method seconds). "
        "PyPatchMatch's patch_size is a radius: pypatchmatch.3 compares 7 x 7 patches, "
        "the patch size 7 of retouch.patchmatch's default.",
        "",
    ]
    by = defaultdict(list)
    for r in rows:
        by[(r["kind"], r["method"])].append(r)
    for kind in kinds:
        cov = np.mean([r["coverage"] for r in by[(kind, names[0])]])
        lines += [f"## {kind} masks (mean coverage {cov:.1%})", ""]
        lines += ["| method | median s | x faster than PyPatchMatch | PSNR | SSIM | hole PSNR | hole PSNR - PyPatchMatch | detail ratio |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        ref = {r["photo"]: r for r in by[(kind, pm_ref)]} if pm_ref else {}
        for n in names:
            rs = by[(kind, n)]
            sec = np.median([r["seconds"] for r in rs])
            speed = np.median([ref[r["photo"]]["seconds"] / r["seconds"] for r in rs]) if ref else float("nan")
            hp = np.mean([r["hole_psnr"] for r in rs])
            dhp = hp - np.mean([r["hole_psnr"] for r in ref.values()]) if ref else float("nan")
            lines.append(
                f"| {n} | {sec:.3f} | {speed:.1f} | {np.mean([r['psnr'] for r in rs]):.2f} | "
                f"{np.mean([r['ssim'] for r in rs]):.4f} | {hp:.2f} | {dhp:+.2f} | {np.mean([r['detail'] for r in rs]):.3f} |"
            )
        lines.append("")
    if comp is None:
        return "\n".join(lines)
    # per-hole table
    lines += ["## Per connected hole, by inscribed radius (px): PSNR inside the hole (pooled), all mask kinds", ""]
    nb = len(RADIUS_BINS) - 1
    labels = [f"[{RADIUS_BINS[b]:g}, {RADIUS_BINS[b + 1]:g})" if RADIUS_BINS[b + 1] < 1e8 else f">= {RADIUS_BINS[b]:g}" for b in range(nb)]
    lines += ["| method | " + " | ".join(labels) + " |", "|---|" + "---:|" * nb]
    holes = [sum(comp_n[(k, b)] for k in kinds) for b in range(nb)]
    lines.append("| holes | " + " | ".join(str(h) for h in holes) + " |")
    for n in names:
        cells = []
        for b in range(nb):
            se, cnt, _, _ = sum((comp[(k, n, b)] for k in kinds), np.zeros(4))
            cells.append(f"{_psnr(se / cnt):.2f}" if cnt else "-")
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    lines += ["", "Detail ratio per hole (pooled: sum of gradient magnitude in the holes of the band, result over truth)", ""]
    lines += ["| method | " + " | ".join(labels) + " |", "|---|" + "---:|" * nb]
    for n in names:
        cells = []
        for b in range(nb):
            _, cnt, go, gr = sum((comp[(k, n, b)] for k in kinds), np.zeros(4))
            cells.append(f"{go / gr:.3f}" if cnt and gr else "-")
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    lines.append("")
    return "\n".join(lines)


def _contact_sheet(sheet, names, path: Path, size: int = 160) -> None:
    from retouch.inpaint.auto import hole_radii

    tiles_rows = []
    cols = ["original", "holes"] + names
    header = np.full((24, size * len(cols), 3), 255, np.uint8)
    for j, n in enumerate(cols):
        cv2.putText(header, n.replace("retouch.", "r.")[:22], (j * size + 3, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (0, 0, 0), 1, cv2.LINE_AA)
    tiles_rows.append(header)
    for (_photo, kind), outs in sheet.items():
        if kind == "thin":
            continue
        mask = outs["mask"]
        labels, radii = hole_radii(mask)
        big = int(np.argmax(radii))
        ys, xs = np.nonzero(labels == big)
        cy, cx = int(ys.mean()), int(xs.mean())
        half = max(40, int(1.3 * max(np.ptp(ys), np.ptp(xs)) / 2))
        h, w = mask.shape
        y0, x0 = max(0, min(cy - half, h - 2 * half)), max(0, min(cx - half, w - 2 * half))
        sl = (slice(y0, y0 + 2 * half), slice(x0, x0 + 2 * half))
        holes = outs["original"].copy()
        holes[mask] = (255, 0, 255)
        row = [outs["original"], holes] + [outs[n] for n in names]
        row = [cv2.resize(np.ascontiguousarray(t[sl]), (size, size), interpolation=cv2.INTER_AREA) for t in row]
        tiles_rows.append(np.hstack(row))
    cv2.imwrite(str(path), cv2.cvtColor(np.vstack(tiles_rows), cv2.COLOR_RGB2BGR))


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    raise SystemExit(main())
