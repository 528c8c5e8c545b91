"""What the model-training scripts share (``train_spots.py``, ``train_scratches.py``, ``train_spots_net.py``).

Their command line (``--data``, ``--out``, ``--limit``, ``--threshold``,
``--reuse``), the cache of extracted rows, and the random forest that
``train_scratches.py`` fits: OpenCV's ``cv2.ml.RTrees`` with its random
generator seeded, so the same rows give the same forest
(``train_spots.py`` fits gradient-boosted trees of its own).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np

from benchmarks._data import cbsd68_images, grabcut_pairs, read_image
from retouch.convert import to_gray, to_rgb, to_uint8

__all__ = ["arguments", "cached", "extract", "fit", "grabcut_photos"]


def arguments(doc: str, *, out: str, threshold: float, what: str, argv: list[str] | None) -> argparse.Namespace:
    """The training scripts' command line; ``what`` names one row (a speck, a scratch)."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="folder holding grabcut/")
    ap.add_argument("--out", type=Path, default=Path(out))
    ap.add_argument("--limit", type=int, default=0, help="only the first N photos (0: all)")
    ap.add_argument("--threshold", type=float, default=threshold, help=f"probability the check counts as {what}")
    ap.add_argument("--reuse", action="store_true", help="reuse the rows extracted by an earlier run in OUT")
    return ap.parse_args(argv)


def cached(path: Path, reuse: bool, names: tuple[str, ...], extract: Callable[[], tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    """The arrays ``names`` read from ``path`` (with ``reuse``), or extracted and saved there."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if reuse and path.is_file():
        z = np.load(path)
        print(f"read {path}")
        return tuple(z[n] for n in names)
    arrays = extract()
    np.savez_compressed(path, **dict(zip(names, arrays)))
    return arrays


def fit(x: np.ndarray, y: np.ndarray, *, depth: int, trees: int, min_leaf: int, active: int,
        weights: np.ndarray | None = None) -> cv2.ml.RTrees:
    """A random forest of ``trees`` trees on rows ``x`` with labels ``y`` (0 or 1)."""
    cv2.setRNGSeed(0)
    forest = cv2.ml.RTrees_create()
    forest.setMaxDepth(depth)
    forest.setMinSampleCount(min_leaf)
    forest.setActiveVarCount(active)
    forest.setTermCriteria((cv2.TERM_CRITERIA_MAX_ITER, trees, 0))
    if weights is None:
        data = cv2.ml.TrainData_create(x, cv2.ml.ROW_SAMPLE, y.reshape(-1, 1))
    else:
        data = cv2.ml.TrainData_create(x, cv2.ml.ROW_SAMPLE, y.reshape(-1, 1), sampleWeights=weights.astype(np.float32))
    forest.train(data)
    return forest


def grabcut_photos(data: Path, limit: int) -> Iterator[tuple[int, str, np.ndarray, np.ndarray]]:
    """(index, "i/n name" for progress lines, RGB photo, its black and white version as RGB) of the
    GrabCut set's photos (the first ``limit``, or all when 0), less those that are also CBSD68 photos.

    Seven GrabCut photos (106024, 189080, 208001, 21077, 227092, 24077, 304074) come from the
    Berkeley set and are among ``benchmarks/restore.py``'s 68 test photos; a forest trained on
    them would have seen the test photos' texture, so they are skipped. A photo keeps its index
    in the GrabCut set, so the others keep their damage seeds and 2-fold split.
    """
    pairs = grabcut_pairs(data)
    pairs = pairs[:limit] if limit else pairs
    tested = {path.stem for path in cbsd68_images(data)} if (Path(data) / "cbsd68").is_dir() else set()
    for i, pair in enumerate(pairs):
        if Path(pair.image).stem in tested:
            print(f"{i + 1}/{len(pairs)} {pair.name}: skipped, a CBSD68 test photo")
            continue
        image = read_image(pair.image)
        if image.ndim == 2:
            image = np.dstack([image] * 3)
        yield i, f"{i + 1}/{len(pairs)} {pair.name}", image, to_rgb(to_uint8(to_gray(image)))


def extract(data: Path, limit: int, versions: Callable[[int, np.ndarray, np.ndarray], list[tuple[np.ndarray, np.ndarray, bool]]],
            rows: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, ...]], what: str) -> tuple[np.ndarray, ...]:
    """The rows of every version of every training photo, then each row's photo index and whether it is black and white.

    ``versions(i, image, luma)`` gives photo ``i``'s (damaged photo, true damage, grey) versions;
    ``rows(damaged, truth)`` gives the arrays of one version (features, labels, ...), one row per
    thing found; ``what`` names those things on the progress lines.
    """
    columns: list[list[np.ndarray]] = []
    photo, grey = [], []
    t0 = time.perf_counter()
    for i, progress, image, luma in grabcut_photos(data, limit):
        for damaged, truth, is_grey in versions(i, image, luma):
            arrays = rows(damaged, truth)
            columns = columns or [[] for _ in arrays]
            for column, array in zip(columns, arrays):
                column.append(array)
            photo.append(np.full(len(arrays[0]), i))
            grey.append(np.full(len(arrays[0]), is_grey))
        print(f"{progress}: {sum(len(p) for p in photo)} {what}", flush=True)
    print(f"extracted in {time.perf_counter() - t0:.0f} s")
    return tuple(np.concatenate(a) for a in (*columns, photo, grey))
