"""Damage detection and one-step restore on real photos with drawn damage of known position.

Data: the 68 CBSD68 photos (``DATA/cbsd68``). Over each photo, synthetic
damage is laid from a fixed seed (photo ``i`` uses seed ``--seed + i``; see
:mod:`benchmarks._damage` for how it is drawn): long thin scratches 1 to 4 px
wide, light or dark, partly transparent; 5 to 60 grey blotches 2 to 15 px;
a date stamp or a caption in Pillow's built-in font. The true damage mask is
the set of pixels the damage changed by at least 10/255 in some channel.

What is measured
----------------
- **Each detector on its own damage** (``scratches`` on the photo with only
  scratches drawn, ``spots`` with only spots, ``text`` with only text):
  precision = the share of detected pixels within 2 px of a true damage
  pixel; recall = the share of true damage pixels within 2 px of a detected
  pixel; F1 of the two. Reported as the mean over photos (each photo counts
  the same) and pooled over all pixels of all photos.
- **False positives on the clean photo**: the share of the undamaged
  photo's pixels each detector marks (mean and worst photo).
- **Restore** on the photo with all three kinds of damage: PSNR against the
  undamaged original of the damaged photo, of the restored photo, and of an
  *oracle* that fills the true mask (grown by 2 px) with the same
  inpainter, the upper bound a perfect detector would reach. Restore is
  ``retouch.restore`` with its defaults (all three detectors, the mask
  grown by 1 px, ``inpaint.auto``) when the package has it, otherwise detect, grow the
  union of the masks by 2 px and fill with ``retouch.inpaint.auto`` (or
  ``telea``); the report says which ran.
- Seconds per photo of each detector and of the restore (median).

No other library detects this damage, so the peers are the damaged photo
(the floor) and the oracle mask (the ceiling).

Outputs (``--out``, default ``bench-out/restore``): ``restore.md`` (the
tables), ``per_photo.csv``, ``contact_sheet.png`` (damaged / detected mask /
restored for a few photos).

Run: ``python -m benchmarks.restore --data /work/shared/data``
(``--limit 10`` for a quick look).
"""

from __future__ import annotations

import argparse
import csv
import time
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from scipy import ndimage as ndi

from benchmarks._damage import KINDS, damage

TOLERANCE = 2  # px: a detection within this distance of the truth counts
GROW = 2  # px the restore mask is grown by


def _photos(data: Path) -> list[Path]:
    try:
        from benchmarks._data import cbsd68_images

        return list(cbsd68_images(data))
    except (ImportError, FileNotFoundError):
        folder = data / "cbsd68" if (data / "cbsd68").is_dir() else data
        return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg", ".bmp"))


