"""Realistic damage of known position, as real scanned prints and films show it.

Used by ``benchmarks/restore_real.py`` to score ``retouch.restore`` and by
training scripts to tune its detectors. Everything is drawn from a
:class:`numpy.random.Generator` seeded by the caller, so a fixed seed gives
the same damage on every machine.

Layers, laid over the photo in float [0, 1] in this order:

1. **The print ages** (both on the damaged photo and on the target):
   fading (contrast pressed towards a paper white and a lifted black) and,
   on some photos, sepia toning.
2. **Damage** (each layer with its category):

   - *film dust* (``spots`` / ``thin``): a window of one of the hand-annotated
     film-dust scans (``realdamage/film_dust/scanNN.labels.png``: 1 dust,
     2 dirt, 3 short hair, 4 long hair, 5 scratch), scaled so that a dust
     speck (9 px across at the scan's size, median) is 1.5 to 4 px across
     (factor 0.17 to 0.45: dirt then 2 to 15 px), with each shape kept with
     a probability drawn per photo (0.25 to 1, how dusty the scan is);
     every shape light (dust on a negative) or dark (on a print), nearly
     opaque, its edge softened by the scaling. Dust and dirt are ``spots``;
     hair and scratches are ``thin``;
   - *crack networks* (``thin``): branching random walks 1 to 4 px wide and
     craquelure (the edges of a jittered Voronoi tiling over part of the
     photo), paper white where the emulsion is lost, often with a darker
     rim;
   - *creases* (``thin``): a long, gently waving line across the photo with
     a light side and a dark side (1 to 3.5 px each) and, along parts of it, a
     thin white core where the emulsion cracked;
   - *torn corners and emulsion loss* (``losses``): jagged regions cut from
     a corner or an edge, and irregular blobs 8 to 50 px inside, paper white
     or dark;
   - *foxing* (``spots``): soft reddish-brown spots 2 to 14 px, multiplied in;
   - *long vertical film scratches* (``thin``): 1 to 3 near-vertical lines
     0.7 to 2 px wide over most of the height, light or dark, partly
     transparent.

3. **The scanner** (on both): a Gaussian blur (sigma 0.3 to 0.9), film
   grain (Gaussian noise, slightly blurred, sigma 0.004 to 0.025), then
   JPEG (quality 55 to 95) on most photos.

The *target* is the photo with the same ageing and scanner (the same grain)
but no damage: what a perfect restoration gives back. The *truth* is the
set of pixels whose colour the damage visibly changed, at least
``VISIBLE`` (10/255) in some channel, measured before the scanner (a dark
speck on black hair changes nothing and is not damage a detector should
find); ``labels`` gives each of them its category (1 thin, 2 spots,
3 losses): the category of the layer that changed it most.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

__all__ = ["VISIBLE", "CATEGORIES", "TUNE_SCANS", "SCORE_SCANS", "scan_labels", "realistic_damage", "age_and_scan"]

VISIBLE = 10 / 255
CATEGORIES = ("thin", "spots", "losses")  # label values 1, 2, 3
TUNE_SCANS = (1, 2, 3, 4)  # film-dust scans to tune and train on
SCORE_SCANS = (5, 6)  # and the ones to score on, never tuned on
_SS = 4  # supersampling of drawn lines
_PAPER = np.array([0.96, 0.94, 0.88], np.float32)


@lru_cache(maxsize=6)
def scan_labels(data: str, number: int) -> np.ndarray:
    """The label image of film-dust scan ``number`` under ``data/realdamage/film_dust`` (uint8, 0 to 5)."""
    path = Path(data) / "realdamage" / "film_dust" / f"scan{number:02d}.labels.png"
    if not path.is_file():
        raise FileNotFoundError(f"no film-dust scan {path}")
    labels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if labels is None or labels.ndim != 2:
        raise ValueError(f"{path} is not a single-channel label image")
    return labels


class _Canvas:
    """The photo being damaged (float RGB), and per pixel how much each category changed it."""

    def __init__(self, image: np.ndarray):
        self.out = image.copy()
        self.change = np.zeros((3, *image.shape[:2]), np.float32)

    def lay(self, category: int, alpha: np.ndarray, colour) -> None:
        """Alpha-composite ``colour`` (RGB or ``H x W x 3``) with coverage ``alpha`` in [0, 1]."""
        a = np.clip(alpha, 0, 1)[..., None].astype(np.float32)
        before = self.out
        self.out = before * (1 - a) + np.asarray(colour, np.float32) * a
        self._note(category, before)

    def multiply(self, category: int, factor: np.ndarray) -> None:
        """Multiply by ``factor`` (``H x W`` or ``H x W x 3``): shading, stains."""
        before = self.out
        f = factor if factor.ndim == 3 else factor[..., None]
        self.out = np.clip(before * f, 0, 1)
        self._note(category, before)

    def add(self, category: int, delta: np.ndarray) -> None:
        before = self.out
        self.out = np.clip(before + delta[..., None], 0, 1)
        self._note(category, before)

    def _note(self, category: int, before: np.ndarray) -> None:
        np.maximum(self.change[category - 1], np.abs(self.out - before).max(axis=2), out=self.change[category - 1])


def _supersampled(shape, draw) -> np.ndarray:
    """Coverage in [0, 1] of what ``draw(img)`` draws in 255 on a 4x supersampled canvas."""
    h, w = shape
    canvas = np.zeros((h * _SS, w * _SS), np.uint8)
    draw(canvas)
    return cv2.resize(canvas, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255


def _polyline(canvas: np.ndarray, pts: np.ndarray, width: float) -> None:
    p = np.round(pts * _SS).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(canvas, [p], False, 255, thickness=max(1, int(round(width * _SS))), lineType=cv2.LINE_8)


def _walk(rng, start, angle, length, step=3.0, turn=0.35) -> np.ndarray:
    """A random walk of ``length`` px from ``start`` heading ``angle``: an ``N x 2`` (x, y) polyline."""
    n = max(2, int(length / step))
    angles = angle + np.cumsum(rng.normal(0, turn, n)) * 0.5
    d = np.stack([np.cos(angles), np.sin(angles)], axis=1) * step
    return np.vstack([start, start + np.cumsum(d, axis=0)])


def _film_dust(canvas: _Canvas, rng, data: str, scans, shape) -> None:
    h, w = shape
    labels = scan_labels(data, int(rng.choice(scans)))
    scale = rng.uniform(0.17, 0.45)
    wh, ww = min(labels.shape[0], int(np.ceil(h / scale))), min(labels.shape[1], int(np.ceil(w / scale)))
    y0 = int(rng.integers(0, labels.shape[0] - wh + 1))
    x0 = int(rng.integers(0, labels.shape[1] - ww + 1))
    window = labels[y0 : y0 + wh, x0 : x0 + ww]
    if rng.random() < 0.5:
        window = window[::-1]
    if rng.random() < 0.5:
        window = window[:, ::-1]
    keep = rng.uniform(0.25, 1.0)
    count, comp = cv2.connectedComponents((window > 0).view(np.uint8), connectivity=8)
    kept = rng.random(count) < keep
    kept[0] = False
    light = rng.random(count) < rng.uniform(0, 1)  # how many shapes are light: the scan's own mix
    for is_light in (True, False):
        for cat, values in ((2, (1, 2)), (1, (3, 4, 5))):
            sel = kept[comp] & (light[comp] == is_light) & np.isin(window, values)
            if not sel.any():
                continue
            cov = cv2.resize(sel.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)
            cov = np.clip(cov * rng.uniform(1.2, 1.8), 0, 1) * rng.uniform(0.75, 1.0)
            grey = rng.uniform(0.85, 1.0) if is_light else rng.uniform(0.0, 0.15)
            canvas.lay(cat, cov, np.full(3, grey, np.float32))


def _cracks(canvas: _Canvas, rng, shape) -> None:
    """Branching cracks: paper white, 1 to 4 px, many with a darker rim."""
    h, w = shape
    paths = []
    for _ in range(int(rng.integers(1, 5))):
        start = np.array([rng.uniform(0, w), rng.uniform(0, h)])
        main = _walk(rng, start, rng.uniform(0, 2 * np.pi), rng.uniform(0.3, 1.0) * max(h, w), step=3, turn=0.3)
        width = rng.uniform(1.0, 4.0)
        paths.append((main, width))
        for _ in range(int(rng.integers(0, 6))):  # branches
            at = main[int(rng.integers(0, len(main)))]
            branch = _walk(rng, at, rng.uniform(0, 2 * np.pi), rng.uniform(15, 0.4 * max(h, w)), step=2.5, turn=0.45)
            paths.append((branch, max(0.8, width * rng.uniform(0.4, 0.9))))
    _draw_crack_paths(canvas, rng, shape, paths)


def _craquelure(canvas: _Canvas, rng, shape) -> None:
    """The edges of a jittered Voronoi tiling over part of the photo (cracked emulsion or varnish)."""
    h, w = shape
    cell = rng.uniform(12, 40)
    n = int(h * w / cell**2)
    seeds = np.zeros((h * 2, w * 2), np.uint8)
    seeds[rng.integers(0, 2 * h, n), rng.integers(0, 2 * w, n)] = 1
    _, lab = cv2.distanceTransformWithLabels(1 - seeds, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
    # jitter the tiling so its edges wander
    ny = cv2.GaussianBlur(rng.normal(0, 1, (2 * h, 2 * w)).astype(np.float32), (0, 0), 6) * 40
    nx = cv2.GaussianBlur(rng.normal(0, 1, (2 * h, 2 * w)).astype(np.float32), (0, 0), 6) * 40
    gy, gx = np.mgrid[0 : 2 * h, 0 : 2 * w].astype(np.float32)
    lab = cv2.remap(lab.astype(np.float32), gx + nx, gy + ny, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT)
    edge = (lab != np.roll(lab, 1, 0)) | (lab != np.roll(lab, 1, 1))
    edge[0], edge[:, 0] = False, False
    # drop a share of the edges, piecewise
    pieces = cv2.resize(rng.random((max(2, 2 * h // 16), max(2, 2 * w // 16))).astype(np.float32), (2 * w, 2 * h),
                        interpolation=cv2.INTER_NEAREST)
    edge &= pieces < rng.uniform(0.5, 0.95)
    # over a soft region of the photo
    region = np.zeros((2 * h, 2 * w), np.float32)
    cv2.ellipse(region, (int(rng.uniform(0, 2 * w)), int(rng.uniform(0, 2 * h))),
                (int(rng.uniform(0.3, 1.0) * w), int(rng.uniform(0.3, 1.0) * h)), rng.uniform(0, 180), 0, 360, 1, -1)
    edge &= region > 0
    if rng.random() < 0.5:
        edge = cv2.dilate(edge.view(np.uint8), np.ones((2, 2), np.uint8)).astype(bool)
    cov = cv2.resize(edge.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)
    cov = np.clip(cov * 1.6, 0, 1) * rng.uniform(0.6, 1.0)
    if rng.random() < 0.5:  # dark rim
        rim = cv2.GaussianBlur(cov, (0, 0), 1.0) * rng.uniform(0.2, 0.5)
        canvas.multiply(1, 1 - rim)
    light = rng.random() < 0.8
    canvas.lay(1, cov, _PAPER * rng.uniform(0.9, 1.0) if light else np.full(3, rng.uniform(0.05, 0.2), np.float32))


def _draw_crack_paths(canvas: _Canvas, rng, shape, paths) -> None:
    h, w = shape
    rim = rng.random() < 0.6
    light = rng.random() < 0.8

    def core(c):
        for pts, width in paths:
            _polyline(c, pts, width)

    cov = _supersampled(shape, core)
    if rim:
        def outer(c):
            for pts, width in paths:
                _polyline(c, pts, width + 2.5)

        halo = _supersampled(shape, outer) * rng.uniform(0.25, 0.5)
        canvas.multiply(1, 1 - halo)
    colour = _PAPER * rng.uniform(0.88, 1.0) if light else np.full(3, rng.uniform(0.03, 0.2), np.float32)
    canvas.lay(1, cov * rng.uniform(0.75, 1.0), colour)


def _crease(canvas: _Canvas, rng, shape) -> None:
    """A fold: a long waving line with a light side and a dark side, cracked white along parts of it."""
    h, w = shape
    angle = rng.uniform(0, np.pi)
    n = np.array([-np.sin(angle), np.cos(angle)])
    centre = np.array([rng.uniform(0.15, 0.85) * w, rng.uniform(0.15, 0.85) * h])
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = (xx - centre[0]) * np.cos(angle) + (yy - centre[1]) * np.sin(angle)
    amp, period, phase = rng.uniform(0, 6), rng.uniform(80, 400), rng.uniform(0, 2 * np.pi)
    d = (xx - centre[0]) * n[0] + (yy - centre[1]) * n[1] - amp * np.sin(2 * np.pi * t / period + phase)
    half = max(h, w)
    t0, t1 = (-half, half) if rng.random() < 0.6 else sorted(rng.uniform(-half, half, 2))
    along = np.clip(np.minimum(t - t0, t1 - t) / 10, 0, 1)
    w_light, w_dark = rng.uniform(1.0, 3.5), rng.uniform(1.0, 3.5)
    s_light, s_dark = rng.uniform(0.12, 0.35), rng.uniform(0.2, 0.45)
    light = np.where(d >= 0, np.exp(-np.maximum(d, 0) / w_light), 0) * s_light * along
    dark = np.where(d < 0, np.exp(-np.maximum(-d, 0) / w_dark), 0) * s_dark * along
    canvas.add(1, light.astype(np.float32))
    canvas.multiply(1, (1 - dark).astype(np.float32))
    if rng.random() < 0.7:  # emulsion cracked along the fold, in pieces
        pieces = np.interp(t, np.linspace(-half, half, 40), (rng.random(40) < rng.uniform(0.3, 0.9)).astype(np.float32))
        core = np.clip(1.2 - np.abs(d) / rng.uniform(0.6, 1.5), 0, 1) * pieces * along
        canvas.lay(1, core.astype(np.float32), _PAPER)


def _jagged(rng, a: np.ndarray, b: np.ndarray, depth: int = 6, rough: float = 0.25) -> np.ndarray:
    """A jagged line from ``a`` to ``b`` by midpoint displacement."""
    pts = [a, b]
    for level in range(depth):
        new = [pts[0]]
        for p, q in zip(pts[:-1], pts[1:]):
            mid = (p + q) / 2
            seg = q - p
            normal = np.array([-seg[1], seg[0]])
            new += [mid + normal * rng.normal(0, rough), q]
        pts = new
    return np.array(pts)


def _losses(canvas: _Canvas, rng, shape) -> None:
    """Torn corners and edges, and emulsion lost inside: paper white or dark, jagged."""
    h, w = shape
    mask = np.zeros((h * _SS, w * _SS), np.uint8)
    for _ in range(int(rng.integers(1, 3))):
        if rng.random() < 0.6:  # a corner
            cy, cx = int(rng.integers(0, 2)) * h, int(rng.integers(0, 2)) * w
            a = np.array([abs(cx - rng.uniform(0.05, 0.3) * w), cy], float)
            b = np.array([cx, abs(cy - rng.uniform(0.05, 0.3) * h)], float)
            line = _jagged(rng, a, b)
            poly = np.vstack([line, [[cx, cy]]])
        else:  # a bite out of an edge
            side = int(rng.integers(0, 4))
            length = rng.uniform(0.1, 0.35) * (w if side < 2 else h)
            at = rng.uniform(0, (w if side < 2 else h) - length)
            if side < 2:
                y = 0 if side == 0 else h
                a, b = np.array([at, y], float), np.array([at + length, y], float)
            else:
                x = 0 if side == 2 else w
                a, b = np.array([x, at], float), np.array([x, at + length], float)
            line = _jagged(rng, a, b, rough=0.35)
            poly = line
        cv2.fillPoly(mask, [np.round(poly * _SS).astype(np.int32)], 255)
    for _ in range(int(rng.integers(0, 4))):  # emulsion lost inside the photo
        r = rng.uniform(4, 25)
        c = np.array([rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h])
        k = int(rng.integers(12, 30))
        theta = np.sort(rng.uniform(0, 2 * np.pi, k))
        radius = r * np.exp(np.cumsum(rng.normal(0, 0.15, k)) - 0)
        pts = c + np.stack([np.cos(theta), np.sin(theta)], 1) * radius[:, None]
        cv2.fillPoly(mask, [np.round(pts * _SS).astype(np.int32)], 255)
    cov = cv2.resize(mask, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    colour = _PAPER * rng.uniform(0.85, 1.0) if rng.random() < 0.7 else np.full(3, rng.uniform(0.02, 0.2), np.float32)
    canvas.lay(3, cov, colour)


def _foxing(canvas: _Canvas, rng, shape) -> None:
    h, w = shape
    spots = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(5, 40))):
        r = float(np.exp(rng.uniform(np.log(1.0), np.log(7.0))))
        cv2.ellipse(spots, (int(rng.uniform(0, w)), int(rng.uniform(0, h))), (max(1, int(r)), max(1, int(r * rng.uniform(0.6, 1)))),
                    rng.uniform(0, 180), 0, 360, float(rng.uniform(0.3, 0.7)), -1)
    spots = cv2.GaussianBlur(spots, (0, 0), rng.uniform(0.6, 1.5))
    brown = np.array([0.72, 0.5, 0.32], np.float32) * rng.uniform(0.8, 1.05)
    canvas.multiply(2, 1 - spots[..., None] * (1 - brown))


def _film_scratches(canvas: _Canvas, rng, shape) -> None:
    h, w = shape
    for _ in range(int(rng.integers(1, 4))):
        x0 = rng.uniform(0.05, 0.95) * w
        drift = np.tan(np.deg2rad(rng.uniform(-1.5, 1.5)))
        ya, yb = (0, h) if rng.random() < 0.6 else sorted(rng.uniform(0, h, 2))
        if yb - ya < 0.3 * h:
            yb = min(h, ya + 0.3 * h)
        ys = np.linspace(ya, yb, 64)
        xs = x0 + drift * (ys - ya) + np.cumsum(rng.normal(0, 0.15, 64))
        width = rng.uniform(0.7, 2.0)
        cov = _supersampled(shape, lambda c: _polyline(c, np.stack([xs, ys], 1), width))
        grey = rng.uniform(0.85, 1.0) if rng.random() < 0.5 else rng.uniform(0.0, 0.15)
        canvas.lay(1, cov * rng.uniform(0.4, 0.9), np.full(3, grey, np.float32))


def _age(image: np.ndarray, rng) -> np.ndarray:
    """Fading and sepia toning of the print (float RGB in, float RGB out)."""
    out = image
    if rng.random() < 0.5:  # faded: blacks lifted, whites dulled
        lo, hi = rng.uniform(0.0, 0.15), rng.uniform(0.85, 1.0)
        out = lo + (hi - lo) * out
    if rng.random() < 0.4:  # sepia toned
        luma = out @ np.array([0.299, 0.587, 0.114], np.float32)
        sepia = luma[..., None] * np.array([1.07, 0.95, 0.74], np.float32)
        k = rng.uniform(0.5, 1.0)
        out = np.clip((1 - k) * out + k * sepia, 0, 1)
    return out.astype(np.float32)


def age_and_scan(image: np.ndarray, seed: int) -> np.ndarray:
    """The undamaged ``image`` (uint8 RGB) aged and scanned as :func:`realistic_damage` would at ``seed``."""
    return realistic_damage(image, seed, data=None)[1]


def _scan(image: np.ndarray, rng, noise: np.ndarray, sigma: float, quality: int | None) -> np.ndarray:
    out = cv2.GaussianBlur(image, (0, 0), sigma)
    out = np.clip(out + noise[..., None], 0, 1)
    out8 = np.clip(np.rint(out * 255), 0, 255).astype(np.uint8)
    if quality is None:
        return out8
    buf = io.BytesIO()
    Image.fromarray(out8).save(buf, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")).copy()


def realistic_damage(
    image: np.ndarray, seed: int, *, data: str | Path | None, scans=SCORE_SCANS, kinds: tuple[str, ...] | None = None,
    scanner: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Realistic damage over ``image`` (uint8 RGB ``H x W x 3``) from ``seed``.

    Returns ``(damaged, target, labels)``: the damaged scan (uint8 RGB), the
    same print aged and scanned without damage (uint8 RGB: what a perfect
    restoration gives back), and the true damage (uint8 ``H x W``: 0 none,
    1 thin, 2 spots, 3 losses; see :data:`CATEGORIES`). ``data`` is the
    folder holding ``realdamage/film_dust`` (``None``: no film dust),
    ``scans`` the film-dust scans it may use. ``kinds`` limits the layers to
    some of ``dust``, ``cracks``, ``craquelure``, ``crease``, ``losses``,
    ``foxing``, ``film``, ``scan`` (default: each with its own probability).
    The same seed ages and scans the photo the same whatever ``kinds``;
    ``scanner=False`` leaves out the scanner (blur, grain, JPEG), as the
    ``scan`` kind does.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"realistic_damage takes a uint8 RGB image, not {image.dtype} {image.shape}")
    h, w = image.shape[:2]
    ss = np.random.SeedSequence([seed, 19])
    g_age, g_scan, g_pick, *g_layers = (np.random.default_rng(s) for s in ss.spawn(10))
    aged = _age(image.astype(np.float32) / 255, g_age)
    # the scanner's draws, shared by damaged and target
    sigma = g_scan.uniform(0.3, 0.9)
    grain = cv2.GaussianBlur(g_scan.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 0.6)
    grain *= g_scan.uniform(0.004, 0.025) / max(1e-6, float(grain.std()))
    quality = int(g_scan.integers(55, 96)) if g_scan.random() < 0.8 else None
    probs = {"dust": 0.85, "cracks": 0.4, "craquelure": 0.25, "crease": 0.3, "losses": 0.3, "foxing": 0.3, "film": 0.3}
    draws = {k: g_pick.random() < p for k, p in probs.items()}
    if kinds is not None:
        draws = {k: k in kinds for k in probs}
    elif not any(draws.values()):
        draws["dust"] = True
    canvas = _Canvas(aged)
    layers = (("dust", lambda g: _film_dust(canvas, g, str(data), scans, (h, w)) if data is not None else None),
              ("cracks", lambda g: _cracks(canvas, g, (h, w))),
              ("craquelure", lambda g: _craquelure(canvas, g, (h, w))),
              ("crease", lambda g: _crease(canvas, g, (h, w))),
              ("losses", lambda g: _losses(canvas, g, (h, w))),
              ("foxing", lambda g: _foxing(canvas, g, (h, w))),
              ("film", lambda g: _film_scratches(canvas, g, (h, w))))
    for (name, layer), g in zip(layers, g_layers):
        if draws[name]:
            layer(g)
    visible = canvas.change.max(axis=0) >= VISIBLE
    visible &= np.abs(canvas.out - aged).max(axis=2) >= VISIBLE
    labels = np.where(visible, canvas.change.argmax(axis=0) + 1, 0).astype(np.uint8)
    scan_ok = scanner and (kinds is None or "scan" in kinds)
    noise = grain if scan_ok else np.zeros((h, w), np.float32)
    sig, q = (sigma, quality) if scan_ok else (0.01, None)
    damaged = _scan(canvas.out, g_scan, noise, sig, q)
    target = _scan(aged, g_scan, noise, sig, q)
    return damaged, target, labels
