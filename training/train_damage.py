"""Train the per-pixel damage model of :func:`retouch.segment.damage` on realistic damage.

Data: the GrabCut set's photos less the seven that are CBSD68 photos
(:func:`training.common.grabcut_photos`), never the CBSD68 photos that
``benchmarks/restore_real.py`` scores on, with realistic damage from
:mod:`benchmarks._realdamage` whose film dust comes from scans 01 to 04 only
(``TUNE_SCANS``; the benchmark lays scans 05 and 06). Each photo is used
``VERSIONS`` times with damage from seeds ``200000 + 10 i + k`` (the
second time in black and white: its luma), once with damage but no scanner
(sharp, no grain, no JPEG), once aged and scanned but clean, and as it is,
in colour and in black and white; and every version also shrunk to half its
size (``cv2.INTER_AREA``: finer texture for its pixel size, as in
a small scan). The clean photos as they are teach the trees what sharp
highlights, eyes, teeth and lettering look like: without them, trees
trained on scanned photos only marked 2.4 % of scikit-image's astronaut,
and trees trained on colour photos only 8 % of its black and white camera
(the greyness of a speck tells nothing on a black and white photo: the
feature ``photo_chroma`` tells the trees when it does). From each version up to ``POSITIVES`` damage pixels and
``NEGATIVES`` other pixels are drawn (half of the latter among the pixels
that differ most from their surroundings, the hard ones), among the
candidates that :func:`retouch.segment.defects.damage_model.features` gives.

Two sets of trees, trained on different photos so that the second learn
how far the first can be trusted on photos they never saw: the first on
the photos with an odd GrabCut index (their :data:`FEATURES
<retouch.segment.defects.damage_model.FEATURES>`), the second on those with an
even one (the same features and the :func:`context
<retouch.segment.defects.damage_model.context>` of the first trees'
probabilities). Photos whose GrabCut index is a multiple of ``HOLD`` (5)
are held out of both: the default certainty of
:func:`retouch.segment.damage` was chosen on them.

Each is scikit-learn's ``HistGradientBoostingClassifier`` (``TREES``
trees of at most ``LEAVES`` leaves, learning rate ``RATE``, no early
stopping, seed 0), written out by
:func:`training.export.save_boosted` as ``damage_first.npz`` and
``damage_context.npz``.

Run: ``python -m training.train_damage --data /work/shared/data --out bench-out/train_damage``
then copy ``OUT/damage_first.npz`` and ``OUT/damage_context.npz`` to
``src/retouch/segment/defects/models/`` (and their sha256 to ``models.json``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from benchmarks._realdamage import TUNE_SCANS, realistic_damage
from retouch.segment.defects import damage_model as dd
from retouch.segment.defects.damage_model import features
from training.common import grabcut_photos

VERSIONS = 3
POSITIVES, NEGATIVES = 1200, 2400
HOLD = 5
TREES, LEAVES, RATE = 100, 31, 0.1


def _versions(i: int, image: np.ndarray, grey: np.ndarray, data: Path):
    """Photo ``i``'s versions, at full size and shrunk to half: damaged and scanned (twice in colour,
    once in black and white), damaged without the scanner, clean and scanned, and the photo itself in
    colour and in black and white."""
    small = (max(1, image.shape[1] // 2), max(1, image.shape[0] // 2))
    for shift in (0, 5):
        colour, bw = image, grey
        if shift:
            colour, bw = (cv2.resize(x, small, interpolation=cv2.INTER_AREA) for x in (image, grey))
        for k in range(VERSIONS + 1):
            seed = 200000 + 10 * i + k + shift
            photo = bw if k == VERSIONS - 1 else colour
            damaged, target, labels = realistic_damage(photo, seed, data=data, scans=TUNE_SCANS, scanner=k < VERSIONS)
            yield damaged, labels
            if k == 0:
                yield target, np.zeros_like(labels)
        yield colour, np.zeros(colour.shape[:2], np.uint8)
        yield bw, np.zeros(bw.shape[:2], np.uint8)


def _rows(x: np.ndarray, cand: np.ndarray, labels: np.ndarray, rng: np.random.Generator):
    truth = labels > 0
    pos = np.flatnonzero((truth & cand).ravel())
    neg = np.flatnonzero((~truth & cand).ravel())
    pos = rng.choice(pos, min(len(pos), POSITIVES), replace=False) if len(pos) else pos
    hard = np.abs(x[..., 2:6]).max(axis=2).ravel()[neg]
    order = neg[np.argsort(-hard)][: max(1, len(neg) // 10)]
    n_hard = min(len(order), NEGATIVES // 2)
    neg = np.concatenate([rng.choice(order, n_hard, replace=False) if n_hard else order[:0],
                          rng.choice(neg, min(len(neg), NEGATIVES - n_hard), replace=False) if len(neg) else neg])
    idx = np.concatenate([pos, neg])
    flat = x.reshape(-1, x.shape[2])
    return flat[idx], truth.ravel()[idx].astype(np.int8)


def _fit(x: np.ndarray, y: np.ndarray, path: Path) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    from training.export import save_boosted

    t0 = time.perf_counter()
    model = HistGradientBoostingClassifier(max_iter=TREES, max_leaf_nodes=LEAVES, learning_rate=RATE, early_stopping=False,
                                           random_state=0)
    model.fit(x, y)
    save_boosted(path, model)
    print(f"{path.name}: {len(y)} rows ({int(y.sum())} damage), fitted in {time.perf_counter() - t0:.0f} s", flush=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=Path("bench-out/train_damage"))
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    xs, ys, second_half = [], [], []
    for i, progress, image, grey in grabcut_photos(args.data, args.limit):
        if i % HOLD == 0:
            continue  # held out: for choosing the threshold
        if i % 2 == 0:  # the second trees' photos
            second_half.extend(_versions(i, image, grey, args.data))
            continue
        for damaged, labels in _versions(i, image, grey, args.data):
            x, cand = features(damaged)
            a, b = _rows(x, cand, labels, rng)
            xs.append(a)
            ys.append(b)
        print(f"{progress}: {sum(len(v) for v in ys)} rows ({time.perf_counter() - t0:.0f} s)", flush=True)
    first_model = args.out / "damage_first.npz"
    _fit(np.concatenate(xs), np.concatenate(ys), first_model)
    xs, ys = [], []
    for damaged, labels in second_half:
        x, cand = features(damaged)
        ctx = dd.context(dd.first(x, cand, first_model))
        a, b = _rows(np.concatenate([x, ctx], axis=2), cand, labels, rng)
        xs.append(a)
        ys.append(b)
    print(f"second trees' rows ({time.perf_counter() - t0:.0f} s)", flush=True)
    _fit(np.concatenate(xs), np.concatenate(ys), args.out / "damage_context.npz")


if __name__ == "__main__":
    main()
