"""Click segmentation, scored the way the field scores it: NoC on the GrabCut set.

A simulated user (the protocol of RITM, Sofiiuk et al. 2021, ``get_next_click``)
clicks at the interior-most point of the largest error: the distance transform
of the missed-object pixels (false negatives) and of the wrongly-taken pixels
(false positives) is taken on masks padded by one pixel (so the image border
counts as a border), pixels already clicked are excluded, and the click goes
to the maximum of whichever of the two is larger, positive when it is a false
negative. Pixels in the ground truth's ignore band (value 128) are neither
errors nor scored. The user clicks up to ``--max-clicks`` (20) times.

Reported per method: NoC@85 and NoC@90 (clicks needed to reach IoU 0.85 / 0.90,
an image that never gets there counts ``--max-clicks``), the number of images
that never reach 0.90, mean IoU after 1, 3 and 5 clicks, and the median time
of one click in milliseconds (plus the mean, which includes the first click's
set-up). Methods, all fed the same simulated user:

- ``retouch``: :class:`retouch.segment.clicks.ClickSession` (one session per
  image, one ``add`` per click, as the web app uses it).
- ``grabcut``: OpenCV ``cv2.grabCut`` (5 iterations, ``GC_INIT_WITH_MASK``),
  re-run from scratch at every click; clicks are hard seeds (disks of radius
  5), every positive click also marks a probable-foreground disk of radius
  15 % of the image's shorter side, the rest is probable background.
- ``random_walker``: scikit-image ``random_walker`` with the clicks as labels
  (disks of radius 5), skimage's default beta 130 (skimage divides it by ten
  times the image's standard deviation, so it adapts to contrast), mode
  ``cg_j`` (Jacobi-preconditioned conjugate gradient), ``tol=1e-3``,
  ``channel_axis=-1``. While the user has given no negative click, the
  one-pixel image border is labelled background, since the random walker
  needs two labels. At full size one call takes 1.4 to 1.6 s on a 0.15 MP
  GrabCut photo (more on the 0.3 to 0.5 MP ones) on this 2-core machine, too
  slow for 50 images x 20 clicks, so it runs on the image **downscaled** by
  ``--rw-scale`` (default 0.5, INTER_AREA; disks of radius ``5 * scale``) and
  its labels are upscaled (nearest): 0.15 to 0.2 s a call. ``--rw-scale 1``
  runs it at full size. The table says which scale was used. With one BLAS
  thread (set below, before NumPy loads): an oversubscribed BLAS made it 10
  to 20x slower.

A last line times :class:`~retouch.segment.clicks.ClickSession` on a 1 MP
photo (skimage's coffee resized to 1224 x 816): the median milliseconds of
one more click, clicks 2 to 5 of a simulated user (``session_timing``;
``--no-session`` skips it).

The simulation of an image stops early once it is at IoU >= 0.90 and has had at
least 5 clicks: none of the reported figures depend on later clicks (``--full``
runs every click). Any folder with images and ground-truth masks can be scored:
``--images DIR --masks DIR`` (masks matched by base name; 0 = background,
> 128 = object, 128 = ignored). ``--data DIR`` with the shared data layout uses
``DIR/grabcut/data_GT`` and ``DIR/grabcut/boundary_GT``; ``--set davis`` uses
``DIR/davis345`` (every non-zero mask value is the object, nothing ignored)
with ``--split tune`` (frames 000-171: choose settings there) or ``--split score``
(frames 172-344, held out: report them). ``--grey`` runs every method on the
photos' luminance (``cv2.COLOR_RGB2GRAY``): retouch gets the ``H x W`` grey
photo, the peers the grey replicated to three channels.

Run::

    python -m benchmarks.segment_clicks --data ../shared/data            # all
    python -m benchmarks.segment_clicks --data ../shared/data --set davis --split score [--grey]
    python -m benchmarks.segment_clicks --data ../shared/data --limit 10 --methods retouch

Peer results are cached under ``OUT/cache`` (one JSON per method and image);
``--reuse`` reads them instead of recomputing (the figures of a cached peer then
come from an earlier run on the same machine, and the table says so).
"""

from __future__ import annotations

import os

