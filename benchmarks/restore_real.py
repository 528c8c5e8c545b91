"""Restore on realistic damage (real film-dust shapes, cracks, creases, tears) and on real old photos.

Data: the 68 CBSD68 photos (``DATA/cbsd68``) with realistic damage from
:mod:`benchmarks._realdamage` (photo ``i`` uses seed ``--seed + i``), whose
film dust, dirt and hair are windows of the hand-annotated film-dust scans
05 and 06 (``DATA/realdamage/film_dust``; ``--scans``). Scans 01 to 04 are
for tuning and training and are never scored here by default. Then every
photo in ``DATA/oldphotos`` (real scans, no truth), for contact sheets.

What is measured, for ``retouch.restore`` (defaults) and for the peer in
the same run, a median-filter "dust & scratches" (a pixel is damage when
some channel differs from its 5 x 5 median by more than 24 levels; the
mask is filled with OpenCV's Telea inpainting, radius 3):

- **the mask** against the true damage, with a 2 px tolerance: precision
  (detected pixels within 2 px of damage), recall (damage pixels within
  2 px of a detection), F1; the mean over photos and pooled. Per category
  (thin: cracks, creases, scratches, hair; spots: dust, dirt, foxing;
  losses: torn corners, lost emulsion): recall of that category's pixels,
  and precision counting the detections within 2 px of that category as
  hits and every detection near no damage at all as a miss;
- **clean photos**: the share of each undamaged photo marked, both as it
  is (pristine) and aged and scanned like the damaged one (fading, sepia,
  blur, grain, JPEG: what a clean real scan looks like);
- **PSNR** against the target (the same photo aged and scanned without
  damage) of the damaged photo, of the result, and of the *oracle*: the
  true mask grown by 2 px filled by restore's own inpainter
  (``retouch.inpaint.auto``); the share of the oracle's gain reached.

Contact sheets (``--out``/``oldphotos/NAME.png``): input | mask (red over
the darkened input) | restored, each panel at most ``--panel`` px wide.

Run: ``python -m benchmarks.restore_real --data /work/shared/data``
(``--limit 10`` for a quick look, ``--sheets none`` to skip the old photos).
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

from benchmarks._data import cbsd68_images, davis_pairs, grabcut_pairs, list_images
from benchmarks._realdamage import CATEGORIES, SCORE_SCANS, realistic_damage

TOLERANCE = 2
GROW = 2
PEER_WINDOW, PEER_THRESHOLD = 5, 24


def peer(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median-filter dust & scratches: |photo - 5x5 median| > 24 in some channel, filled by Telea."""
    med = cv2.medianBlur(image, PEER_WINDOW)
    mask = (np.abs(image.astype(np.int16) - med.astype(np.int16)).max(axis=2) > PEER_THRESHOLD)
    out = cv2.inpaint(image, mask.view(np.uint8), 3, cv2.INPAINT_TELEA) if mask.any() else image.copy()
    return out, mask


DETECTORS: dict[str, bool] = {}  # restore's detectors (--detectors); empty: its defaults


