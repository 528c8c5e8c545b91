"""The damage detectors: scratches, dust spots and overlaid text.

Each finds one kind of damage nobody wants to trace by hand and returns a
bool ``H x W`` mask (True = damage), ready to grow a little and fill. The
settings are the sizes and contrasts a user can judge by eye (shortest
scratch in pixels, widest spot, faintest contrast), and each detector is
built to leave a clean photo alone: natural lines, specks and textures that
repeat (stripes, fur, grass, windows) are what it tries hardest not to take.
"""

from __future__ import annotations

from typing import Annotated, Literal

import cv2
import numpy as np
from pydantic import Field
from scipy import ndimage as ndi

from ... import registry
from ...convert import split_alpha, to_float, to_rgb, to_uint8
from ...refine import grow
from ...validate import check_image
from . import damage_net as _damage_net
from . import glyphs as _text
from . import lines as _lines
from . import speck_net
from . import specks as _spots

__all__ = ["scratches", "spots", "text", "damage", "damage_labels"]

Polarity = Literal["both", "light", "dark"]
DamageCategory = Literal["all", "thin", "spots", "losses"]
Placement = Literal["anywhere", "edges"]

_N_ANGLES = 16
# Tests of a scratch chain (see _scratch_measures), set from 16 CBSD68 photos with drawn
# scratches against 11 clean scikit-image photos (bricks, grass, gravel, a rocket's towers):
_MAX_PARALLEL = 1.0  # close parallel texture lines per chain pixel: scratches 0.65 at the 90th percentile
_FAMILY_BAND = 40  # px to either side searched for a family of long parallel lines
_MAX_FAMILY = 1.25  # scratches score 1.1 at the 90th percentile; false chains 5.5 median, bricks 1.3 to 3.4
_MAX_BEND = 0.08  # sagitta / chord: drawn scratches bow up to 0.075
_SIDE_DIST = 6.0
_MAX_SIDE = 1.0  # sides' difference / line contrast: scratches 0.66 at the 90th percentile, edges 0.8 median
_LONG_GAP = 60  # px: pieces of 40 px or more in one straight line join across this (F1 0.785 -> 0.789)
_BORDER = 3  # image rows/columns at the border are often scanner or crop artefacts
# A chain is a scratch when the forest (lines.scratch_probability) gives it at least
# _FOREST_ACCEPT, or it passes the hand-set tests (_is_scratch) and the forest gives it at least
# _FOREST_VETO. On the 68 CBSD68 photos of benchmarks/restore.py, which the forest never saw (it is
# trained on the GrabCut set's photos that are not CBSD68 photos), mean F1 with veto 0.3 and accept
# 0.6 / 0.7 / 0.75 / 0.8: 0.808 / 0.813 / 0.811 / 0.802; with the scratches drawn near-vertical and
# straight, as on film, 0.784 / 0.777 / 0.770 / 0.756. 0.75 because the forest, trained on straight
# scratches as well, takes a few real straight lines for them: scikit-image's camera (the tripod's
# centre column) is 0.67 % marked at 0.7 and 0.45 % at 0.75, and the clean CBSD68 photos 0.106 and
# 0.100 %.
_FOREST_ACCEPT = 0.75
_FOREST_VETO = 0.3


def colour_float(image: np.ndarray) -> np.ndarray:
    """The colour part of ``image`` as float32 in [0, 1]: ``H x W`` grey or ``H x W x 3``."""
    color, _ = split_alpha(image)
    return np.ascontiguousarray(to_float(color))


def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