# one thread per process, set before NumPy / SciPy load their BLAS: on a shared
# 2-core machine an oversubscribed BLAS makes random_walker 10 to 20x slower
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse
import json
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
THRESHOLDS = (0.85, 0.90)
PEER_VERSION = 2  # bump when a peer's settings change, so caches are not reused
# random_walker: skimage's defaults (beta 130 is divided by 10x the image's
# standard deviation inside skimage, so it adapts to the image's contrast),
# the Jacobi-preconditioned conjugate gradient with its default tolerance
RW_BETA, RW_MODE, RW_TOL = 130.0, "cg_j", 1e-3


# ---------------------------------------------------------------- data
def find_pairs(images: Path, masks: Path) -> list[tuple[str, Path, Path]]:
    """(name, image path, mask path) for every image with a mask of the same base name."""
    by_stem = {p.stem: p for p in sorted(masks.iterdir()) if p.suffix.lower() in IMAGE_EXTS}
    out = []
    for p in sorted(images.iterdir()):
        if p.suffix.lower() in IMAGE_EXTS and p.stem in by_stem:
            out.append((p.stem, p, by_stem[p.stem]))
    return out


def load_pair(image_path: Path, mask_path: Path, ignore_value: int = 128,
              grey: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """RGB (or with ``grey`` H x W luminance) uint8 image, bool object mask, bool 'scored' mask.

    'scored' is False in the ignore band; with ``ignore_value`` -1 every pixel
    is scored and every non-zero mask value is the object (DAVIS).
    """
    bgr = cv2.imread(str(image_path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"cannot read {image_path}")
    gt = cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE)
    if gt is None:
        raise SystemExit(f"cannot read {mask_path}")
    if gt.shape != bgr.shape[:2]:
        raise SystemExit(f"{mask_path} is not the size of {image_path}")
    if ignore_value >= 0:
        scored = gt != ignore_value
        obj = (gt > 128) & scored
    else:
        scored, obj = np.ones(gt.shape, bool), gt != 0
    image = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY if grey else cv2.COLOR_BGR2RGB)
    return image, obj, scored


def _three(image: np.ndarray) -> np.ndarray:
    """RGB as it is; a grey photo replicated to three channels (what the peers take)."""
    return np.dstack([image] * 3) if image.ndim == 2 else image


# ---------------------------------------------------------------- protocol
def iou(pred: np.ndarray, gt: np.ndarray, scored: np.ndarray) -> float:
    inter = np.count_nonzero(pred & gt & scored)
    union = np.count_nonzero((pred | gt) & scored)
    return inter / union if union else 1.0


def next_click(pred: np.ndarray, gt: np.ndarray, scored: np.ndarray, not_clicked: np.ndarray) -> tuple[int, int, bool]:
    """RITM's get_next_click: (x, y, positive) at the interior-most error pixel."""
    fn = np.pad(gt & ~pred & scored, 1).astype(np.uint8)
    fp = np.pad(~gt & pred & scored, 1).astype(np.uint8)
    fn_dt = cv2.distanceTransform(fn, cv2.DIST_L2, 0)[1:-1, 1:-1] * not_clicked
    fp_dt = cv2.distanceTransform(fp, cv2.DIST_L2, 0)[1:-1, 1:-1] * not_clicked
    fn_max, fp_max = fn_dt.max(), fp_dt.max()
    positive = bool(fn_max > fp_max)
    dt, m = (fn_dt, fn_max) if positive else (fp_dt, fp_max)
    ys, xs = np.nonzero(dt == m)
    return int(xs[0]), int(ys[0]), positive


def noc(ious: list[float], thr: float, max_clicks: int) -> int:
    for i, v in enumerate(ious):
        if v >= thr:
            return i + 1
    return max_clicks