def _read(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def match(detected: np.ndarray, truth: np.ndarray, tol: float = TOLERANCE) -> tuple[int, int, int, int]:
    """(detected px near truth, detected px, true px near a detection, true px)."""
    dt_truth = ndi.distance_transform_edt(~truth) if truth.any() else np.full(truth.shape, np.inf)
    dt_det = ndi.distance_transform_edt(~detected) if detected.any() else np.full(truth.shape, np.inf)
    return (
        int((dt_truth[detected] <= tol).sum()),
        int(detected.sum()),
        int((dt_det[truth] <= tol).sum()),
        int(truth.sum()),
    )


def prf(counts: tuple[int, int, int, int]) -> tuple[float, float, float]:
    """Precision, recall, F1 from :func:`match` counts (an empty detection has precision 1)."""
    tp_d, n_d, tp_t, n_t = counts
    p = tp_d / n_d if n_d else 1.0
    r = tp_t / n_t if n_t else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def _restorer():
    """(name, fn(image) -> (restored, mask), fill(image, mask) -> restored) for the restore run."""
    import retouch
    import retouch.inpaint as ri
    import retouch.segment as rs

    fill_name = "auto" if hasattr(ri, "auto") else "telea"
    fill = getattr(ri, fill_name)

    def quiet_fill(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if not mask.any():
            return image.copy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fill(image, mask)

    if hasattr(retouch, "restore"):

        def run(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = retouch.pipeline.recipe_for_restore().apply(image)
            return result.image, result.mask

        return "retouch.restore (defaults)", run, quiet_fill

    def compose(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mask = rs.scratches(image) | rs.spots(image) | rs.text(image)
        mask = cv2.dilate(mask.view(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * GROW + 1,) * 2)).astype(bool)
        return quiet_fill(image, mask), mask

    return f"detect -> grow {GROW} px -> inpaint.{fill_name}", compose, quiet_fill


def _sheet(rows: list[tuple[np.ndarray, ...]], path: Path) -> None:
    """Contact sheet rows: damaged, detected mask (green hit, red false, blue missed), restored, original."""
    tiles = []
    for damaged, mask, truth, restored, original in rows:
        vis = (damaged.astype(np.float32) * 0.35).astype(np.uint8)
        vis[mask & truth] = (40, 220, 40)
        vis[mask & ~truth] = (230, 40, 40)
        vis[~mask & truth] = (60, 90, 255)
        row = [damaged, vis, restored, original]
        if damaged.shape[0] > damaged.shape[1]:  # portrait: turn so rows line up
            row = [np.ascontiguousarray(np.rot90(t)) for t in row]
        tiles.append(np.hstack([cv2.resize(t, (481, 321), interpolation=cv2.INTER_AREA) for t in row]))
    Image.fromarray(np.vstack(tiles)).save(path)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="folder holding cbsd68/ (or the photos themselves)")
    ap.add_argument("--out", type=Path, default=Path("bench-out/restore"))
    ap.add_argument("--limit", type=int, default=0, help="only the first N photos (0: all)")
    ap.add_argument("--seed", type=int, default=0, help="photo i uses damage seed SEED + i")
    ap.add_argument("--sheet", type=int, default=6, help="photos on the contact sheet")
    args = ap.parse_args(argv)

    import retouch.segment as rs

    detectors = {"scratches": rs.scratches, "spots": rs.spots, "text": rs.text}
    photos = _photos(args.data)
    if args.limit:
        photos = photos[: args.limit]
    args.out.mkdir(parents=True, exist_ok=True)
    restore_name, restore_fn, fill = _restorer()

    counts = {k: np.zeros(4, np.int64) for k in KINDS}
    per_photo: list[dict[str, object]] = []
    f1s = {k: [] for k in KINDS}
    precs = {k: [] for k in KINDS}
    recs = {k: [] for k in KINDS}
    clean_fp = {k: [] for k in KINDS}
    secs = {k: [] for k in (*KINDS, "restore")}
    psnr_damaged, psnr_restored, psnr_oracle = [], [], []
    combined = np.zeros(4, np.int64)
    sheet_rows = []
    for i, path in enumerate(photos):
        original = _read(path)
        row: dict[str, object] = {"photo": path.name, "seed": args.seed + i}
        for kind in KINDS:
            damaged, truth = damage(original, kind, args.seed + i)
            t0 = time.perf_counter()
            det = detectors[kind](damaged)
            secs[kind].append(time.perf_counter() - t0)
            c = match(det, truth)
            counts[kind] += c
            p, r, f = prf(c)
            precs[kind].append(p)
            recs[kind].append(r)
            f1s[kind].append(f)
            fp = float(detectors[kind](original).mean())
            clean_fp[kind].append(fp)
            row.update({f"{kind}_P": p, f"{kind}_R": r, f"{kind}_F1": f, f"{kind}_clean_fp": fp})
        damaged, truth = damage(original, KINDS, args.seed + i)
        t0 = time.perf_counter()
        restored, mask = restore_fn(damaged)
        secs["restore"].append(time.perf_counter() - t0)
        combined += match(mask, truth)
        grown = cv2.dilate(truth.view(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * GROW + 1,) * 2)).astype(bool)
        oracle = fill(damaged, grown)
        pd, pr, po = psnr(damaged, original), psnr(restored, original), psnr(oracle, original)
        psnr_damaged.append(pd)
        psnr_restored.append(pr)
        psnr_oracle.append(po)
        row.update({"psnr_damaged": pd, "psnr_restored": pr, "psnr_oracle": po})
        per_photo.append(row)
        if len(sheet_rows) < args.sheet:
            sheet_rows.append((damaged, mask, truth, restored, original))
        print(
            f"{i + 1:3d}/{len(photos)} {path.name}: F1 "
            + " ".join(f"{k} {f1s[k][-1]:.2f}" for k in KINDS)
            + f" | PSNR {pd:.1f} -> {pr:.1f} dB (oracle {po:.1f})",
            flush=True,
        )

    lines = [
        f"# Damage detection and restore: {len(photos)} CBSD68 photos, seed {args.seed}",
        "",
        f"Precision / recall with a {TOLERANCE} px tolerance; each detector on photos with its own damage only;",
        "clean FP = share of the undamaged photo's pixels marked.",
        "",
        "| detector | P (mean) | R (mean) | F1 (mean) | P (pooled) | R (pooled) | F1 (pooled) | clean FP mean | clean FP worst | s / photo |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for kind in KINDS:
        pp, rr, ff = prf(tuple(counts[kind]))
        lines.append(
            f"| {kind} | {np.mean(precs[kind]):.3f} | {np.mean(recs[kind]):.3f} | {np.mean(f1s[kind]):.3f} | "
            f"{pp:.3f} | {rr:.3f} | {ff:.3f} | {100 * np.mean(clean_fp[kind]):.3f} % | "
            f"{100 * np.max(clean_fp[kind]):.2f} % | {np.median(secs[kind]):.2f} |"
        )
    cp, cr, cf = prf(tuple(combined))
    gain = np.array(psnr_restored) - np.array(psnr_damaged)
    lines += [
        "",
        f"Restore ({restore_name}) on photos with all three kinds of damage;"
        f" its mask against the true one: P {cp:.3f}, R {cr:.3f}, F1 {cf:.3f} (pooled).",
        "",
        "| PSNR vs original | mean dB | median dB |",
        "|---|---|---|",
        f"| damaged photo | {np.mean(psnr_damaged):.2f} | {np.median(psnr_damaged):.2f} |",
        f"| restored | {np.mean(psnr_restored):.2f} | {np.median(psnr_restored):.2f} |",
        f"| oracle mask (true damage + {GROW} px, same fill) | {np.mean(psnr_oracle):.2f} | {np.median(psnr_oracle):.2f} |",
        "",
        f"Gain of restore over the damaged photo: mean {gain.mean():.2f} dB, median {np.median(gain):.2f} dB, "
        f"worst photo {gain.min():.2f} dB; restore reaches {np.mean(gain) / max(1e-9, np.mean(np.array(psnr_oracle) - psnr_damaged)):.0%} "
        f"of the oracle's gain. Restore: {np.median(secs['restore']):.2f} s / photo (median).",
    ]
    report = "\n".join(lines)
    print()
    print(report)
    (args.out / "restore.md").write_text(report + "\n")
    with open(args.out / "per_photo.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(per_photo[0]))
        writer.writeheader()
        writer.writerows(per_photo)
    if sheet_rows:
        _sheet(sheet_rows, args.out / "contact_sheet.png")
    print(f"\nwrote {args.out / 'restore.md'}, per_photo.csv, contact_sheet.png")


if __name__ == "__main__":
    main()
