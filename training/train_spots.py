"""Train the model that :func:`retouch.segment.spots` weighs its speck candidates with.

Data: the photos of the GrabCut set (``DATA/grabcut/data_GT``), never the
CBSD68 photos that ``benchmarks/restore.py`` scores on, so the restore
benchmark measures the detector on photos its model has not seen: seven
GrabCut photos are Berkeley photos that are also in CBSD68 (106024, 189080,
208001, 21077, 227092, 24077, 304074) and are left out, which leaves 43. Each
photo is used nine times: with specks drawn from seeds ``1000 + i`` and
``2000 + i`` (:func:`benchmarks._damage.draw_spots`: 5 to 60 grey blotches
2 to 15 px, light or dark, some soft), clean, in black and white (its
luma) with specks from seed ``3000 + i`` and clean, and shrunk to half and
to 0.7 of its size (``cv2.INTER_AREA``) with specks from seeds ``7000 + i``
and ``7100 + i`` and clean. The shrunk copies stand in for photos whose
texture is finer for its pixel size than the GrabCut set's (grass, fur and
gravel in a small scan): with them the random forest used before marked
more of the drawn dust on CBSD68 at the same threshold
(``benchmarks/restore.py``: spots F1 0.674 -> 0.683, recall 0.597 ->
0.609) and less of its clean photos (0.076 -> 0.068 %), measured when the
seven photos shared with CBSD68 were still trained on. Two models are
trained: one on the colour versions, one on the black and white ones
(``spots`` uses the second on photos whose channels are all equal: a scan
of a black and white print, where greyness tells nothing).

On each, ``spots``' own candidates are found and measured with its default
settings (``retouch.segment.defects.detectors.spot_candidates``); a candidate is a
speck when at least half of it lies on the drawn specks grown by 1 px. The
model is gradient-boosted trees (scikit-learn's
``HistGradientBoostingClassifier``: 400 trees of at most 63 leaves,
learning rate 0.05, leaves of at least 20 candidates, L2 penalty 1, no
early stopping, so the same rows give the same model), each candidate
weighted by the square root of its area. It replaced a random forest
(OpenCV's ``cv2.ml.RTrees``, 100 trees of depth 12, 4 measures tried per
split) trained on the same rows. Scored on ``benchmarks/restore.py``'s
photos (mean spots F1 per photo): the forest 0.668 with the 13 measures
it read (0.668 to 0.682 over its generator's seeds) and 0.677 with the
eleven profile, shape, edge and ring measures added; boosted trees 0.713
with the 13 and 0.720 (the shipped model) with all 24. The same rows with
the columns in another order gave 0.728, and 31 or 127 leaves in place of
63, or 200 trees, 0.726 to 0.731: differences of 0.01 are noise. The
model is written out as arrays (``training.export.save_boosted``)
that ``spots`` walks with numba, so scikit-learn is needed to train, not
to detect.

Run: ``python -m training.train_spots --data /work/shared/data`` writes
``bench-out/train_spots/spots_colour.npz`` and ``..._grey.npz``
(and the candidates, ``candidates.npz``, for ``--reuse``), with a 2-fold
check (photos split by parity) of precision and recall over the
candidates' area; copy the two files to ``src/retouch/segment/defects/models/`` to ship them.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from benchmarks._damage import damage
from retouch.segment.defects.detectors import spot_candidates
from retouch.segment.defects.specks import features
from training import common
from training.export import save_boosted

SEEDS = (1000, 2000)
GREY_SEED = 3000
SCALES = ((0.5, 7000), (0.7, 7100))  # shrunk colour copies: scale, seed base
TREES, LEAVES, RATE, MIN_LEAF, L2 = 400, 63, 0.05, 20, 1.0


def candidate_rows(image: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, label, area) of ``spots``' candidates on ``image`` against the true specks."""
    found, _ = spot_candidates(image, min_size=2, max_size=15, min_contrast=0.15, polarity="both")
    grown = cv2.dilate(truth.view(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    labels, areas = [], []
    for cand, _ in found:
        y0, y1, x0, x1 = cand.box
        labels.append(grown[y0:y1, x0:x1][cand.mask].mean() >= 0.5)
        areas.append(cand.mask.sum())
    x = features([t for _, t in found])
    return x, np.asarray(labels, np.int32), np.asarray(areas, np.float32)


def fit(x: np.ndarray, y: np.ndarray, area: np.ndarray) -> HistGradientBoostingClassifier:
    model = HistGradientBoostingClassifier(max_iter=TREES, max_leaf_nodes=LEAVES, learning_rate=RATE, min_samples_leaf=MIN_LEAF,
                                           l2_regularization=L2, early_stopping=False, random_state=0)
    return model.fit(x, y, sample_weight=np.sqrt(area))


def main(argv: list[str] | None = None) -> None:
    args = common.arguments(__doc__, out="bench-out/train_spots", threshold=0.3, what="a speck", argv=argv)
    x, y, area, photo, grey = common.cached(args.out / "candidates.npz", args.reuse, ("x", "y", "area", "photo", "grey"),
                                              lambda: _extract(args.data, args.limit))
    for is_grey, name in ((False, "colour"), (True, "grey")):
        sel = grey == is_grey
        xs, ys, areas, photos = x[sel], y[sel], area[sel], photo[sel]
        print(f"{name}: {len(ys)} candidates, {int(ys.sum())} specks")
        # 2-fold check by photo parity: area-weighted precision and recall over the candidates
        p = np.zeros(len(ys))
        for fold in (0, 1):
            test = photos % 2 == fold
            p[test] = fit(xs[~test], ys[~test], areas[~test]).predict_proba(xs[test])[:, 1]
        keep = p >= args.threshold
        tp = float(areas[keep & (ys == 1)].sum())
        print(f"  2-fold check at {args.threshold}: precision {tp / max(areas[keep].sum(), 1):.3f}, "
              f"recall {tp / max(areas[ys == 1].sum(), 1):.3f} (candidate area)", flush=True)
        path = args.out / f"spots_{name}.npz"
        save_boosted(path, fit(xs, ys, areas))
        print(f"  wrote {path} ({path.stat().st_size / 1e6:.2f} MB); copy it to src/retouch/segment/defects/models/ to ship it")


def _specked_and_clean(image: np.ndarray, seeds: list[int], *, grey: bool) -> list[tuple[np.ndarray, np.ndarray, bool]]:
    """(photo, true specks, grey): ``image`` with specks drawn from each seed, then ``image`` clean."""
    return [(*damage(image, "spots", seed), grey) for seed in seeds] + [(image, np.zeros(image.shape[:2], bool), grey)]


def _versions(i: int, image: np.ndarray, luma: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, bool]]:
    versions = _specked_and_clean(image, [seed + i for seed in SEEDS], grey=False)
    versions += _specked_and_clean(luma, [GREY_SEED + i], grey=True)
    for scale, seed in SCALES:
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        versions += _specked_and_clean(small, [seed + i], grey=False)
    return versions


def _extract(data: Path, limit: int) -> tuple[np.ndarray, ...]:
    return common.extract(data, limit, _versions, candidate_rows, "candidates")


if __name__ == "__main__":
    main()
