"""The parts of the damage network's map, measured, so that boosted trees can judge each one.

The damage network (:mod:`.damage_net`) alone must be sure of a pixel (0.55)
to keep it: lower, it finds much more of the damage but marks much more of
a clean photo (object edges, glints, bright skies and paper taken for lost
emulsion). So the map is cut lower (:data:`LOW`), every connected part
(8-connected) is measured (:data:`FEATURES`: how sure the network is, its
categories, the part's size and shape, its contrast with the photo's
median, whether it lies on an edge or in a texture of the photo, and, for
a loss, whether its edge is a hard step from flat paper to the picture),
and gradient-boosted trees trained by ``training/train_damage_parts.py``
(``models/damage_parts.npz``) say how likely the part is damage.

Everything here works on one tile of the network's run at a time (the
tile with its halo), so memory stays bounded by the tile.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from . import trees

__all__ = ["LOW", "FEATURES", "MODEL", "measure", "judge", "kept"]

MODEL = Path(__file__).parent / "models" / "damage_parts.npz"
LOW = 0.25  # the network's probability of damage at which the map is cut into parts
ALIKE = 0.08  # grey levels (of 1): a pixel of the ring this close to the part's mean continues it
# A part the network calls a loss (torn corner, lost emulsion) of at least LOSS_AREA px is kept only
# with evidence of a loss: a hard edge, at most MAX_ALIKE of its ring continuing it, and a step of at
# least MIN_STEP to that ring (a bright sky, paper or a white shirt, flat as lost emulsion is, runs on
# into its surroundings where the network's map ends); and, unless it touches the photo's edge (a
# torn corner or edge), at most LOSS_INSIDE px (emulsion lost inside a print is a flake, up to about
# 50 px across in benchmarks._realdamage; a white shirt or trousers in their dark surroundings are
# larger). Set by looking at the old photos (bright skies, pavements, shirts taken for losses) and
# checked on the tune photos' losses.
LOSS_AREA, MAX_ALIKE, MIN_STEP, LOSS_INSIDE = 30, 0.65, 0.08, 3000
# A part of which at least SURE_SHARE the network alone is sure of (0.55, what damage kept before the
# trees) and that stands out of the photo's median by at least SURE_CONTRAST (mean over the part) is
# kept whatever the trees say: the trees learnt long straight lines as a window's leads and rails (the
# network's hard negatives) and would drop a long dark scratch the network is sure of. On the tune
# photos: F1 0.545 -> 0.546, clean 0.253 % -> 0.271 % (without the contrast 0.348 %)
SURE_SHARE, SURE_CONTRAST = 0.4, 0.15
# A part the network calls a loss of at least FAR_AREA px is not a loss when more than MAX_FAR of a wider
# ring around it (far_alike) has its grey: lost emulsion shows the paper, whose grey the picture beyond
# does not have, while a patch of sky between two trees, the paper inside a sign's digits or a pavement
# goes on beyond what lies between. On the tune photos' losses (three damage seeds, 16 photos) far_alike
# of parts of 200 px or more is at most 0.151; on the old photos' false losses 0.297 (a 9's counter on
# GasPrices1939), 0.294 (ParisLate1800s), 0.334 (the sky on HalloweenEarly1900s); a hat's crown on
# Depression 0.158 is left.
FAR_AREA, MAX_FAR = 200, 0.2
# A straight part at least LINE_LENGTH px long and at most LINE_WIDTH px wide with at least FAMILY
# parallel straight parts beside it is one of a family of lines (a corrugated roof, rails, girders, a
# fence): damage lines stand alone, or come in twos and threes (a film's scratches, drawn scratches:
# with FAMILY 2, 702 px of drawn scratches on two of the first 16 CBSD68 photos of benchmarks.restore
# went, with 3 and 4 none). On the tune photos (realistic damage from scans 01-04, as they are, aged
# and scanned; drawn damage, curved and straight) no part kept is such a line even at 2; on the old
# photos, at 4: roof lines on HoovervilleSeattle1932 (11 372 px; 13 371 at 2) and a part on
# BigManTavern1908NYC (500 px).
LINE_LENGTH, LINE_WIDTH, FAMILY = 40, 8, 4

FEATURES = (
    "log_area", "log_extent", "fill", "width",  # size and shape
    "p_max", "p_mean", "share_sure",  # the network: its probability of damage
    "thin", "spots", "losses",  # and of each category, mean over the part
    "contrast", "abs_contrast", "max_contrast",  # grey minus its 11 px median, over the part
    "brightness", "background", "saturation",  # the part's grey, its median's, the colour's spread
    "edge", "texture",  # the median's gradient and the photo's 7 x 7 standard deviation under the part
    "ring_step", "ring_texture", "inside_texture",  # a loss: the step to a 3 px ring outside, and flatness
    "ring_alike",  # the share of that ring whose grey is within ALIKE of the part's mean: no hard edge
    "border",  # whether the part touches the photo's edge
    # ring_alike with the part's pixels on a side of the tile's run that is not the photo's edge counted as
    # continuing it (what lies beyond is unseen): read by kept's rule for losses, not by the trees
    "ring_alike_cut",
    # a large part the network calls a loss: the share of a wider ring, FAR_IN px to FAR_IN + the part's
    # size away, whose grey is within ALIKE of the part's mean (0 for other parts): read by kept's rule
    "far_alike",
    # the part as a line (from its second moments): its length and width, and how many other straight
    # parts lie beside it, parallel (within PARALLEL_ANGLE), 3 px to twice its length across and within
    # three quarters of its length along: read by kept's rule
    "line_length", "line_width", "parallels",
)


def _sums(labels: np.ndarray, n: int, values: np.ndarray) -> np.ndarray:
    return np.bincount(labels.ravel(), weights=values.ravel(), minlength=n)


def measure(rgb: np.ndarray, p: np.ndarray, cats: np.ndarray, edges: tuple[bool, bool, bool, bool] = (True,) * 4
            ) -> tuple[np.ndarray, np.ndarray]:
    """(parts ``H x W`` int32, 0: none, features ``n x len(FEATURES)``) of the network's map of a tile.

    ``p``: probability of damage (``H x W`` float32); ``cats``: the three categories' probabilities
    (``3 x H x W``); ``edges``: whether the tile's top, bottom, left and right sides are the photo's.
    """
    n, parts, stats, _ = cv2.connectedComponentsWithStats((p >= LOW).view(np.uint8), connectivity=8)
    if n <= 1:
        return parts, np.zeros((0, len(FEATURES)), np.float32)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255
    median = cv2.medianBlur(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), 11).astype(np.float32) / 255
    diff = grey - median
    area = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
    hw = stats[:, [cv2.CC_STAT_HEIGHT, cv2.CC_STAT_WIDTH]].astype(np.float64)
    extent = hw.max(axis=1)

    def mean(values: np.ndarray) -> np.ndarray:
        return _sums(parts, n, values) / area

    pmax = np.zeros(n)
    np.maximum.at(pmax, parts.ravel(), p.ravel())
    gx = cv2.Sobel(cv2.GaussianBlur(median, (0, 0), 1.5), cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(cv2.GaussianBlur(median, (0, 0), 1.5), cv2.CV_32F, 0, 1, ksize=3)
    edge = np.sqrt(gx * gx + gy * gy)
    m1 = cv2.boxFilter(grey, -1, (7, 7))
    std = np.sqrt(np.maximum(cv2.boxFilter(grey * grey, -1, (7, 7)) - m1 * m1, 0))
    spread = (rgb.max(axis=2).astype(np.float32) - rgb.min(axis=2)) / 255
    # a ring 1 to 3 px outside each part, labelled by the part it surrounds (where two meet, the larger label)
    grown = cv2.dilate(parts.astype(np.float32), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))).astype(np.int32)
    ring = np.where(parts == 0, grown, 0)
    ring_area = np.maximum(np.bincount(ring.ravel(), minlength=n).astype(np.float64), 1)
    ring_grey = _sums(ring, n, grey) / ring_area
    ring_std = _sums(ring, n, std) / ring_area
    brightness = mean(grey)
    ring_alike = _sums(ring, n, (np.abs(grey - brightness[ring]) < ALIKE).astype(np.float32)) / ring_area
    inner = cv2.erode((parts > 0).view(np.uint8), np.ones((3, 3), np.uint8)).view(bool)
    inner_area = np.maximum(np.bincount(parts[inner], minlength=n).astype(np.float64), 1)
    inside_std = np.bincount(parts[inner], weights=std[inner], minlength=n) / inner_area
    h, w = p.shape
    cut = np.zeros(h * w, bool).reshape(h, w)
    for side, (ys, xs) in enumerate(((0, slice(None)), (h - 1, slice(None)), (slice(None), 0), (slice(None), w - 1))):
        if not edges[side]:
            cut[ys, xs] = True
    cut_count = 3 * np.bincount(parts[cut], minlength=n).astype(np.float64)  # as thick as the ring
    ring_alike_cut = (ring_alike * ring_area + cut_count) / (ring_area + cut_count)
    x0, y0 = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    border = ((edges[0] & (y0 == 0)) | (edges[1] & (y0 + hw[:, 0] >= h)) | (edges[2] & (x0 == 0))
              | (edges[3] & (x0 + hw[:, 1] >= w)))
    x = np.stack([
        np.log(area), np.log(extent), area / (hw[:, 0] * hw[:, 1]), area / extent,
        pmax, mean(p), mean((p >= 0.55).astype(np.float32)),
        mean(cats[0]), mean(cats[1]), mean(cats[2]),
        mean(diff), mean(np.abs(diff)), _max_abs(parts, n, diff),
        brightness, mean(median), mean(spread),
        mean(edge), mean(std),
        brightness - ring_grey, ring_std, inside_std, ring_alike,
        border.astype(np.float64), ring_alike_cut, _far_alike(parts, stats, grey, brightness, cats),
        *_lines(parts, n),
    ], axis=1)[1:]
    return parts, x.astype(np.float32)


FAR_IN = 4  # px: the wider ring of a loss starts beyond the 3 px ring
PARALLEL_ANGLE = np.deg2rad(12)
STRAIGHT_LENGTH = 12  # px: a part at least this long and three times as long as wide is straight


def _lines(parts: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(length, width, parallel straight parts beside it) of each part, from its second moments."""
    ys, xs = np.nonzero(parts)
    lab = parts[ys, xs]
    count = np.maximum(np.bincount(lab, minlength=n), 1).astype(np.float64)
    my, mx = np.bincount(lab, ys, n) / count, np.bincount(lab, xs, n) / count
    dy, dx = ys - my[lab], xs - mx[lab]
    syy, sxx, sxy = (np.bincount(lab, v, n) / count for v in (dy * dy, dx * dx, dx * dy))
    angle = 0.5 * np.arctan2(2 * sxy, sxx - syy)
    half, root = (sxx + syy) / 2, np.sqrt(np.maximum(((sxx - syy) / 2) ** 2 + sxy * sxy, 0))
    length, width = np.sqrt(12 * (half + root)), np.sqrt(12 * np.maximum(half - root, 0))
    straight = (length >= STRAIGHT_LENGTH) & (length >= 3 * np.maximum(width, 1))
    straight[0] = False
    idx = np.flatnonzero(straight)
    parallels = np.zeros(n)
    for i in idx:
        c, s = np.cos(angle[i]), np.sin(angle[i])
        oy, ox = my[idx] - my[i], mx[idx] - mx[i]
        along, across = np.abs(ox * c + oy * s), np.abs(oy * c - ox * s)
        turn = np.abs((angle[idx] - angle[i] + np.pi / 2) % np.pi - np.pi / 2)
        parallels[i] = np.count_nonzero((idx != i) & (turn <= PARALLEL_ANGLE) & (across >= 3)
                                        & (across <= 2 * length[i]) & (along <= 0.75 * length[i]))
    return length, width, parallels