# ---------------------------------------------------------------- methods
class GrabCutPeer:
    """cv2.grabCut from scratch at every click, clicks as hard seeds."""

    def __init__(self, image: np.ndarray):
        self.bgr = cv2.cvtColor(_three(image), cv2.COLOR_RGB2BGR)
        self.clicks: list[tuple[int, int, bool]] = []
        self.r_prob = max(5, int(round(0.15 * min(image.shape[:2]))))

    def add(self, x: int, y: int, positive: bool) -> np.ndarray:
        self.clicks.append((x, y, positive))
        h, w = self.bgr.shape[:2]
        m = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
        for cx, cy, p in self.clicks:
            if p:
                cv2.circle(m, (cx, cy), self.r_prob, cv2.GC_PR_FGD, -1)
        for cx, cy, p in self.clicks:
            cv2.circle(m, (cx, cy), 5, cv2.GC_FGD if p else cv2.GC_BGD, -1)
        if not ((m == cv2.GC_FGD) | (m == cv2.GC_PR_FGD)).any() or not ((m == cv2.GC_BGD) | (m == cv2.GC_PR_BGD)).any():
            return (m == cv2.GC_FGD) | (m == cv2.GC_PR_FGD)
        bgd, fgd = np.zeros((1, 65)), np.zeros((1, 65))
        try:
            cv2.grabCut(self.bgr, m, None, bgd, fgd, 5, cv2.GC_INIT_WITH_MASK)
        except cv2.error:
            pass  # too few samples for a GMM: keep the seeds as they are
        return (m == cv2.GC_FGD) | (m == cv2.GC_PR_FGD)


class RandomWalkerPeer:
    """skimage.segmentation.random_walker with the clicks as labels."""

    def __init__(self, image: np.ndarray, scale: float = 0.5):
        image = _three(image)
        self.shape = image.shape[:2]
        self.scale = scale
        if scale != 1:
            size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        self.image = image.astype(np.float64) / 255.0
        self.radius = max(1, round(5 * scale))
        self.clicks: list[tuple[int, int, bool]] = []

    def add(self, x: int, y: int, positive: bool) -> np.ndarray:
        from skimage.segmentation import random_walker

        h, w = self.image.shape[:2]
        self.clicks.append((min(w - 1, int(x * self.scale)), min(h - 1, int(y * self.scale)), positive))
        labels = np.zeros((h, w), np.int32)
        if not any(not p for _, _, p in self.clicks):
            labels[0, :] = labels[-1, :] = labels[:, 0] = labels[:, -1] = 2
        for cx, cy, p in self.clicks:
            cv2.circle(labels, (cx, cy), self.radius, 1 if p else 2, -1)
        if not (labels == 1).any():
            return np.zeros(self.shape, bool)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            seg = random_walker(self.image, labels, beta=RW_BETA, mode=RW_MODE, tol=RW_TOL, channel_axis=-1)
        fg = (seg == 1).astype(np.uint8)
        if fg.shape != self.shape:
            fg = cv2.resize(fg, (self.shape[1], self.shape[0]), interpolation=cv2.INTER_NEAREST)
        return fg > 0


class RetouchMethod:
    def __init__(self, image: np.ndarray, **settings):
        from retouch.segment.clicks import ClickSession

        self.session = ClickSession(image, **settings)

    def add(self, x: int, y: int, positive: bool) -> np.ndarray:
        return self.session.add(x, y, positive)


METHODS: dict[str, Callable[[np.ndarray], object]] = {
    "retouch": RetouchMethod,
    "grabcut": GrabCutPeer,
    "random_walker": RandomWalkerPeer,
}


def simulate(method: str, image: np.ndarray, gt: np.ndarray, scored: np.ndarray, max_clicks: int, full: bool,
             settings: dict | None = None, rw_scale: float = 0.5) -> dict:
    """Run the simulated user against one method; IoU and seconds after every click."""
    t0 = time.perf_counter()
    if method == "retouch":
        obj = METHODS[method](image, **(settings or {}))
    elif method == "random_walker":
        obj = METHODS[method](image, rw_scale)
    else:
        obj = METHODS[method](image)
    setup = time.perf_counter() - t0
    pred = np.zeros(gt.shape, bool)
    not_clicked = np.ones(gt.shape, np.float32)
    ious: list[float] = []
    secs: list[float] = []
    clicks: list[tuple[int, int, bool]] = []
    for k in range(max_clicks):
        x, y, positive = next_click(pred, gt, scored, not_clicked)
        not_clicked[y, x] = 0
        clicks.append((x, y, positive))
        t = time.perf_counter()
        pred = np.asarray(obj.add(x, y, positive), bool)
        secs.append(time.perf_counter() - t + (setup if k == 0 else 0.0))
        ious.append(iou(pred, gt, scored))
        if not full and k + 1 >= 5 and ious[-1] >= max(THRESHOLDS):
            break
    return {"ious": ious, "secs": secs, "clicks": clicks}