def _restore(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``retouch.restore`` with its defaults (or ``--detectors``), and the mask it filled (the recipe it runs)."""
    from retouch.pipeline import recipe_for_restore

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = recipe_for_restore(**DETECTORS).apply(image)
    return result.image, np.asarray(result.mask, bool)


def _fill(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    import retouch.inpaint as ri

    if not mask.any():
        return image.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ri.auto(image, mask)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def scores(detected: np.ndarray, labels: np.ndarray, tol: float = TOLERANCE) -> dict[str, tuple[int, int, int, int]]:
    """Counts (hits among detections, detections counted, true px found, true px) overall and per category."""
    truth = labels > 0
    near_any = ndi.distance_transform_edt(~truth) <= tol if truth.any() else np.zeros(truth.shape, bool)
    dt_det = ndi.distance_transform_edt(~detected) <= tol if detected.any() else np.zeros(truth.shape, bool)
    false = int((detected & ~near_any).sum())
    out = {"all": (int((detected & near_any).sum()), int(detected.sum()), int((dt_det & truth).sum()), int(truth.sum()))}
    for k, name in enumerate(CATEGORIES, 1):
        cat = labels == k
        near = ndi.distance_transform_edt(~cat) <= tol if cat.any() else np.zeros(truth.shape, bool)
        hits = int((detected & near).sum())
        out[name] = (hits, hits + false, int((dt_det & cat).sum()), int(cat.sum()))
    return out


def prf(c) -> tuple[float, float, float]:
    tp_d, n_d, tp_t, n_t = c
    p = tp_d / n_d if n_d else 1.0
    r = tp_t / n_t if n_t else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _overlay(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    vis = (image.astype(np.float32) * 0.4).astype(np.uint8)
    vis[mask] = (255, 40, 40)
    return vis


def contact_sheet(image: np.ndarray, mask: np.ndarray, restored: np.ndarray, panel: int) -> np.ndarray:
    """input | mask | restored side by side, each panel at most ``panel`` px wide."""
    h, w = image.shape[:2]
    scale = min(1.0, panel / w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    tiles = [cv2.resize(t, size, interpolation=cv2.INTER_AREA) for t in (image, _overlay(image, mask), restored)]
    gap = np.full((size[1], 6, 3), 255, np.uint8)
    return np.hstack([tiles[0], gap, tiles[1], gap, tiles[2]])


def tune_photos(data: Path) -> list[Path]:
    """The photos ``training/train_damage_net.py`` holds out: GrabCut photos whose index is a multiple of
    5 and that are not CBSD68 photos, and every 5th of the DAVIS tune frames it takes (every 4th)."""
    stems = {p.stem for p in cbsd68_images(data)}
    grabcut = [p.image for i, p in enumerate(grabcut_pairs(data)) if i % 5 == 0 and Path(p.image).stem not in stems]
    return grabcut + [p.image for j, p in enumerate(davis_pairs(data, "tune")[::4]) if j % 5 == 0]


def _read_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB")).copy()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="folder holding cbsd68/, realdamage/, oldphotos/")
    ap.add_argument("--out", type=Path, default=Path("bench-out/restore_real"))
    ap.add_argument("--limit", type=int, default=0, help="only the first N CBSD68 photos (0: all, -1: none)")
    ap.add_argument("--seed", type=int, default=0, help="photo i uses damage seed SEED + i")
    ap.add_argument("--scans", default=",".join(map(str, SCORE_SCANS)), help="film-dust scans to lay (default 5,6)")
    ap.add_argument("--photos", choices=("score", "tune"), default="score",
                    help="score: the CBSD68 photos; tune: the photos training/train_damage_net.py holds out of its "
                         "training (for choosing settings; use with --scans 1,2,3,4)")
    ap.add_argument("--detectors", default="", help="restore's detectors, comma-separated (damage, scratches, spots, text); default: its defaults")
    ap.add_argument("--sheets", default="all", help="old photos to restore for contact sheets: all, none, or comma-separated parts of their names")
    ap.add_argument("--panel", type=int, default=640, help="widest panel of a contact sheet, px")
    args = ap.parse_args(argv)
    scans = tuple(int(s) for s in args.scans.split(","))
    if args.detectors:
        DETECTORS.update({k: k in args.detectors.split(",") for k in ("damage", "scratches", "spots", "text")})
    args.out.mkdir(parents=True, exist_ok=True)

    methods = {"restore": _restore, "peer": peer}
    photos = cbsd68_images(args.data) if args.photos == "score" else tune_photos(args.data)
    if args.limit:
        photos = photos[: max(0, args.limit)]
    keys = ("all", *CATEGORIES)
    pooled = {m: {k: np.zeros(4, np.int64) for k in keys} for m in methods}
    per = {m: {k: [] for k in keys} for m in methods}
    clean = {m: {"pristine": [], "scanned": []} for m in methods}
    gain = {m: [] for m in methods}
    oracle_gain, secs, rows = [], {m: [] for m in methods}, []
    for i, path in enumerate(photos):
        original = _read_rgb(path)
        damaged, target, labels = realistic_damage(original, args.seed + i, data=args.data, scans=scans)
        truth = labels > 0
        grown = cv2.dilate(truth.view(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * GROW + 1,) * 2)) > 0
        base = psnr(damaged, target)
        og = psnr(_fill(damaged, grown), target) - base
        oracle_gain.append(og)
        row = {"photo": path.name, "seed": args.seed + i, "damaged_dB": base, "oracle_gain": og,
               **{f"truth_{k}": float((labels == j).mean()) for j, k in enumerate(CATEGORIES, 1)}}
        line = f"{i + 1:3d}/{len(photos)} {path.name}:"
        for m, fn in methods.items():
            t0 = time.perf_counter()
            restored, mask = fn(damaged)
            secs[m].append(time.perf_counter() - t0)
            c = scores(mask, labels)
            for k in keys:
                pooled[m][k] += c[k]
                if c[k][3]:  # photos with this damage
                    per[m][k].append(prf(c[k]))
            g = psnr(restored, target) - base
            gain[m].append(g)
            cp = float(fn(original)[1].mean())
            cs = float(fn(target)[1].mean())
            clean[m]["pristine"].append(cp)
            clean[m]["scanned"].append(cs)
            p, r, f = prf(c["all"])
            row.update({f"{m}_P": p, f"{m}_R": r, f"{m}_F1": f, f"{m}_gain": g, f"{m}_clean": cp, f"{m}_clean_scanned": cs})
            line += f" {m} F1 {f:.2f} (P {p:.2f} R {r:.2f}) {g:+.1f} dB clean {100 * cp:.2f}/{100 * cs:.2f} % |"
        rows.append(row)
        print(line + f" oracle {og:+.1f} dB", flush=True)

    lines = []
    if photos:
        lines += [
            f"# Realistic damage on {len(photos)} {'CBSD68' if args.photos == 'score' else 'held-out tune'} photos (film-dust scans {scans}, seed {args.seed})",
            "",
            f"Mask against the true damage, {TOLERANCE} px tolerance; mean over photos (photos with that damage) / pooled.",
            "",
            "| method | category | P mean | R mean | F1 mean | P pooled | R pooled | F1 pooled |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for m in methods:
            for k in keys:
                if not per[m][k]:
                    continue
                mp, mr, mf = np.mean(per[m][k], axis=0)
                pp, pr, pf = prf(tuple(pooled[m][k]))
                lines.append(f"| {m} | {k} ({len(per[m][k])} photos) | {mp:.3f} | {mr:.3f} | {mf:.3f} | {pp:.3f} | {pr:.3f} | {pf:.3f} |")
        lines += ["", "| method | PSNR gain mean dB | share of oracle's gain | clean pristine marked mean / worst | clean scanned marked mean / worst | s / photo |",
                  "|---|---|---|---|---|---|"]
        og = float(np.mean(oracle_gain))
        for m in methods:
            cp, cs = np.array(clean[m]["pristine"]), np.array(clean[m]["scanned"])
            lines.append(f"| {m} | {np.mean(gain[m]):+.2f} | {np.mean(gain[m]) / og:.0%} | {100 * cp.mean():.3f} % / {100 * cp.max():.2f} % | "
                         f"{100 * cs.mean():.3f} % / {100 * cs.max():.2f} % | {np.median(secs[m]):.2f} |")
        lines += ["", f"Oracle (true mask + {GROW} px, inpaint.auto): mean gain {og:+.2f} dB over the damaged photo "
                      f"({np.mean([r['damaged_dB'] for r in rows]):.2f} dB). restore F1 / peer F1 (per-photo means): "
                      f"{np.mean([f for _, _, f in per['restore']['all']]) / max(1e-9, np.mean([f for _, _, f in per['peer']['all']])):.2f}"]
        report = "\n".join(lines)
        print("\n" + report)
        (args.out / "restore_real.md").write_text(report + "\n")
        with open(args.out / "per_photo.csv", "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)

    if args.sheets != "none" and (args.data / "oldphotos").is_dir():
        sheet_dir = args.out / "oldphotos"
        sheet_dir.mkdir(exist_ok=True)
        marked = []
        for path in list_images(args.data / "oldphotos"):
            if args.sheets != "all" and not any(part in path.name for part in args.sheets.split(",")):
                continue
            image = _read_rgb(path)
            t0 = time.perf_counter()
            restored, mask = _restore(image)
            dt = time.perf_counter() - t0
            Image.fromarray(contact_sheet(image, mask, restored, args.panel)).save(sheet_dir / f"{path.stem}.png")
            marked.append((path.name, float(mask.mean()), image.shape[0] * image.shape[1] / 1e6, dt))
            print(f"{path.name}: {image.shape[1]}x{image.shape[0]}, {100 * mask.mean():.2f} % marked, {dt:.1f} s", flush=True)
        with open(sheet_dir / "marked.csv", "w", newline="") as fh:
            csv.writer(fh).writerows([("photo", "marked", "megapixels", "seconds"), *marked])
        print(f"wrote {len(marked)} contact sheets to {sheet_dir}")


if __name__ == "__main__":
    main()