def _far_alike(parts: np.ndarray, stats: np.ndarray, grey: np.ndarray, brightness: np.ndarray, cats: np.ndarray) -> np.ndarray:
    """For each part the network calls a loss of at least LOSS_AREA px, the share of the ring from FAR_IN to
    FAR_IN + sqrt(area) (at least 2 * FAR_IN) px outside it whose grey is within ALIKE of the part's mean."""
    n = len(stats)
    out = np.zeros(n)
    h, w = parts.shape
    area = stats[:, cv2.CC_STAT_AREA]
    for i in np.flatnonzero(area[1:] >= LOSS_AREA) + 1:  # label 0 is the background
        x0, y0, bw, bh = (int(v) for v in stats[i, :4])
        r = FAR_IN + max(2 * FAR_IN, int(np.sqrt(area[i])))
        ya, yb, xa, xb = max(0, y0 - r), min(h, y0 + bh + r), max(0, x0 - r), min(w, x0 + bw + r)
        part = parts[ya:yb, xa:xb] == i
        c = cats[:, ya:yb, xa:xb][:, part].mean(axis=1)
        if c[2] <= max(c[0], c[1]):
            continue
        d = cv2.distanceTransform((~part).view(np.uint8), cv2.DIST_L2, 3)
        ring = (d > FAR_IN) & (d <= r)
        if ring.any():
            out[i] = float(np.mean(np.abs(grey[ya:yb, xa:xb][ring] - brightness[i]) < ALIKE))
    return out


