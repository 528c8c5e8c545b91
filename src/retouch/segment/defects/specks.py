"""Private machinery of :func:`retouch.segment.spots`: speck candidates, their measures and the model that weighs them.

A speck is found against a robust local background, the median of a window
about twice as wide as the largest speck (the median ignores anything
smaller than half the window). Every connected group of pixels lighter (or
darker) than that background by a threshold is a candidate; a candidate
that is too large at the lowest threshold is looked for again at higher
ones, so a speck that touches a light patch of texture is split from it.

Each candidate is then measured against its neighbourhood (a window 12 px
around it):

- ``peak``: its largest difference from the background;
- ``saturation``: how colourful its mean colour is (dust, lint and
  sensor spots are grey, white or black);
- ``spread``: the standard deviation of the neighbourhood along the
  candidate's colour difference, in units of that difference (how busy the
  texture around it is compared with the speck; a speck on a smooth sky
  scores about 0.1, one in gravel 0.5 or more);
- ``like``: the fraction of the neighbourhood at least 80 % as far from the
  background in that direction (a speck stands out alone; a light fleck of
  texture has many like it nearby);
- ``flatness``: the variation inside the speck relative to the variation
  around it (an opaque spot covers the texture under it);
- ``cover``: how far the speck's brightness goes from the background's
  towards white (a light speck) or black (a dark one): 1 is an opaque white
  or black speck, 0.3 a faint one;
- ``growth``: how much larger the candidate becomes when grown through
  every touching pixel at least half as far from the background (a speck
  stays itself, about 1 to 1.5; the corner of a larger patch cut off by
  the size limit grows to the window's edge);
- ``halo``: the 80th percentile of the same measure 2 to 3 px outside the
  speck (a speck of dust has a crisp edge and background all round it, and
  scores about 0; a blurred highlight, a wisp of cloud or a soft fleck of
  texture fades out slowly, and a sliver cut off the edge of a dark coat or
  a lock of hair by the background's window has the coat on one side; both
  score 0.4 or more);
- ``extreme``: the speck's lightest luma (a light speck) or one minus its
  darkest (a dark one): dust is close to white or black;
- ``ring_beat``: the share of a ring 2 to 4 px outside the speck at least
  as light (dark) as the speck's median luma: a speck stands out from
  everything right around it, about 0; a fleck of texture, 0.04 or more;
- ``area``: its size in pixels;
- its profile, shape and edge: ``core`` and ``core75``, the share of it
  at least half and three quarters as far from the background as its
  peak (a laid-over blotch is flat-topped, a natural blob often peaks in
  the middle); ``solidity`` (its area over its convex hull's) and
  ``axes`` (its short axis over its long one); ``edge``, the mean
  gradient on its edge over its peak (crisp or soft);
- its ring 2 to 3 px outside: ``ring_z``, how far its median luma is
  beyond the ring's median, in units of the ring's spread;
  ``sector_min`` and ``sector_share``, the weakest contrast over eight
  angular sectors of the ring (over the peak) and the share of sectors
  with a contrast of at least 0.3 of the peak (dust stands out on every
  side; a blob cut from a larger dark shape has a side where it does
  not); ``ring_spread``, that ring's standard deviation of luma;
- ``inner_spread``: the spread of luma inside it, over its peak;
- ``colour_cosine``: the cosine between its mean colour and its
  background's (grey dust over a colourful background points elsewhere).

The measures are weighed by gradient-boosted trees (:func:`speck_probability`),
trained by ``training/train_spots.py`` on every candidate found on the
GrabCut set's photos (less the seven that are also CBSD68 test photos) with drawn specks and clean, in colour and in
black and white, and (for the colour model) shrunk to half and 0.7 of
their size, so texture as fine for its pixel size as a small scan's is
seen in training; a candidate is a speck when the model's probability
that it is one is high enough (0.85 at :func:`retouch.segment.spots`' default
``certainty``, 0.3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from scipy import ndimage as ndi

from . import trees

__all__ = ["Candidate", "Planes", "candidates", "measure", "FEATURES", "features", "speck_probability", "black_and_white", "MODELS"]

EIGHT = np.ones((3, 3), bool)
_WINDOW = 12
_DISK1 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
_DISK3 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
_ONES3, _ONES5, _ONES9 = (np.ones((k, k), np.uint8) for k in (3, 5, 9))


@dataclass
class Candidate:
    """One speck candidate: its polarity, window and mask in that window."""

    light: bool
    box: tuple[int, int, int, int]  # y0, y1, x0, x1 of the window
    mask: np.ndarray  # bool, window-sized
    peak: float


def candidates(
    colour: np.ndarray,
    background: np.ndarray,
    *,
    threshold: float,
    max_size: float,
    levels: tuple[float, ...] = (1.0, 1.5, 2.0, 3.0, 4.0),
) -> list[Candidate]:
    """Groups of pixels lighter or darker than ``background`` by ``threshold`` and at most ``max_size`` across.

    ``colour`` and ``background`` are float ``H x W x C``. A group larger
    than ``max_size`` is searched again at ``threshold`` times each of
    ``levels``; pixels already taken at a lower level are not taken twice.
    """
    h, w = colour.shape[:2]
    diff = colour - background
    out: list[Candidate] = []
    for light, d in ((True, diff.max(axis=2)), (False, (-diff).max(axis=2))):
        taken = np.zeros((h, w), bool)
        for level in levels:
            labels, n = ndi.label(d >= threshold * level, structure=EIGHT)
            for k, sl in enumerate(ndi.find_objects(labels)):
                if sl is None or max(sl[0].stop - sl[0].start, sl[1].stop - sl[1].start) > max_size + 2:
                    continue
                own = labels[sl] == k + 1
                if taken[sl][own].any():
                    continue
                taken[sl] |= own
                y0, y1 = max(0, sl[0].start - _WINDOW), min(h, sl[0].stop + _WINDOW)
                x0, x1 = max(0, sl[1].start - _WINDOW), min(w, sl[1].stop + _WINDOW)
                mask = labels[y0:y1, x0:x1] == k + 1
                out.append(Candidate(light, (y0, y1, x0, x1), mask, float(d[sl][own].max())))
    return out


@dataclass
class Planes:
    """What every candidate of one photo is measured against: the photo, its background, their
    luma and the luma's gradient (computed once per photo, cropped per candidate)."""

    colour: np.ndarray  # float H x W x C
    background: np.ndarray  # float H x W x C
    lum: np.ndarray = field(init=False)  # H x W, the mean of the channels
    gradient: np.ndarray = field(init=False)  # H x W, the luma's Sobel gradient magnitude, per pixel step

    def __post_init__(self) -> None:
        self.lum = self.colour.mean(axis=2)
        sobel = (cv2.Sobel(self.lum, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(self.lum, cv2.CV_32F, 0, 1, ksize=3))
        self.gradient = np.hypot(*sobel) / 8


def measure(planes: Planes, cand: Candidate) -> dict[str, float]:
    """The tests of a candidate (see the module docstring).

    Written for speed (it runs once per candidate, thousands of times a photo): the means, standard
    deviations and medians are NumPy's own reductions without their wrappers' overhead (the same
    sums in the same order, so the same values), each dilation is done once, and the candidate's
    grown region is found by one labelling and a lookup."""
    y0, y1, x0, x1 = cand.box
    crop = planes.colour[y0:y1, x0:x1]
    back = planes.background[y0:y1, x0:x1]
    m = cand.mask
    mu = m.view(np.uint8)
    inner = cv2.erode(mu, _ONES3).view(bool)
    if np.count_nonzero(inner) < 2:
        inner = m
    crop_inner, speck, speck_back = crop[inner], crop[m], back[m]
    mean = _mean0(crop_inner)
    base = _mean0(speck_back)
    delta = mean - base
    t = (crop - back) @ delta / (float(delta @ delta) + 1e-9)
    around = ~cv2.dilate(mu, _ONES5).view(bool)
    if not around.any():
        around = ~m
    t_around = t[around]
    inside = crop_inner - mean
    crop_around = crop[around]
    outside = crop_around - _mean0(crop_around)
    var_in = float(np.sqrt(_mean((inside**2).sum(axis=1))))
    var_out = float(np.sqrt(_mean((outside**2).sum(axis=1))))
    dilated1 = cv2.dilate(mu, _DISK1).view(bool)
    ring = cv2.dilate(mu, _DISK3).view(bool) & ~dilated1
    near1 = cv2.dilate(mu, _ONES3).view(bool)
    # the candidate grown through every touching pixel at least half as far from the background
    # (8-connected groups of them that meet it, as scipy's ndimage.label with EIGHT finds them)
    n, part = cv2.connectedComponents((t >= 0.5).view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    own = np.zeros(n, bool)
    own[part[m]] = True
    own[0] = False
    grown = own[part] | m
    edge = grown[0].any() or grown[-1].any() or grown[:, 0].any() or grown[:, -1].any()
    lum = planes.lum[y0:y1, x0:x1]
    lum_speck = lum[m]
    area = lum_speck.size
    wide_ring = cv2.dilate(mu, _ONES9).view(bool) & ~near1
    sign = 1.0 if cand.light else -1.0
    median = float(_median(lum_speck))
    if wide_ring.any():
        beaten = sign * lum[wide_ring] >= sign * median
        beat = np.count_nonzero(beaten) / beaten.size
    else:
        beat = 0.0
    lum_in, lum_bg = float(mean.mean()), float(base.mean())
    if cand.light:
        cover = (lum_in - lum_bg) / max(1e-3, 1.0 - lum_bg)
    else:
        cover = (lum_bg - lum_in) / max(1e-3, lum_bg)
    has_ring = ring.any()
    return {
        **_profile(speck - speck_back, lum, planes.gradient[y0:y1, x0:x1], m, ring, sign, cand.peak, median,
                   dilated1, has_ring),
        "colour_cosine": _cosine(_mean0(speck), base),
        "cover": cover,
        "growth": float("inf") if edge else float(np.count_nonzero(grown) / area),
        "peak": cand.peak,
        "halo": float(_percentile80(t[ring])) if has_ring else 0.0,
        "saturation": float(mean.max() - mean.min()),
        "background_saturation": float(base.max() - base.min()),
        "spread": float(_std(t_around)),
        "like": float(np.count_nonzero(t_around >= 0.8) / t_around.size),
        "flatness": var_in / (var_out + 1e-3),
        "extreme": float(lum_speck.max() if cand.light else 1.0 - lum_speck.min()),
        "ring_beat": float(beat),
        "area": float(area),
        "light": float(cand.light),
    }


# NumPy's mean, standard deviation and median of a float array, as ``ndarray.mean``, ``.std`` and
# ``np.median`` compute them (the same pairwise sums, then a division by the count, correctly rounded
# either way), without their wrappers' overhead: measure calls them a few dozen times per candidate.
def _mean0(a: np.ndarray) -> np.ndarray:
    """``a.mean(axis=0)``."""
    return np.add.reduce(a, axis=0) / a.shape[0]


def _mean(a: np.ndarray):
    """``a.mean()`` of a 1-D float array."""
    return np.add.reduce(a) / a.size


def _std(a: np.ndarray):
    """``a.std()`` of a 1-D float array."""
    x = a - np.add.reduce(a, keepdims=True) / a.size
    np.multiply(x, x, out=x)
    return np.sqrt(np.add.reduce(x) / a.size)


def _median(a: np.ndarray):
    """``np.median(a)`` of a 1-D float array without NaNs: the mean of its middle value or two."""
    half = a.size // 2
    if a.size % 2:
        return np.partition(a, half)[half]
    middle = np.partition(a, (half - 1, half))[half - 1 : half + 1]
    return np.add.reduce(middle) / 2


def _percentile80(a: np.ndarray):
    """``np.percentile(a, 80)`` of a 1-D float array without NaNs (its 'linear' method: between the two
    values about the index 0.8 (n - 1), as ``numpy.lib._function_base_impl._lerp`` weighs them)."""
    if a.size == 1:
        return a[0]
    at = (a.size - 1) * 0.8
    below = int(at)
    gamma = at - below
    part = np.partition(a, (below, below + 1))
    low, high = part[below], part[below + 1]
    step = high - low
    return high - step * (1 - gamma) if gamma >= 0.5 else low + step * gamma


def _medians(values: np.ndarray, group: np.ndarray, groups: int) -> np.ndarray:
    """The median of ``values`` in each of the ``groups`` groups that has any (as ``np.median`` gives it)."""
    ordered = values[np.lexsort((values, group))]
    counts = np.bincount(group, minlength=groups)
    starts = np.cumsum(counts) - counts
    some = counts > 0
    low, high = (starts + (counts - 1) // 2)[some], (starts + counts // 2)[some]
    return (ordered[low] + ordered[high]) / 2


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-6))


def _profile(difference: np.ndarray, lum: np.ndarray, gradient: np.ndarray, m: np.ndarray,
             ring: np.ndarray, sign: float, peak: float, median: float, dilated1: np.ndarray,
             has_ring: bool) -> dict[str, float]:
    """The measures of the speck's profile, shape, edge and ring (see the module docstring);
    ``difference``: its pixels' colour less the background's, ``median``: its median luma,
    ``dilated1``: ``m`` dilated by :data:`_DISK1`, ``has_ring``: whether ``ring`` has any pixel."""
    peak = max(peak, 1e-3)
    d = (sign * difference).max(axis=1)
    ys, xs = np.nonzero(m)
    area = len(ys)
    # the centroid (the mean of small integers, exact either way)
    cy, cx = float(ys.sum()) / area, float(xs.sum()) / area
    solidity, axes = 1.0, 1.0
    if area >= 3:
        hull = np.zeros(m.shape, np.uint8)
        cv2.fillConvexPoly(hull, cv2.convexHull(np.stack([xs, ys], 1).astype(np.int32)), 1)
        solidity = area / max(np.count_nonzero(hull), 1)
        # the axes of the pixels' spread (covariance plus a pixel's own, 1/12 in each direction)
        dx, dy = xs - cx, ys - cy
        a, c, b = (dx @ dx) / (area - 1) + 1 / 12, (dy @ dy) / (area - 1) + 1 / 12, (dx @ dy) / (area - 1)
        half = np.hypot((a - c) / 2, b)
        axes = float(np.sqrt(((a + c) / 2 - half) / ((a + c) / 2 + half)))
    inner = cv2.erode(m.view(np.uint8), _DISK1).view(bool)
    band = dilated1 & ~inner
    ring_z = sector_min = sector_share = ring_spread = 0.0
    if has_ring:
        around = lum[ring]
        ring_spread = float(_std(around))
        ring_z = sign * (median - float(_median(around))) / (ring_spread + 0.01)
        ry, rx = np.nonzero(ring)
        sector = ((np.arctan2(ry - cy, rx - cx) + np.pi) / (2 * np.pi) * 8).astype(int) % 8
        contrast = sign * (median - around)
        sectors = _medians(contrast, sector, 8)
        sector_min = float(sectors.min()) / peak
        sector_share = float(np.count_nonzero(sectors > 0.3 * peak) / sectors.size)
    gradient_band = gradient[band]
    lum_inner = lum[inner]
    return {
        "core": float(np.count_nonzero(d >= 0.5 * peak) / d.size),
        "core75": float(np.count_nonzero(d >= 0.75 * peak) / d.size),
        "solidity": float(solidity),
        "axes": axes,
        "edge": min(float(_mean(gradient_band)) / peak, 10.0) if gradient_band.size else 0.0,
        "ring_z": float(min(max(ring_z, -20), 20)),
        "sector_min": float(min(max(sector_min, -5), 5)),
        "sector_share": sector_share,
        "ring_spread": ring_spread,
        "inner_spread": min(float(_std(lum_inner)) / peak, 10.0) if lum_inner.size >= 2 else 0.0,
    }


# --- the model that weighs the measures ------------------------------------------------------

#: The measures the model reads, in order, then the candidate's saturation over its background's.
FEATURES = ("peak", "saturation", "background_saturation", "cover", "like", "halo", "growth", "spread",
            "flatness", "extreme", "ring_beat", "area", "light",
            "core", "core75", "solidity", "axes", "edge", "ring_z", "sector_min", "sector_share",
            "ring_spread", "inner_spread", "colour_cosine")
#: Two models of gradient-boosted trees trained by ``training/train_spots.py`` on the candidates
#: of the GrabCut set's photos (less the seven that are CBSD68 test photos) with drawn specks
#: (``benchmarks._damage``) and clean: one on the colour photos (and copies shrunk to 0.5 and 0.7),
#: one on their black and white versions (where greyness tells nothing).
MODELS = {kind: Path(__file__).parent / "models" / f"spots_{kind}.npz" for kind in ("colour", "grey")}


def features(measures: list[dict[str, float]]) -> np.ndarray:
    """``N x len(FEATURES) + 1`` float32 rows for the model.

    The area enters as its logarithm, infinite growth (a candidate that
    grows out of its window) and other outliers are clipped at 10, and the
    last column is the candidate's saturation over its background's (at most 3).
    """
    rows = [[float(np.log(max(t[k], 1.0))) if k == "area" else min(float(t[k]), 10.0) for k in FEATURES]
            + [min(t["saturation"] / (t["background_saturation"] + 0.01), 3.0)] for t in measures]
    return np.asarray(rows, np.float32).reshape(len(rows), len(FEATURES) + 1)


def black_and_white(colour: np.ndarray, tolerance: float = 0.04) -> bool:
    """Whether a float ``H x W x 3`` photo is black and white: under 1 % of its pixels' channels differ by ``tolerance``."""
    spread = colour.max(axis=2) - colour.min(axis=2)
    return float((spread > tolerance).mean()) < 0.01


def speck_probability(measures: list[dict[str, float]], *, grey: bool = False) -> np.ndarray:
    """The model's probability that each candidate is a speck (0 to 1).

    ``grey``: the candidates come from a black and white photo, and the
    model trained on black and white photos judges them.
    """
    return trees.boosted_probability(MODELS["grey" if grey else "colour"], features(measures))