@registry.register("segment")
def scratches(
    image: np.ndarray,
    *,
    min_length: Annotated[float, Field(ge=10)] = 80,
    max_width: Annotated[float, Field(ge=1, le=12)] = 4,
    min_contrast: Annotated[float, Field(gt=0, le=1)] = 0.12,
    polarity: Polarity = "both",
) -> np.ndarray:
    """Find long thin scratches, lighter or darker than both of their sides.

    A two-sided oriented line filter (16 directions) finds, in each colour
    channel, thin lines lighter or darker than *both* sides; their centre
    lines are followed into chains of one direction, chains whose ends face
    each other across a short gap (20 px, or 60 px for pieces of 40 px and
    more in one straight line: a scratch fades where it crosses something
    as light or dark as itself) are joined, and a chain is a scratch when
    it is long enough, contrasted enough, not one of many parallel lines
    (stripes, fur, grass, bricks, rails and a tower's legs repeat, close by
    or up to 40 px away; a scratch stands alone), nearly straight (it bows
    by at most 8 % of its length), and the picture on its two sides is the
    same (a line along the edge of an object separates two different
    things). A random forest, trained on scratches drawn over the GrabCut
    set's photos (and on everything else found there), weighs the same
    measures together with the chain's contrast, polarity, width, luma and
    greyness: a chain those tests reject is still a scratch when at least
    75 % of its trees say so, and a chain they pass is not when under 30 %
    do. Lines kept that form a lattice (two parallel lines crossed nearly
    at right angles by the same two others: a window's leads, tiles) are
    then dropped. The mask covers the scratch and a pixel or two of its edge.

    Parameters
    ----------
    image : ndarray
        ``H x W`` grey, ``H x W x 3`` RGB or ``H x W x 4`` RGBA (alpha is
        ignored); uint8, uint16 or float32 in [0, 1].
    min_length : float
        Shortest scratch reported, in pixels end to end.
    max_width : float
        Widest scratch, in pixels; wider lines (stripes, branches) are left alone.
    min_contrast : float
        Faintest scratch: how much lighter or darker than both sides it must be
        on average, as a fraction of full scale (0.12 is about 30 levels of 255).
    polarity : {'both', 'light', 'dark'}
        Find light scratches (dust and lifted emulsion on a negative), dark
        ones (on a print), or both.

    Returns
    -------
    ndarray of bool
        ``H x W``, True on the scratches.

    Notes
    -----
    The line filter compares the mean of a 15 px segment with the means of
    the two parallel segments beside it (Ricci and Perfetti's line detector,
    made two-sided so that step edges do not answer); the centre lines are
    thinned by non-maximum suppression across the line and kept above half
    of ``min_contrast`` (a hysteresis on the chain's mean). Scratches that
    run exactly along a row of the image border (three pixels) are not seen.
    The forest (``training/train_scratches.py``) learned that scratches
    are grey, white or black, as on a scanned print or the base side of a
    film: a coloured line (a scratch through only some of a colour film's
    dye layers) passes only if the hand-set tests pass it and the forest
    does not veto it. It was trained with the default ``max_width`` and
    ``min_contrast``; the contrast it reads is relative to ``min_contrast``.
    On the 68 CBSD68 photos of ``benchmarks/restore.py``, which it never
    saw, 91 % of what is marked is scratch and 79 % of the scratches are
    found (the hand-set tests alone: 88 % and 77 %). Faint scratches, and
    scratches over black shadow where they barely show, are still missed.

    References
    ----------
    E. Ricci, R. Perfetti, "Retinal Blood Vessel Segmentation Using Line
    Operators and Support Vector Classification", IEEE Transactions on
    Medical Imaging 26(10), 2007. :DOI:`10.1109/TMI.2007.898551`

    A. C. Kokaram, "Motion Picture Restoration", Springer, 1998 (line
    scratch detection in film). :DOI:`10.1007/978-1-4471-3485-5`

    Examples
    --------
    >>> import numpy as np
    >>> from retouch.segment import scratches
    >>> image = np.full((120, 160), 0.4, np.float32)
    >>> image[20:100, 80] = 0.9  # a light vertical scratch, 1 px wide
    >>> mask = scratches(image)
    >>> bool(mask[60, 80]), bool(mask[60, 40]), mask.dtype
    (True, False, dtype('bool'))
    """
    image = check_image(image)
    f = colour_float(image)
    h, w = f.shape[:2]
    found = scratch_chains(f, min_length=min_length, max_width=max_width, min_contrast=min_contrast, polarity=polarity)
    probability = _lines.scratch_probability([t for _, t, _, _ in found], min_contrast=min_contrast)
    kept = [(t, ys, xs) for (_, t, ys, xs), p in zip(found, probability)
            if p >= _FOREST_ACCEPT or (p >= _FOREST_VETO and _is_scratch(t))]
    grid = _lines.lattice([(ys, xs) for _, ys, xs in kept])  # window leads, tiles: not scratches
    thin = np.zeros((h, w), bool)  # centre lines of scratches up to 3 px wide
    thick = np.zeros((h, w), bool)  # and of wider ones
    for (t, ys, xs), in_grid in zip(kept, grid):
        if not in_grid:
            (thick if t["wide"] else thin)[ys, xs] = True
    out = grow(thin, pixels=1)
    if thick.any():
        out |= cv2.dilate(thick.view(np.uint8), _disk(int(np.ceil(max_width / 2)))).astype(bool)
    return out


def scratch_chains(
    f: np.ndarray, *, min_length: float, max_width: float, min_contrast: float, polarity: Polarity = "both"
) -> list[tuple[str, dict[str, float], np.ndarray, np.ndarray]]:
    """Every long, contrasted chain of line centres of ``polarity`` in float ``f``: (polarity, measures, rows, columns).

    What :func:`scratches` judges (with :func:`_is_scratch` and its forest),
    and what ``training/train_scratches.py`` trains that forest on. Lines
    of both polarities make the family of long lines a chain is measured
    against, whichever polarity is asked for.
    """
    h, w = f.shape[:2]
    if min(h, w) <= 2 * _BORDER:  # every pixel is within the border, where answers are dropped below
        return []
    light, light_a, light_d, dark, dark_a, dark_d = _lines.line_response(f, max_width=max_width, n_angles=_N_ANGLES)
    found = {}
    for name, resp, ang in (("light", light, light_a), ("dark", dark, dark_a)):
        resp[:_BORDER], resp[-_BORDER:], resp[:, :_BORDER], resp[:, -_BORDER:] = 0, 0, 0, 0
        found[name] = (_lines.centrelines(resp, ang, _N_ANGLES, 0.5 * min_contrast), ang, resp)
    sides = {"light": light_d, "dark": dark_d}
    chains = {}
    for name, (cand, ang, resp) in found.items():
        labels, count = _lines.link(cand, ang, _N_ANGLES)
        if count == 0:
            continue
        labels = _lines.bridge(labels, count, gap=20)[labels]
        # then pieces of one straight scratch broken where it crosses something as light (dark)
        labels = _lines.bridge(labels, int(labels.max()), gap=_LONG_GAP, min_pixels=40, max_turn=np.deg2rad(5))[labels]
        pixels, mean, extent = _lines.chain_props(labels, resp)
        chains[name] = (labels, pixels, mean, extent)
    # long lines of every polarity: a scratch is not one of a family of parallel lines
    family = np.zeros((h, w), bool)
    family_ang = np.zeros((h, w), np.int16)
    for name, (labels, pixels, mean, extent) in chains.items():
        longish = np.zeros(len(pixels) + 1, bool)
        longish[1:] = (mean >= 0.5 * min_contrast) & (extent >= 0.5 * min_length)
        member = longish[labels]
        family |= member
        family_ang[member] = found[name][1][member]
    luma = f.mean(axis=2) if f.ndim == 3 else f
    chroma = f.max(axis=2) - f.min(axis=2) if f.ndim == 3 else np.zeros_like(f)
    out = []
    for name, (labels, pixels, mean, extent) in chains.items():
        if polarity not in ("both", name):
            continue
        ang = found[name][1]
        keep = np.zeros(len(pixels) + 1, bool)
        keep[1:] = (mean >= min_contrast) & (extent >= min_length)
        for k, sl in _objects(labels, keep):
            ys = slice(max(0, sl[0].start - _FAMILY_BAND), min(h, sl[0].stop + _FAMILY_BAND))
            xs = slice(max(0, sl[1].start - _FAMILY_BAND), min(w, sl[1].stop + _FAMILY_BAND))
            chain = labels[ys, xs] == k
            t = _scratch_measures(f, chain, ys, xs, pixels[k - 1], mean[k - 1], ang, found, (family, family_ang))
            cy, cx = np.nonzero(chain)
            cy, cx = cy + ys.start, cx + xs.start
            t.update(
                contrast=float(mean[k - 1]),
                light=float(name == "light"),
                # the side offset that answered best tells the width: d <= 3 is a line up to 3 px
                wide=float(np.median(sides[name][cy, cx]) > 3),
                luma=float(np.median(luma[cy, cx])),
                chroma=float(np.median(chroma[cy, cx])),
            )
            out.append((name, t, cy, cx))
    return out