def summarize(results: dict[str, dict], max_clicks: int) -> dict:
    ious = [r["ious"] for r in results.values()]
    secs = [s for r in results.values() for s in r["secs"]]

    def at(k: int) -> float:
        # after reaching the last threshold the simulation may stop: IoU stays as it was
        return float(np.mean([v[min(k, len(v)) - 1] for v in ious]))

    return {
        "n": len(ious),
        "noc85": float(np.mean([noc(v, 0.85, max_clicks) for v in ious])),
        "noc90": float(np.mean([noc(v, 0.90, max_clicks) for v in ious])),
        "fail90": int(sum(noc(v, 0.90, max_clicks) == max_clicks and max(v) < 0.90 for v in ious)),
        "iou1": at(1),
        "iou3": at(3),
        "iou5": at(5),
        "ms_median": 1000 * float(np.median(secs)),
        "ms_mean": 1000 * float(np.mean(secs)),
        "clicks": len(secs),
    }


# ---------------------------------------------------------------- 1 MP session
def session_timing(n_clicks: int = 5, settings: dict | None = None) -> dict:
    """Milliseconds of ``ClickSession.add`` on a ~1 MP photo (clicks 2..n, median).

    The photo is scikit-image's ``coffee`` (600 x 400) resized to 1224 x 816
    (1.0 MP, bicubic). The simulated user clicks against a reference mask of
    the cup and saucer: ``cv2.grabCut`` from the box (70, 15, 420, 355) on the
    600 x 400 photo, upscaled (the same reference as the tests); every click
    is where the mask is wrong, so every click is a real solve.
    """
    from skimage import data

    from retouch.segment.clicks import ClickSession

    small = data.coffee()
    bgr = np.ascontiguousarray(small[..., ::-1])
    m = np.zeros(small.shape[:2], np.uint8)
    cv2.setRNGSeed(0)
    cv2.grabCut(bgr, m, (70, 15, 420, 355), np.zeros((1, 65)), np.zeros((1, 65)), 5, cv2.GC_INIT_WITH_RECT)
    ref_small = ((m == cv2.GC_FGD) | (m == cv2.GC_PR_FGD)).astype(np.uint8)
    size = (1224, 816)
    image = cv2.resize(small, size, interpolation=cv2.INTER_CUBIC)
    ref = cv2.resize(ref_small, size, interpolation=cv2.INTER_NEAREST) > 0
    scored = np.ones(ref.shape, bool)
    t0 = time.perf_counter()
    s = ClickSession(image, **(settings or {}))
    setup = time.perf_counter() - t0
    pred = np.zeros(ref.shape, bool)
    not_clicked = np.ones(ref.shape, np.float32)
    secs, ious = [], []
    for _ in range(n_clicks):
        x, y, p = next_click(pred, ref, scored, not_clicked)
        not_clicked[y, x] = 0
        t = time.perf_counter()
        pred = s.add(x, y, p)
        secs.append(time.perf_counter() - t)
        ious.append(iou(pred, ref, scored))
    return {"megapixels": image.shape[0] * image.shape[1] / 1e6, "setup_ms": 1000 * setup,
            "first_ms": 1000 * secs[0], "ms_median_2_n": 1000 * float(np.median(secs[1:])),
            "ms": [1000 * v for v in secs], "ious": ious, "n": n_clicks}


# ---------------------------------------------------------------- main
_SPLITS = {"tune": "frames 000-171, the tuning half", "score": "frames 172-344, held out", "all": "frames 000-344"}


