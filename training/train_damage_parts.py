"""Train the trees that judge the parts of the damage network's map (``models/damage_parts.npz``).

``segment.damage`` cuts the damage network's map at a low probability
(:data:`retouch.segment.defects.damage_parts.LOW`) and keeps each connected
part that these trees call damage (see :mod:`retouch.segment.defects.damage_parts`).

Rows: every part (:func:`retouch.segment.defects.damage_net.tile_parts`, the
same tiles as ``segment.damage`` runs) of eight versions of each training
photo: with realistic damage (``benchmarks._realdamage``, film-dust scans
01-04 only, seed ``500000 + i``), and the same photo clean, as it is and
aged and scanned like the damaged one; its black and white version
sharpened, with realistic damage (seed ``600000 + i``) and clean, aged and
scanned; and three of the damage network's hard negatives
(``training.train_damage_net._negatives``: the photo sharpened, its black
and white half sharpened, a window's leads or rails drawn), clean. A part is damage when at least half
of its pixels lie within 2 px of the true damage (the benchmark's
tolerance). Photos: the GrabCut set's photos that the network trains on
(not its held-out every 5th, not the CBSD68 photos) and the DAVIS tune
frames that its damage versions do not use (all but every 4th; the
network saw them only clean, as hard negatives), every ``--step``-th. The
held-out photos that ``benchmarks.restore_real --photos tune`` scores are
never used, nor CBSD68, nor scans 05-06.

Model: scikit-learn's ``HistGradientBoostingClassifier`` (300 trees of at
most 31 leaves, learning rate 0.05, leaves of at least 20 parts, no early
stopping), each part weighted by its area, written out as arrays
(``training.export.save_boosted``).

Run: ``python -m training.train_damage_parts --data /work/shared/data``
writes ``bench-out/train_damage_parts/damage_parts.npz`` (and the rows,
``rows.npz``, for ``--reuse``); copy it to ``src/retouch/segment/defects/models/``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

TREES, LEAVES, RATE, MIN_LEAF = 300, 31, 0.05, 20
SEED = 500000


def part_rows(image: np.ndarray, labels: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, damage or not, area) of every part of ``image`` whose pixels lie in a tile's core."""
    from retouch.segment.defects.damage_net import tile_parts
    from retouch.segment.defects.damage_parts import FEATURES

    near = None
    if labels is not None and labels.any():
        near = cv2.dilate((labels > 0).view(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))) > 0
    xs, ys, areas = [], [], []
    for (cy0, cy1, cx0, cx1), (ya, yb, xa, xb), _, parts, x in tile_parts(image):
        if not len(x):
            continue
        n = len(x) + 1
        core = parts[cy0:cy1, cx0:cx1]
        area = np.bincount(core.ravel(), minlength=n)[1:]
        whole = np.bincount(parts.ravel(), minlength=n)[1:]
        hit = np.zeros(n - 1) if near is None else np.bincount(parts.ravel(), weights=near[ya:yb, xa:xb].ravel(), minlength=n)[1:]
        sel = area > 0
        xs.append(x[sel])
        ys.append((hit / np.maximum(whole, 1) >= 0.5)[sel])
        areas.append(area[sel])
    if not xs:
        return np.zeros((0, len(FEATURES)), np.float32), np.zeros(0, bool), np.zeros(0)
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(areas).astype(np.float64)


def photos(data: Path, step: int):
    from benchmarks._data import davis_pairs, read_image
    from training.common import grabcut_photos
    from training.train_damage_net import DAVIS_STEP, HOLD

    k = 0
    for i, _, image, _ in grabcut_photos(data, 0):
        if i % HOLD:
            if k % step == 0:
                yield i, image
            k += 1
    for j, pair in enumerate(davis_pairs(data, "tune")):
        if j % DAVIS_STEP:
            if k % step == 0:
                image = read_image(pair.image)
                yield 1000 + j, np.dstack([image] * 3) if image.ndim == 2 else image
            k += 1


def extract(data: Path, step: int) -> dict[str, np.ndarray]:
    from benchmarks._realdamage import TUNE_SCANS, realistic_damage

    from retouch.convert import to_gray, to_rgb, to_uint8
    from training.train_damage_net import _negatives, _sharp

    rows = {"x": [], "y": [], "area": [], "photo": [], "clean": []}
    t0 = time.perf_counter()
    for i, image in photos(data, step):
        damaged, target, labels = realistic_damage(image, SEED + i, data=data, scans=TUNE_SCANS)
        grey = to_rgb(to_uint8(to_gray(image)))
        sharp_grey = _sharp(grey, np.random.default_rng([SEED + i]))
        grey_damaged, grey_target, grey_labels = realistic_damage(sharp_grey, SEED + 100000 + i, data=data, scans=TUNE_SCANS)
        hard = list(_negatives(i, image, grey))  # the network's hard negatives: sharpened, shrunk, grained, lattices
        versions = [(damaged, labels), (target, None), (image, None), (grey_damaged, grey_labels), (grey_target, None),
                    (hard[0], None), (hard[2], None), (hard[4], None)]
        for version, truth in versions:
            x, y, area = part_rows(version, truth)
            rows["x"].append(x)
            rows["y"].append(y)
            rows["area"].append(area)
            rows["photo"].append(np.full(len(y), i))
            rows["clean"].append(np.full(len(y), truth is None))
        print(f"photo {i}: {sum(len(y) for y in rows['y'])} parts ({time.perf_counter() - t0:.0f} s)", flush=True)
    return {k: np.concatenate(v) for k, v in rows.items()}


def fit(x: np.ndarray, y: np.ndarray, area: np.ndarray):
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(max_iter=TREES, max_leaf_nodes=LEAVES, learning_rate=RATE,
                                           min_samples_leaf=MIN_LEAF, early_stopping=False, random_state=0)
    return model.fit(x, y, sample_weight=area)


def main(argv: list[str] | None = None) -> None:
    from training.export import save_boosted

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=Path("bench-out/train_damage_parts"))
    ap.add_argument("--step", type=int, default=3, help="every N-th training photo (default 3)")
    ap.add_argument("--reuse", action="store_true", help="read the rows from OUT/rows.npz")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    cache = args.out / "rows.npz"
    if args.reuse and cache.is_file():
        with np.load(cache) as z:
            rows = {k: z[k] for k in z.files}
    else:
        rows = extract(args.data, args.step)
        np.savez_compressed(cache, **rows)
    x, y, area, photo = rows["x"], rows["y"].astype(np.int32), rows["area"], rows["photo"]
    print(f"{len(y)} parts, {int(y.sum())} damage; {area[y == 1].sum():.0f} px damage, {area[y == 0].sum():.0f} px not")
    p = np.zeros(len(y))  # 2-fold check by photo parity: area-weighted precision and recall
    for fold in (0, 1):
        test = photo % 2 == fold
        p[test] = fit(x[~test], y[~test], area[~test]).predict_proba(x[test])[:, 1]
    for keep in (0.3, 0.4, 0.5, 0.6, 0.7):
        kept = p >= keep
        tp = area[kept & (y == 1)].sum()
        print(f"keep {keep}: precision {tp / max(area[kept].sum(), 1):.3f} recall {tp / max(area[y == 1].sum(), 1):.3f} "
              f"clean kept {area[kept & rows['clean']].sum():.0f} px")
    save_boosted(args.out / "damage_parts.npz", fit(x, y, area))
    print(f"wrote {args.out / 'damage_parts.npz'}")


if __name__ == "__main__":
    main()