def _scratch_measures(f, chain, ys, xs, pixels, mean, ang, found, family) -> dict[str, float]:
    """What the tests of :func:`scratches` look at, for one long, contrasted chain."""
    sub = (ys, xs)
    others = [(c[sub], a[sub], r[sub]) for c, a, r in found.values()]
    fam = family[0][sub] & ~cv2.dilate(chain.view(np.uint8), _disk(2)).astype(bool)
    cy, cx = np.nonzero(chain)
    sag = _lines.bend(cy, cx)
    return {
        # parallel lines of texture close beside it (stripes, fur, grass), per chain pixel
        "parallel": _lines.parallel_support(chain, ang[sub], others, 0.5 * mean, _N_ANGLES) / pixels,
        # long parallel lines further out (windows, rails, bricks, lattices), per chain pixel
        "family": _lines.parallel_support(chain, ang[sub], [(fam, family[1][sub], np.ones(fam.shape, np.float32))], 0.0,
                                          _N_ANGLES, band=(3.0, float(_FAMILY_BAND))) / pixels,
        "bend": sag,
        "side": _lines.side_difference(f, cy + ys.start, cx + xs.start, ang, _N_ANGLES, _SIDE_DIST) / mean,
    }


def _is_scratch(t: dict[str, float]) -> bool:
    """The tests a long, contrasted chain must pass to be a scratch (see :func:`scratches`)."""
    if t["parallel"] > _MAX_PARALLEL or t["family"] > _MAX_FAMILY:
        return False  # one of many parallel lines: stripes, fur, bricks, rails, a tower's legs
    if t["bend"] > _MAX_BEND:
        return False  # bends like the rim of a plate, not like a scratch
    return t["side"] <= _MAX_SIDE  # the two sides differ: the edge of an object


def _objects(labels: np.ndarray, keep: np.ndarray) -> list[tuple[int, tuple[slice, slice]]]:
    """(label, bounding slices) of the labels marked in ``keep``."""
    objs = ndi.find_objects(labels)
    return [(k + 1, sl) for k, sl in enumerate(objs) if sl is not None and keep[k + 1]]