def _work(args: tuple) -> tuple[str, str, dict]:
    method, name, ip, mp, max_clicks, full, settings, ignore, rw_scale, grey = args
    cv2.setNumThreads(1)
    image, gt, scored = load_pair(ip, mp, ignore, grey)
    return method, name, simulate(method, image, gt, scored, max_clicks, full, settings, rw_scale)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, help="shared data folder (grabcut/ or davis345/, see --set)")
    ap.add_argument("--set", dest="dataset", choices=("grabcut", "davis"), default="grabcut", help="which data set under --data")
    ap.add_argument("--split", choices=("tune", "score", "all"), default="score",
                    help="DAVIS only: tune = frames 000-171, score = 172-344 (held out), all")
    ap.add_argument("--grey", action="store_true", help="run on grey versions of the photos (luminance)")
    ap.add_argument("--images", type=Path, help="folder of images (overrides --data)")
    ap.add_argument("--masks", type=Path, help="folder of ground-truth masks, same base names")
    ap.add_argument("--ignore-value", type=int, default=128, help="mask value left unscored (-1: none)")
    ap.add_argument("--methods", default="retouch,grabcut,random_walker")
    ap.add_argument("--limit", type=int, default=0, help="only the first N images (0: all)")
    ap.add_argument("--every", type=int, default=1, help="only every N-th image, by name (a spread-out subset)")
    ap.add_argument("--only", default="", help="comma-separated image names")
    ap.add_argument("--max-clicks", type=int, default=20)
    ap.add_argument("--rw-scale", type=float, default=0.5, help="scale of the image random_walker runs on")
    ap.add_argument("--full", action="store_true", help="run every click, no early stop")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes")
    ap.add_argument("--reuse", action="store_true", help="reuse cached peer results (never retouch's)")
    ap.add_argument("--settings", default="{}", help="JSON settings for retouch's ClickSession")
    ap.add_argument("--no-session", action="store_true", help="skip the 1 MP ClickSession timing")
    ap.add_argument("--out", type=Path, default=Path("bench-out/segment_clicks"))
    a = ap.parse_args(argv)

    what = str(a.images)
    pairs = None
    if a.images is None:
        if a.data is None:
            ap.error("give --data DIR or --images DIR --masks DIR")
        if a.dataset == "davis":
            from ._data import davis_pairs

            pairs = [(p.name, p.image, p.gt) for p in davis_pairs(a.data, a.split)]
            a.images = a.data / "davis345" / "img"
            a.ignore_value = -1
            what = f"DAVIS 345 {a.split} split ({_SPLITS[a.split]})"
        else:
            a.images, a.masks = a.data / "grabcut" / "data_GT", a.data / "grabcut" / "boundary_GT"
            what = "the GrabCut set"
    elif a.masks is None:
        ap.error("--images needs --masks")
    if pairs is None:
        pairs = find_pairs(a.images, a.masks)
    if a.grey:
        what += ", grey (luminance)"
    if a.only:
        keep = set(a.only.split(","))
        pairs = [p for p in pairs if p[0] in keep]
    pairs = pairs[:: max(1, a.every)]
    if a.every > 1:
        what += f", every {a.every}th"
    if a.limit:
        pairs = pairs[: a.limit]
    if not pairs:
        raise SystemExit("no image with a mask found")
    methods = [m.strip() for m in a.methods.split(",") if m.strip()]
    for m in methods:
        if m not in METHODS:
            raise SystemExit(f"unknown method {m}; known: {', '.join(METHODS)}")
    settings = json.loads(a.settings)
    cache = a.out / "cache"
    cache.mkdir(parents=True, exist_ok=True)

    def cache_file(method: str, name: str) -> Path:
        tag = f"v{PEER_VERSION}-c{a.max_clicks}{'-full' if a.full else ''}{'-grey' if a.grey else ''}"
        if method == "random_walker":
            tag += f"-s{a.rw_scale:g}"
        return cache / f"{a.images.resolve().as_posix().replace('/', '_')}__{method}__{name}__{tag}.json"

    results: dict[str, dict[str, dict]] = {m: {} for m in methods}
    cached: set[str] = set()
    todo = []
    # interleave methods image by image, so timing drift hits every method alike
    for name, ip, mp in pairs:
        for m in methods:
            f = cache_file(m, name)
            if a.reuse and m != "retouch" and f.exists():
                results[m][name] = json.loads(f.read_text())
                cached.add(m)
            else:
                todo.append((m, name, ip, mp, a.max_clicks, a.full, settings, a.ignore_value, a.rw_scale, a.grey))

    def save(m: str, name: str, r: dict) -> None:
        # results are written as they finish; --reuse reads peers' only (retouch is always rerun)
        cache_file(m, name).write_text(json.dumps(r))

    t_start = time.time()
    if a.jobs > 1:
        from multiprocessing import Pool

        with Pool(a.jobs) as pool:
            it = pool.imap_unordered(_work, todo)
            done = list(_progress(it, len(todo), save))
    else:
        done = list(_progress(map(_work, todo), len(todo), save))
    for m, name, r in done:
        results[m][name] = r

    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "per_image.json").write_text(json.dumps(results))
    summary = {m: summarize(results[m], a.max_clicks) for m in methods if results[m]}
    lines = [
        f"click segmentation, simulated user (RITM protocol), {len(pairs)} images from {what}, "
        f"max {a.max_clicks} clicks, {time.time() - t_start:.0f} s",
        "",
        f"{'method':<14} {'NoC@85':>7} {'NoC@90':>7} {'fail@90':>8} {'IoU@1':>6} {'IoU@3':>6} {'IoU@5':>6} "
        f"{'ms/click':>9} {'ms mean':>8} {'clicks':>7}",
    ]
    for m, s in summary.items():
        lines.append(
            f"{m:<14} {s['noc85']:7.2f} {s['noc90']:7.2f} {s['fail90']:8d} {s['iou1']:6.3f} {s['iou3']:6.3f} "
            f"{s['iou5']:6.3f} {s['ms_median']:9.1f} {s['ms_mean']:8.1f} {s['clicks']:7d}"
            + ("  (cached)" if m in cached else "")
        )
    peers = [m for m in summary if m != "retouch"]
    if "retouch" in summary and peers:
        best = min(peers, key=lambda m: summary[m]["noc90"])
        r, b = summary["retouch"], summary[best]
        lines += [
            "",
            f"better peer by NoC@90: {best}",
            f"NoC@90 ratio retouch / {best}: {r['noc90'] / b['noc90']:.3f}  (target <= 0.5)",
            f"NoC@85 ratio retouch / {best}: {r['noc85'] / b['noc85']:.3f}",
            f"median ms/click ratio retouch / {best}: {r['ms_median'] / b['ms_median']:.3f}",
        ]
    if "retouch" in summary:
        worst = sorted(results["retouch"].items(), key=lambda kv: -noc(kv[1]["ious"], 0.9, a.max_clicks))[:8]
        lines += ["", "retouch's hardest images (NoC@90): " + ", ".join(
            f"{n} {noc(r['ious'], 0.9, a.max_clicks)}" for n, r in worst)]
    if "retouch" in summary and not a.no_session:
        st = session_timing(settings=settings)
        summary["session_1mp"] = st
        lines += ["", f"ClickSession on a {st['megapixels']:.2f} MP photo (coffee resized to 1224x816): "
                  f"one more click (clicks 2..{st['n']}) median {st['ms_median_2_n']:.0f} ms "
                  f"[{', '.join(f'{v:.0f}' for v in st['ms'][1:])}]; set-up {st['setup_ms']:.0f} ms, "
                  f"first click {st['first_ms']:.0f} ms; IoU vs the reference "
                  f"{' '.join(f'{v:.2f}' for v in st['ious'])}"]
    if "random_walker" in summary:
        lines += ["", f"random_walker ran on the image downscaled by {a.rw_scale:g} (INTER_AREA), labels upscaled "
                  f"(nearest); beta {RW_BETA:g}, mode {RW_MODE}, tol {RW_TOL:g}, channel_axis=-1"]
    lines += [f"timings: this machine, {os.cpu_count()} CPUs shared with other jobs, {a.jobs} worker(s), one BLAS "
              f"thread each; load average at the end {' '.join(f'{v:.1f}' for v in os.getloadavg())}"]
    text = "\n".join(lines)
    (a.out / "table.txt").write_text(text + "\n")
    (a.out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(text)
    return 0


def _progress(it, n, save=None):
    for i, x in enumerate(it):
        print(f"\r{i + 1}/{n} {x[0]} {x[1]}          ", end="", file=sys.stderr, flush=True)
        if save is not None:
            save(*x)
        yield x
    print(file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