def _max_abs(parts: np.ndarray, n: int, diff: np.ndarray) -> np.ndarray:
    out = np.zeros(n)
    np.maximum.at(out, parts.ravel(), np.abs(diff).ravel())
    return out


def judge(features: np.ndarray, model: Path | None = None) -> np.ndarray:
    """The trees' probability that each part (a row of :func:`measure`'s features) is damage."""
    return trees.boosted_probability(model or MODEL, features)


def kept(features: np.ndarray, keep: float, model: Path | None = None) -> np.ndarray:
    """Which parts (rows of :func:`measure`'s features) are damage: the trees give them at least
    ``keep`` or the network is sure of most of them (:data:`SURE_SHARE`), and a large part the network
    calls a loss shows a loss's hard edge (:data:`LOSS_AREA`)."""
    if not len(features):
        return np.zeros(0, bool)
    f = {name: features[:, k] for k, name in enumerate(FEATURES)}
    loss = (f["losses"] > np.maximum(f["thin"], f["spots"])) & (f["log_area"] >= np.log(LOSS_AREA))
    evidence = ((f["ring_alike_cut"] <= MAX_ALIKE) & (np.abs(f["ring_step"]) >= MIN_STEP)
                & ((f["border"] > 0) | (f["log_area"] <= np.log(LOSS_INSIDE))))
    sure = (f["share_sure"] >= SURE_SHARE) & (f["abs_contrast"] >= SURE_CONTRAST)
    surface = (f["log_area"] >= np.log(FAR_AREA)) & (f["far_alike"] > MAX_FAR)
    family = (f["line_length"] >= LINE_LENGTH) & (f["line_width"] <= LINE_WIDTH) & (f["parallels"] >= FAMILY)
    return ((judge(features, model) >= keep) | sure) & (~loss | (evidence & ~surface)) & ~family