@registry.register("segment")
def spots(
    image: np.ndarray,
    *,
    min_size: Annotated[float, Field(ge=1)] = 2,
    max_size: Annotated[float, Field(ge=2, le=60)] = 15,
    min_contrast: Annotated[float, Field(gt=0, le=1)] = 0.15,
    polarity: Polarity = "both",
    certainty: Annotated[float, Field(gt=0, lt=1)] = 0.3,
) -> np.ndarray:
    """Find dust and small blotches: grey specks lighter or darker than all around them.

    Each group of pixels that differs from a robust local background (a
    median about twice as wide as ``max_size``) is a candidate speck. Each
    candidate is measured: how grey it is against its surroundings' colour,
    how far it goes towards white or black (dust is opaque), how alone it
    stands (how much around it is like it, and whether anything right
    around it is as light or dark), how crisp its edge is, whether it
    stands out on every side, how flat its top is, and whether it grows
    into a larger patch. Gradient-boosted trees trained on such measures
    (of specks drawn over the GrabCut set's photos, at full size and
    shrunk, and of everything else found on those photos, damaged and
    clean) weigh them together, so a speck in busy texture that is
    plainly grey, opaque and crisp is kept although texture like it is
    nearby. Beside them a small convolutional network, trained on the
    same photos with other drawn specks, gives each pixel the probability
    that it lies on a speck; it finds most plainly visible specks on
    texture, which the trees often reject. What the network is sure of is
    taken where it touches a candidate (so it stands out and is no larger
    than ``max_size``; the network is run only near the candidates) and
    keeps to the same size, contrast, polarity and greyness limits; and so
    is what the trees are very sure of.
    Colourful specks are never taken: dust is grey. The mask covers each
    speck and one pixel of its edge.

    Parameters
    ----------
    image : ndarray
        ``H x W`` grey, ``H x W x 3`` RGB or ``H x W x 4`` RGBA (alpha is
        ignored); uint8, uint16 or float32 in [0, 1].
    min_size : float
        Smallest speck, in pixels across.
    max_size : float
        Largest speck, in pixels across; larger blotches are left alone.
    min_contrast : float
        Faintest speck: how much lighter or darker than its background its
        strongest pixel must be, as a fraction of full scale.
    polarity : {'both', 'light', 'dark'}
        Find light specks (dust on a negative scan), dark ones (dust on a
        print, sensor dust), or both.
    certainty : float
        How sure the detector must be that something is dust. At the
        default, 0.3, the network's pixels are taken at a probability of
        0.9 and the trees' candidates at 0.85; 1 minus each scales with 1
        minus ``certainty`` above it, and the trees' falls in proportion
        below it (0.28 at 0.1), while the network's never falls below
        0.857. Lower finds more of the dust and marks more of what is not;
        on a heavily dusted scan 0.1 or 0.2 finds more, on a photo that
        must not be touched 0.5 or more marks less. Measured on the 68
        CBSD68 photos of ``benchmarks/restore.py`` (mean per photo; clean:
        the share of the undamaged photos marked):

        =========  =========  ======  =====  =======
        certainty  precision  recall  F1     clean
        =========  =========  ======  =====  =======
        0.1        0.85       0.82    0.82   0.08 %
        0.2        0.88       0.82    0.84   0.05 %
        0.3        0.90       0.81    0.85   0.04 %
        0.5        0.91       0.81    0.85   0.03 %
        0.7        0.92       0.80    0.85   0.03 %
        =========  =========  ======  =====  =======

    Returns
    -------
    ndarray of bool
        ``H x W``, True on the specks.

    Notes
    -----
    Colourful specks (flowers, berries, coloured lights) are deliberately
    not taken: a speck must be grey (channel spread at most 0.15). Texture
    made of specks (gravel, foliage, stars) is the hard case: dust on
    foliage or gravel is still sometimes missed, and white glints (on
    water, a cup, a spoon, an eye, the stars of a flag) and sky seen
    through branches look just like white dust and are taken: about 0.21 %
    of the coffee photo (the spoon, the cup's rim) and 0.27 % of the
    astronaut (the flag's stars, her badge, a catchlight). The trees (one model for colour
    photos, one for black and white ones, picked by whether the photo's
    channels are all equal) were trained by ``training/train_spots.py``,
    the network (one for both, :mod:`retouch.segment.defects.speck_net`, run by
    OpenCV's ``cv2.dnn``) by ``training/train_spots_net.py``, on the
    GrabCut set's photos with the default settings; other sizes and
    contrasts give them candidates of other sizes, judged by the same
    measures. On the 68 CBSD68 photos of ``benchmarks/restore.py``, which
    they never saw, about 90 % of what is marked is dust and 81 % of the
    dust is found (F1 0.85). How the models were made, and the models
    before them, are in ``docs/models.md``.

    References
    ----------
    A. C. Kokaram, R. D. Morris, W. J. Fitzgerald, P. J. W. Rayner,
    "Detection of Missing Data in Image Sequences", IEEE Transactions on
    Image Processing 4(11), 1995. :DOI:`10.1109/83.469932`

    Examples
    --------
    >>> import numpy as np
    >>> from retouch.segment import spots
    >>> image = np.full((80, 80, 3), 120, np.uint8)
    >>> image[30:36, 40:46] = 250  # a white speck, 6 px across
    >>> mask = spots(image)
    >>> bool(mask[32, 42]), int(mask.sum()) < 100
    (True, True)
    """
    image = check_image(image)
    settings = {"min_size": min_size, "max_size": max_size, "min_contrast": min_contrast, "polarity": polarity,
                "certainty": certainty}
    h, w = image.shape[:2]
    if h * w <= _SPOTS_WHOLE:
        return _spots_whole(image, None, **settings)
    # A large scan tile by tile, each with a halo wider than what a speck's pixels depend on (the
    # median, the candidate, its measures and the network's view), so memory stays bounded; whether
    # the photo is black and white (which trees weigh the candidates) is the whole photo's.
    grey = _black_and_white(image)
    halo = _SPOTS_HALO + 4 * int(np.ceil(max_size))
    out = np.zeros((h, w), bool)
    try:
        for y0 in range(0, h, _SPOTS_TILE):
            for x0 in range(0, w, _SPOTS_TILE):
                y1, x1 = min(h, y0 + _SPOTS_TILE), min(w, x0 + _SPOTS_TILE)
                ya, xa, yb, xb = max(0, y0 - halo), max(0, x0 - halo), min(h, y1 + halo), min(w, x1 + halo)
                found = _spots_whole(np.ascontiguousarray(image[ya:yb, xa:xb]), grey, **settings,
                                     core=(y0 - ya, y1 - ya, x0 - xa, x1 - xa))
                out[y0:y1, x0:x1] = found[y0 - ya : y1 - ya, x0 - xa : x1 - xa]
    finally:
        speck_net.release()  # its buffers for the largest piece run are not kept for the next photo
    return out


_SPOTS_WHOLE = 4_000_000  # px: larger photos are searched for spots tile by tile
_SPOTS_TILE, _SPOTS_HALO = 1024, 64


def _black_and_white(image: np.ndarray) -> bool:
    """:func:`specks.black_and_white` of a checked photo, computed a band of rows at a time."""
    counted = 0
    for y0 in range(0, image.shape[0], _SPOTS_TILE):
        colour = to_float(to_rgb(image[y0 : y0 + _SPOTS_TILE]))
        counted += int(((colour.max(axis=2) - colour.min(axis=2)) > 0.04).sum())
    return counted / (image.shape[0] * image.shape[1]) < 0.01


def _spots_whole(image: np.ndarray, grey: bool | None, *, min_size: float, max_size: float, min_contrast: float,
           polarity: Polarity, certainty: float, core: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """:func:`spots` of a checked photo in one piece; ``grey``: whether the whole photo is black and white
    (None: this photo's own answer). With ``core`` (y0, y1, x0, x1), only that part of the answer is
    right (a tile's halo is cut off by the caller), and only the work it needs is done.

    What the answer within ``core`` needs: the trees' judgement of the candidates whose window meets
    it (the others are not measured), and the network's probability within ``margin`` px of a
    candidate and of ``core`` (``max_size`` + 3; elsewhere it is not run). The network's speck is a
    group of pixels that touches a candidate and is at most ``max_size`` + 2 px across, so a kept
    group lies within that margin of the candidate, wholly where the network was run; a group the
    margin cuts reached at least ``margin`` + 1 px from the candidate and is rejected as too large
    either way. So the answer is the same as with everything run.
    """
    h, w = image.shape[:2]
    y0, y1, x0, x1 = core or (0, h, 0, w)
    margin = int(np.ceil(max_size)) + 3
    found, grey = spot_candidates(image, min_size=min_size, max_size=max_size, min_contrast=min_contrast,
                                  polarity=polarity, grey=grey, measure_in=core)
    out = np.zeros(image.shape[:2], bool)
    candidates = np.zeros(image.shape[:2], bool)
    if found:
        judged = [(cand, t) for cand, t in found if t is not None]
        probability = _spots.speck_probability([t for _, t in judged], grey=grey) if judged else []
        for cand, _ in found:
            cy0, cy1, cx0, cx1 = cand.box
            candidates[cy0:cy1, cx0:cx1] |= cand.mask
        for (cand, t), p in zip(judged, probability):
            cy0, cy1, cx0, cx1 = cand.box
            if p >= _trees_sure(certainty) and t["saturation"] <= _MAX_SATURATION:
                out[cy0:cy1, cx0:cx1] |= cand.mask
        near = np.zeros((h, w), bool)  # within the margin of core, within the margin of a candidate
        near[max(0, y0 - margin) : y1 + margin, max(0, x0 - margin) : x1 + margin] = True
        near &= cv2.dilate(candidates.view(np.uint8), np.ones((2 * margin + 1,) * 2, np.uint8)).view(bool)
        rgb = to_uint8(to_rgb(image))
        planes = speck_net.inputs(rgb)
        out |= _net_specks(rgb, planes, speck_net.probability(planes, where=near), candidates, sure=_net_sure(certainty),
                           min_size=min_size, max_size=max_size, min_contrast=min_contrast, polarity=polarity)
    return grow(out, pixels=1)


def _trees_sure(certainty: float) -> float:
    """The boosted trees' probability that :func:`spots` takes at ``certainty``: :data:`_TREES_SURE`
    at the default (0.3), falling in proportion to 0 below it and rising in step to 1 above it."""
    if certainty <= 0.3:
        return _TREES_SURE * certainty / 0.3
    return 1 - (1 - _TREES_SURE) * (1 - certainty) / 0.7


def _net_sure(certainty: float) -> float:
    """The speck network's probability that :func:`spots` takes at ``certainty``: :data:`_NET_SURE`
    at the default (0.3); 1 minus it scales with 1 minus ``certainty``, so it never falls below
    :data:`_NET_GROUP` and a lower certainty marks a superset."""
    return 1 - (1 - _NET_SURE) * (1 - certainty) / 0.7


def _net_specks(rgb: np.ndarray, planes: np.ndarray, probability: np.ndarray, candidates: np.ndarray, *, sure: float,
                min_size: float, max_size: float, min_contrast: float, polarity: Polarity) -> np.ndarray:
    """The specks the network is sure of: its pixels of at least ``sure`` probability, in groups of
    pixels of at least :data:`_NET_GROUP` that touch one of the ``candidates`` (so they belong to
    something that stands out from its background and is no larger than ``max_size``: the network
    also likes the corners of a large light square) and keep to the candidates' limits of size,
    contrast and polarity and to :data:`_MAX_SATURATION` (the groups do not depend on ``sure``, so a
    higher ``sure`` marks a subset of what a lower one marks)."""
    out = np.zeros(rgb.shape[:2], bool)
    labels, _ = ndi.label(probability >= min(sure, _NET_GROUP), structure=_spots.EIGHT)
    touching = np.unique(labels[candidates])
    labels[~np.isin(labels, touching)] = 0
    if not labels.any():
        return out
    colour = to_float(rgb)
    difference = planes[..., 3:] / 4  # the photo less its median background (exact: 4 is a power of two)
    for k, sl in enumerate(ndi.find_objects(labels)):
        if sl is None:  # a group that touches no candidate
            continue
        own = labels[sl] == k + 1
        extent = max(sl[0].stop - sl[0].start, sl[1].stop - sl[1].start)
        if extent > max_size + 2 or extent < min_size:
            continue
        d = difference[sl][own]
        light = float(d.mean()) > 0
        if polarity != "both" and light != (polarity == "light"):
            continue
        if float((d if light else -d).max()) < min_contrast:
            continue
        mean = colour[sl][own].mean(axis=0)
        if float(mean.max() - mean.min()) > _MAX_SATURATION:
            continue
        out[sl] |= own & (probability[sl] >= sure)
    return out


def spot_candidates(
    image: np.ndarray, *, min_size: float, max_size: float, min_contrast: float, polarity: Polarity,
    grey: bool | None = None, measure_in: tuple[int, int, int, int] | None = None,
) -> tuple[list[tuple[_spots.Candidate, dict[str, float] | None]], bool]:
    """The candidates :func:`spots` weighs, each with its measures (what its models were trained on),
    and whether the photo is black and white (which model weighs them; ``grey`` says so instead of
    the photo when given). With ``measure_in`` (y0, y1, x0, x1), a candidate whose window does not
    meet that box is not measured (its measures are None)."""
    rgb = to_rgb(image)
    colour = to_float(rgb)
    window = int(2 * max_size + 1) | 1
    background = to_float(cv2.medianBlur(to_uint8(rgb), window))
    found = []
    planes = _spots.Planes(colour, background)
    for cand in _spots.candidates(colour, background, threshold=min_contrast * 2 / 3, max_size=max_size):
        if polarity != "both" and cand.light != (polarity == "light"):
            continue
        if cand.peak < min_contrast:
            continue  # too faint
        ys, xs = np.nonzero(cand.mask)
        if max(ys.max() - ys.min(), xs.max() - xs.min()) + 1 < min_size:
            continue
        if measure_in is not None:
            y0, y1, x0, x1 = cand.box
            if y1 <= measure_in[0] or y0 >= measure_in[1] or x1 <= measure_in[2] or x0 >= measure_in[3]:
                found.append((cand, None))
                continue
        found.append((cand, _spots.measure(planes, cand)))
    return found, (_spots.black_and_white(colour) if grey is None else grey)


# Dust, lint and sensor spots are grey: a speck whose mean colour spreads more than this over its
# channels is a flower, a berry or a coloured light, whatever the model says (drawn dust 0.01 to
# 0.1; glints on a red cup 0.2 to 0.3).
_MAX_SATURATION = 0.15
# The speck network's probability that spots takes at the default certainty (0.3). On the GrabCut photos
# it never trained on its pixels' F1 is 0.946 there (precision 0.978, recall 0.916), within 0.001 of
# the best (0.947 at 0.8 and 0.85); other certainties move it in step: (1 - it) scales with (1 - certainty).
_NET_SURE = 0.9
# The boosted trees' probability that spots takes at the default certainty. With the network beside them
# the trees only add what they are sure of: on the restore benchmark's CBSD68 photos, with the network
# at 0.9, spots' mean F1 is 0.822 with the trees at 0.3 (as before this network), 0.833 at 0.5, 0.841 at
# 0.7, 0.845 at 0.85 and 0.846 at 0.95, and 0.829 with the network alone; 0.85 was read off that plateau.
_TREES_SURE = 0.85
_NET_GROUP = 0.85  # the network's speck: its pixels of at least this probability


@registry.register("segment")
def text(
    image: np.ndarray,
    *,
    min_height: Annotated[int, Field(ge=4)] = 6,
    max_height: Annotated[int, Field(ge=6, le=400)] = 40,
    min_chars: Annotated[int, Field(ge=1)] = 3,
    min_contrast: Annotated[float, Field(gt=0, le=1)] = 0.2,
    placement: Placement = "anywhere",
) -> np.ndarray:
    """Find overlaid text (date stamps, captions) of one flat colour, in horizontal lines.

    Text laid over a photo is drawn in one flat colour, so its strokes pile
    up in one cell of the colour histogram while texture spreads over many.
    Among the pixels that stand out from their surroundings the densest
    colours are taken one by one; the glyph-shaped parts of each colour
    (strokes thin for their height, not solid blocks) are chained into
    lines of similar height and aligned baselines, and a line is kept when
    it has ``min_chars`` glyphs, its colour is rare in a band around it,
    and it contrasts with the pixels just outside its strokes. The mask
    covers the strokes and one pixel around them.

    Parameters
    ----------
    image : ndarray
        ``H x W`` grey, ``H x W x 3`` RGB or ``H x W x 4`` RGBA (alpha is
        ignored); uint8, uint16 or float32 in [0, 1].
    min_height : int
        Smallest glyph height in pixels (a lower-case letter of the smallest
        text to find).
    max_height : int
        Largest glyph height in pixels.
    min_chars : int
        Fewest glyphs in a line; single letters and pairs are too easily
        found in texture.
    min_contrast : float
        How much the text must stand out from what is around it, as a
        fraction of full scale.
    placement : {'anywhere', 'edges'}
        Where a line may lie. ``edges``: only where a caption or a date
        stamp is laid over a photo, in a band along the top or bottom
        edge (the gap between the line and that edge at most a tenth of
        the photo's height) and clear of the photo's edges (a line that
        the frame cuts belongs to the scene), in an ink's colour (a
        saturated colour, or near white or black, not one of a
        black-and-white print's middle greys) and not on the print's
        margin or mount (a flat band between the line and the edge that
        ends along a straight edge: a photographer's imprint, a note on
        the mount). ``retouch restore`` looks there only: signs, shop
        names and newspapers within the picture are kept.

    Returns
    -------
    ndarray of bool
        ``H x W``, True on the text.

    Notes
    -----
    Lines are taken to be close to horizontal, as date stamps and captions
    are. Text with an outline or a shadow of another colour is found by
    its fill; grow the mask (``retouch.refine``) to take the outline too.

    References
    ----------
    B. Epshtein, E. Ofek, Y. Wexler, "Detecting Text in Natural Scenes with
    Stroke Width Transform", CVPR 2010. :DOI:`10.1109/CVPR.2010.5540041`

    L. Neumann, J. Matas, "Real-Time Scene Text Localization and
    Recognition", CVPR 2012. :DOI:`10.1109/CVPR.2012.6248097`

    Examples
    --------
    >>> import numpy as np
    >>> from PIL import Image, ImageDraw, ImageFont
    >>> from retouch.segment import text
    >>> canvas = Image.new("RGB", (200, 60), (90, 110, 70))
    >>> ImageDraw.Draw(canvas).text((20, 15), "1998 07 14", fill=(255, 140, 30),
    ...                             font=ImageFont.load_default(size=24))
    >>> image = np.asarray(canvas)
    >>> mask = text(image)
    >>> bool(mask[:, :15].any()), bool(mask[15:45, 20:150].mean() > 0.1)
    (False, True)
    """
    image = check_image(image)
    rgb = to_uint8(to_rgb(image))  # in 8 bits: no float copy of a large scan
    h, w = rgb.shape[:2]
    size = max(9, int(max_height // 5) | 1)
    marked = _text.stand_out(rgb, size, min_contrast)
    out = np.zeros((h, w), bool)
    if marked.sum() < 15:
        return out
    grow_kernel = np.ones((3, 3), np.uint8)
    for mode, near, half in _text.colour_modes(rgb, marked, min_pixels=15, tolerance=0.12):
        if placement == "edges" and not _an_ink(mode):
            continue
        joined = near | (cv2.dilate(near.view(np.uint8), grow_kernel).astype(bool) & marked & half)
        del half
        found = _text.glyphs(joined, marked, min_height=min_height, max_height=max_height)
        for line in _text.lines(found, min_chars=min_chars):
            if placement == "edges" and (not _near_an_edge(line, h, w) or _on_a_margin(rgb, line)):
                continue
            mask, box, common, contrast = _text.line_tests(rgb, joined, mode, line)
            if common <= 0.03 and contrast >= min_contrast:
                out[box] |= mask
    return grow(out, pixels=1)


_EDGE_BAND = 0.1  # text(placement="edges"): the most a line's gap to the top or bottom edge, of the height
_EDGE_CLEAR = 2  # px a line keeps from every edge of the photo (a line the frame cuts is the scene's)


def _near_an_edge(line: list, h: int, w: int) -> bool:
    """Whether a line of glyphs lies where overlaid text does (see :func:`text`'s ``placement``)."""
    y0, y1 = min(g.y0 for g in line), max(g.y1 for g in line)
    x0, x1 = min(g.x0 for g in line), max(g.x1 for g in line)
    if min(y0, x0, h - y1, w - x1) < _EDGE_CLEAR:
        return False
    return min(y0, h - y1) <= _EDGE_BAND * h


# text(placement="edges"): a line's colour must be an ink laid over the print, a saturated colour (a date
# stamp's orange, a caption's red, yellow, blue or green) or near white or black, not one of the print's
# own middle greys, in which a black-and-white or faded photo shows its scene's lettering and girders
_INK_SPREAD, _INK_LIGHT, _INK_DARK = 0.2, 0.78, 0.24


def _an_ink(mode: np.ndarray) -> bool:
    """Whether a colour (in [0, 1]) could be overlaid text's ink (see :data:`_INK_SPREAD`)."""
    lo, hi = float(np.min(mode)), float(np.max(mode))
    return hi - lo >= _INK_SPREAD or lo >= _INK_LIGHT or hi <= _INK_DARK


_MARGIN_FLAT = 15  # levels of 255: the most a flat margin's pixels stray from its median (90th percentile)
_MARGIN_DEPTH = 0.1  # of the height: how far beyond the line the picture's edge is looked for
_MARGIN_STRAIGHT = 3  # px: the picture's edge within this of a straight line ...
_MARGIN_EDGE = 0.5  # ... along this share of the columns away from the line


def _on_a_margin(rgb: np.ndarray, line: list) -> bool:
    """Whether a line of glyphs near the top or bottom edge is printed or written on the print's margin
    or mount (a photographer's imprint, a note on the mount) rather than laid over the picture: the rows
    between the line and that edge, across the whole photo, are one flat colour (at least 2 of them), and
    that colour ends, away from the line's columns, along a straight edge parallel to the photo's (the
    picture's edge; a flat sky ends along the scene's outline instead)."""
    h, w = rgb.shape[:2]
    y0, y1 = min(g.y0 for g in line), max(g.y1 for g in line)
    x0, x1 = min(g.x0 for g in line), max(g.x1 for g in line)
    bottom = h - y1 <= y0
    strip = rgb[y1 + 1 :] if bottom else rgb[: max(0, y0 - 1)]
    if len(strip) < 2:
        return False
    grey = cv2.cvtColor(np.ascontiguousarray(strip), cv2.COLOR_RGB2GRAY).astype(np.int16)
    paper = np.median(grey)
    if float(np.percentile(np.abs(grey - paper), 90)) > _MARGIN_FLAT:
        return False
    depth = min(h, len(strip) + (y1 - y0) + int(_MARGIN_DEPTH * h))  # rows searched from the edge for the picture
    band = rgb[h - depth :][::-1] if bottom else rgb[:depth]  # row 0: the photo's edge
    band = cv2.medianBlur(cv2.cvtColor(np.ascontiguousarray(band), cv2.COLOR_RGB2GRAY), 3).astype(np.int16)
    off = np.abs(band - paper) > _MARGIN_FLAT
    off[: len(strip)] = False  # the margin itself
    cols = np.ones(w, bool)
    cols[max(0, x0 - (y1 - y0)) : x1 + (y1 - y0)] = False  # not the line's own columns
    found = off.any(axis=0) & cols
    if found.sum() < _MARGIN_EDGE * cols.sum():
        return False
    xs = np.flatnonzero(found)
    ds = off[:, xs].argmax(axis=0).astype(np.float64)  # how far from the photo's edge each column's picture starts
    slope, icpt = 0.0, float(np.argmax(np.bincount(ds.astype(np.int64))))  # the commonest distance ...
    for _ in range(3):  # ... then a line through the picture's edge, refitted on the columns close to it
        near = np.abs(ds - (slope * xs + icpt)) <= _MARGIN_STRAIGHT
        if near.sum() < 2:
            return False
        slope, icpt = np.polyfit(xs[near], ds[near], 1)
    near = np.abs(ds - (slope * xs + icpt)) <= _MARGIN_STRAIGHT
    return abs(slope) <= 0.05 and near.sum() >= _MARGIN_EDGE * cols.sum()


# How sure the parts' trees (damage_parts.kept) must be that a part of the network's map is damage, at
# the default certainty; chosen on the 16 photos of `benchmarks.restore_real --photos tune --scans
# 1,2,3,4` (held out of the network's and the trees' training), restore's defaults, per-photo F1 / clean
# photos marked as they are / aged and scanned, before the rule for sure parts: 0.3: 0.558 / 0.343 % /
# 0.161 %; 0.4: 0.545 / 0.253 % / 0.115 %; 0.5: 0.527 / 0.187 % / 0.101 %; 0.6: 0.515 / 0.133 % /
# 0.075 %; with it at 0.4: 0.546 (P 0.827, R 0.447) / 0.271 % / 0.123 %. Before the trees (every pixel of
# the network at 0.55): 0.514 (P 0.858, R 0.402) / 0.361 % / 0.185 %.
_DAMAGE_SURE = 0.4


@registry.register("segment")
def damage(
    image: np.ndarray,
    *,
    certainty: Annotated[float, Field(ge=0, le=1)] = _DAMAGE_SURE,
    min_pixels: Annotated[int, Field(ge=1)] = 1,
    category: DamageCategory = "all",
) -> np.ndarray:
    """Find damage as real scans show it: cracks, creases, scratches, hair, dust, dirt and foxing.

    A small U-Net (:mod:`retouch.segment.defects.damage_net`) reads the
    photo and its difference from an 11 px median and gives every pixel the
    probability of being damage and its category (thin: cracks, creases,
    scratches, hair; spots: dust, dirt, foxing; losses: torn corners, lost
    emulsion). It was trained by ``training/train_damage_net.py`` on
    realistic damage (``benchmarks/_realdamage.py``: hand-annotated film
    dust, dirt and hair from real scans 01-04, crack networks, craquelure,
    creases, torn corners, foxing and film scratches, then scanner blur,
    grain, fading and JPEG) laid over the GrabCut set's photos and DAVIS
    tune frames, never over the CBSD68 photos that
    ``benchmarks/restore_real.py`` scores on, with scene lettering,
    rules and print frames drawn in as things to leave alone, and with
    clean photos sharpened, shrunk, grained and crossed by a window's
    leads or rails as hard negatives. Large photos
    are run in tiles with a halo, so memory stays bounded.

    Parameters
    ----------
    image : ndarray
        ``H x W`` grey, ``H x W x 3`` RGB or ``H x W x 4`` RGBA (alpha is
        ignored); uint8, uint16 or float32 in [0, 1].
    certainty : float
        How sure the detector must be that a part is damage: the
        network's map is cut at a low probability (0.25) into connected
        parts, and boosted trees judge each part by how sure the network
        is, its categories, size, shape, contrast and surroundings
        (:mod:`retouch.segment.defects.damage_parts`); a part is kept when
        they give it at least ``certainty``. Lower finds more and marks
        more that is not damage. A large part the network calls a loss is
        kept only with a loss's hard edge (most of its surroundings
        unlike it, and a step to them), so a bright sky or a white shirt
        is not taken for lost emulsion, nor a part whose grey the picture
        around it goes on with (paper inside a sign's digits, a patch of
        sky between trees). A straight line beside four or more parallel
        ones (a corrugated roof, rails, girders) is not damage either.
    min_pixels : int
        Smallest group of damage pixels kept.
    category : str
        ``all``, or only the damage the network places in one category:
        ``thin`` (cracks, creases, scratches, hair), ``spots`` (dust, dirt,
        foxing) or ``losses`` (torn corners, lost emulsion).

    Returns
    -------
    ndarray of bool
        ``H x W``, True on the damage.

    Examples
    --------
    >>> import numpy as np
    >>> from retouch.segment import damage
    >>> image = np.full((80, 80, 3), 120, np.uint8)
    >>> image[30:33, 40:43] = 235  # a white speck, 3 px across
    >>> mask = damage(image)
    >>> bool(mask[31, 41]), bool(mask[5, 5])
    (True, False)
    """
    labels = damage_labels(image, certainty=certainty, min_pixels=min_pixels)
    return labels > 0 if category == "all" else labels == _damage_net.CATEGORIES.index(category) + 1


def damage_labels(image: np.ndarray, *, certainty: float = _DAMAGE_SURE, min_pixels: int = 1) -> np.ndarray:
    """What :func:`damage` finds, each pixel labelled by category (``H x W`` uint8: 0 none, 1 thin,
    2 spots, 3 losses; see :data:`damage_net.CATEGORIES <.damage_net.CATEGORIES>`)."""
    rgb = to_uint8(to_rgb(check_image(image)))
    labels = _damage_net.judged_labels(rgb, certainty)
    if min_pixels > 1:
        labels[~_damage_net.clean_up(labels > 0, 0.5, min_pixels=min_pixels)] = 0
    return labels


def found(p: np.ndarray, certainty: float = 0.55, min_pixels: int = 1) -> np.ndarray:
    """The network's pixels of damage probability ``p`` of at least ``certainty`` in groups of at least
    ``min_pixels`` (what :func:`damage` kept before its parts were judged by trees)."""
    return _damage_net.clean_up(p, certainty, min_pixels=min_pixels)
