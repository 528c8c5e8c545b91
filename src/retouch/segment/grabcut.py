"""GrabCut: an object from a box, a rough mask, or foreground / background marks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import cv2
import numpy as np
from pydantic import Field

from .. import registry
from ..convert import to_bgr, to_rgb, to_uint8
from ..validate import RetouchError, check_box, check_image, check_mask, check_number, check_point
from ._grey import grey_features, grey_reach, is_grey

__all__ = ["grabcut"]

_GMM_COMPONENTS = 5  # OpenCV's fixed number of Gaussians per model
_GREY_CONTEXT = 2.5  # a grey photo's crop takes this many times ``context`` around the box
_EMPTY_BOX = 0.01  # a cut that keeps less than this share of its box gives the box itself
# A box whose cut near it keeps nothing is cut again on the whole photo; that cut is kept only
# when it keeps at least this share of the box, else the box is given. On DAVIS's tuning frames
# (000-171) the smallest share of its box an object fills is 0.110, and the re-cuts there keep
# either nothing or 58-73 % of the box (colour and grey), so any value from 0.01 to 0.58 gives
# the same tuning figures; a re-cut keeping less than any tuning object is a sliver (grey
# held-out frames 288 and 292 kept 4 % and 3 % of the frame's object, IoU 0.04 and 0.03).
_RECUT_KEEP = 0.1


def _disks(shape: tuple[int, int], points: list[tuple[int, int]], radius: int) -> np.ndarray:
    out = np.zeros(shape, np.uint8)
    for x, y in points:
        cv2.circle(out, (int(x), int(y)), int(radius), 1, thickness=-1)
    return out.astype(bool)


def _features(image: np.ndarray, color_space: str, sigma: float) -> tuple[np.ndarray, bool]:
    """The 8-bit 3-channel image OpenCV's GrabCut works on, and whether the photo is grey.

    Colour (Lab or BGR) for a colour photo; luminance and texture
    (:func:`._grey.grey_features`) for a grey one, ``H x W`` or RGB with equal channels.
    """
    rgb = to_uint8(to_rgb(image))
    if is_grey(rgb):
        grey = rgb[..., 1]
        if sigma > 0:
            grey = cv2.GaussianBlur(grey, (0, 0), sigma)
        return grey_features(grey), True
    if sigma > 0:
        rgb = cv2.GaussianBlur(rgb, (0, 0), sigma)
    if color_space == "lab":
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab), False
    return np.ascontiguousarray(to_bgr(rgb)), False


def _drop_small_parts(selected: np.ndarray, fraction: float) -> np.ndarray:
    """Drop 8-connected parts smaller than ``fraction`` of the largest part."""
    if fraction <= 0:
        return selected
    n, labels, stats, _ = cv2.connectedComponentsWithStats(selected.view(np.uint8), connectivity=8)
    if n <= 2:
        return selected
    areas = stats[:, cv2.CC_STAT_AREA].copy()
    areas[0] = 0
    keep = areas >= fraction * areas.max()
    keep[0] = False
    return keep[labels]


def _cut(features: np.ndarray, state: np.ndarray, iterations: int, seed: int) -> None:
    """cv2.grabCut from an initial ``state`` (GC_* labels), updated in place; seeded."""
    bgd_model = np.zeros((1, 13 * _GMM_COMPONENTS), np.float64)
    fgd_model = np.zeros((1, 13 * _GMM_COMPONENTS), np.float64)
    cv2.setRNGSeed(int(seed))
    cv2.grabCut(features, state, None, bgd_model, fgd_model, iterations, cv2.GC_INIT_WITH_MASK)


def _shrink_state(state: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a GC_* label map; a small pixel touched by a hard label keeps it (foreground first)."""
    sw, sh = size
    probable_fg = cv2.resize((state == cv2.GC_PR_FGD).astype(np.float32), (sw, sh), interpolation=cv2.INTER_AREA)
    small = np.where(probable_fg >= 0.5, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
    for label in (cv2.GC_BGD, cv2.GC_FGD):  # foreground marks win, as at full size
        # INTER_AREA averages every covered pixel: a one-pixel stroke survives
        touched = cv2.resize((state == label).astype(np.float32), (sw, sh), interpolation=cv2.INTER_AREA) > 0
        small[touched] = label
    return small


def _band_recut(features: np.ndarray, rough: np.ndarray, state: np.ndarray, reach: int, seed: int) -> np.ndarray:
    """Cut again only a band of ``reach`` pixels either side of the outline of ``rough``.

    Pixels beyond the band keep their label as hard labels; marks and the
    box (the hard labels of ``state``) stay as they are.
    """
    h, w = state.shape
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    r8 = rough.view(np.uint8)
    band = cv2.dilate(r8, kernel).astype(bool) & ~cv2.erode(r8, kernel).astype(bool)
    known = (state == cv2.GC_FGD) | (state == cv2.GC_BGD)
    band &= ~known
    if not band.any():
        return (rough & (state != cv2.GC_BGD)) | (state == cv2.GC_FGD)
    # recut on the crop around the band, with hard labels around it
    ys, xs = np.nonzero(band)
    m = 2 * reach
    y0, y1 = max(0, ys.min() - m), min(h, ys.max() + 1 + m)
    x0, x1 = max(0, xs.min() - m), min(w, xs.max() + 1 + m)
    crop = np.where(rough, cv2.GC_FGD, cv2.GC_BGD).astype(np.uint8)
    crop[band] = np.where(rough[band], cv2.GC_PR_FGD, cv2.GC_PR_BGD)
    crop[known] = state[known]
    sub = np.ascontiguousarray(crop[y0:y1, x0:x1])
    fg = np.isin(sub, (cv2.GC_FGD, cv2.GC_PR_FGD))
    if _GMM_COMPONENTS <= np.count_nonzero(fg) <= fg.size - _GMM_COMPONENTS:
        _cut(np.ascontiguousarray(features[y0:y1, x0:x1]), sub, 2, seed)
        crop[y0:y1, x0:x1] = sub
    return (crop == cv2.GC_FGD) | (crop == cv2.GC_PR_FGD)


def _rim_start(image: np.ndarray, inside: np.ndarray, reach: float, pixels: int = 60_000) -> np.ndarray:
    """The part of the box GrabCut should start from as probably the object.

    Superpixels inside the box that a path of little colour change joins to
    the outside within ``reach`` times the median such distance of the box's
    superpixels start as probable background: background that runs into the
    box from around it (the floor under a person, the sea around a boat) is
    then not in the object's first colour model (a geodesic prior, Bai &
    Sapiro 2009; Criminisi et al. 2008). Computed on the photo downscaled to
    about ``pixels`` pixels, on luminance and texture for a grey photo.
    """
    from scipy.sparse.csgraph import dijkstra

    from ._clicks_engine import Engine, Params

    h, w = inside.shape
    rgb = to_uint8(to_rgb(image))
    scale = min(1.0, float(np.sqrt(pixels / float(h * w))))
    size = (max(2, round(w * scale)), max(2, round(h * scale)))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if scale < 1.0 else rgb
    model = grey_features(small[..., 1]) if is_grey(small) else None
    e = Engine(np.ascontiguousarray(small), Params(superpixel_size=6), model)
    box_small = cv2.resize(inside.astype(np.float32), size, interpolation=cv2.INTER_AREA) if scale < 1.0 else inside.astype(np.float32)
    in_sp = np.bincount(e.labels.ravel(), box_small.ravel(), e.n) / e.size > 0.5
    if in_sp.all() or not in_sp.any():
        return inside
    d = dijkstra(e.geo, directed=False, indices=np.nonzero(~in_sp)[0], min_only=True)
    far = in_sp & (d > reach * (float(np.median(d[in_sp])) + 1e-6))
    start = cv2.resize(far[e.labels].astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
    start &= inside
    return start if np.count_nonzero(start) >= 0.05 * np.count_nonzero(inside) else inside


def _cut_large(features: np.ndarray, state: np.ndarray, iterations: int, scale: float, seed: int) -> np.ndarray:
    """Cut at ``scale``, then recut a band along the upsampled outline at full size."""
    h, w = state.shape
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    small_features = cv2.resize(features, (sw, sh), interpolation=cv2.INTER_AREA)
    small_state = _shrink_state(state, (sw, sh))
    _cut(small_features, small_state, iterations, seed)
    small_sel = ((small_state == cv2.GC_FGD) | (small_state == cv2.GC_PR_FGD)).astype(np.float32)
    rough = cv2.resize(small_sel, (w, h), interpolation=cv2.INTER_LINEAR) >= 0.5
    # the band where the coarse outline may be off: a few coarse pixels wide
    return _band_recut(features, rough, state, int(np.ceil(2.0 / scale)) + 1, seed)


@registry.register("segment")
def grabcut(
    image: np.ndarray,
    *,
    box: tuple[float, float, float, float] | None = None,
    mask: np.ndarray | None = None,
    foreground: list[tuple[float, float]] = [],  # noqa: B006 - validated into a new list
    background: list[tuple[float, float]] = [],  # noqa: B006
    foreground_mask: np.ndarray | None = None,
    background_mask: np.ndarray | None = None,
    radius: Annotated[int, Field(ge=0, le=200)] = 5,
    iterations: Annotated[int, Field(ge=1, le=100)] = 5,
    color_space: Literal["lab", "rgb"] = "lab",
    sigma: Annotated[float, Field(ge=0, le=10)] = 0.0,
    min_part: Annotated[float, Field(ge=0, le=1)] = 0.05,
    work_size: Annotated[int, Field(ge=64)] | None = 1024,
    seed: Annotated[int, Field(ge=0)] = 0,
    rim: Annotated[float, Field(ge=0, le=10)] = 0.7,
    context: Annotated[float, Field(ge=0, le=100)] | None = 0.2,
) -> np.ndarray:
    """Cut an object out with GrabCut from a box, a rough mask or marks.

    Parameters
    ----------
    image : ndarray
        ``H x W`` grey, ``H x W x 3`` RGB or ``H x W x 4`` RGBA (alpha is
        ignored); uint8, uint16 or float32 in [0, 1].
    box : (x, y, width, height), optional
        A box around the object: everything outside it is background, the
        inside is probably the object. A box reaching past the border is
        clipped to the image.
    mask : ndarray of bool, optional
        ``H x W`` rough selection (True = probably the object), for example a
        previous result to refine; with a box too, only its part inside the
        box counts.
    foreground : list of (x, y)
        Points that are surely the object, drawn as disks of ``radius``.
    background : list of (x, y)
        Points that are surely background, drawn as disks of ``radius``.
    foreground_mask : ndarray of bool, optional
        ``H x W`` strokes that are surely the object (a painted scribble).
    background_mask : ndarray of bool, optional
        ``H x W`` strokes that are surely background.
    radius : int
        Radius in pixels of the disk drawn around each foreground or
        background point (0: the single pixel).
    iterations : int
        Rounds of GrabCut (refit the colour models, cut again).
    color_space : {'lab', 'rgb'}
        Colours the models and the edge weights are computed in: 8-bit CIE
        Lab or RGB (plain OpenCV). On the GrabCut set both have the same
        mean error; Lab has the lower median (typical images cut better).
    sigma : float
        Standard deviation in pixels of a Gaussian blur before cutting, to
        ignore noise and fine texture; 0 keeps the pixels as they are.
    min_part : float
        After the cut, drop object parts smaller than this fraction of the
        largest part (0 keeps every part); marked foreground always stays.
    work_size : int, optional
        Longest side in pixels GrabCut works at: a larger image is cut at
        this size, then only a band along the outline is cut again at full
        resolution (a 12-megapixel photo in seconds instead of minutes).
        None always works at full resolution.
    seed : int
        Seed of OpenCV's random generator for the k-means start of the colour
        models: the same seed gives the same mask.
    rim : float
        With a box (and no ``mask``): the part of the box joined to the
        outside by a path of little colour change, within ``rim`` times the
        box's median such distance, starts as probable background instead of
        probably the object (0: the whole box starts as the object, as in
        OpenCV).
    context : float, optional
        With a box: GrabCut sees only the box grown by this fraction of its
        width and height on each side (and the marks), so the background
        model learns the background around the object, not the whole photo's
        (everything beyond is background anyway); a grey photo gets 2.5
        times as much. None: the whole photo, as in OpenCV.

    Returns
    -------
    ndarray of bool
        ``H x W`` mask of the object. Foreground marks are always in it and
        background marks and pixels outside the box never are. When the cut
        keeps less than 1 % of a box (given without ``mask``), the box is cut
        again with the whole photo as its surroundings (the object's colours
        may be common right around the box, as a white wake beside a white
        boat), and if that keeps less than a tenth of the box (a sliver) the
        box itself is returned, less the background marks: a box drawn inside an object has the
        object's colours all around it, so GrabCut can find no boundary in
        it, and the object's part inside the box is the box.

    Raises
    ------
    RetouchError
        If no box, mask or foreground mark is given; if the box or a point
        is outside the image, or a mask has the wrong size; if there is no
        background left to learn from (a box covering the whole image and no
        background marks) or no object at all.

    Notes
    -----
    A grey photo (``H x W``, or RGB whose channels are nearly equal) is cut
    on its luminance, local texture energy and a wider local mean instead of
    colour, as colour says nothing there.

    Uses ``cv2.grabCut`` (5 Gaussians per colour model, 8-bit colours) with
    OpenCV's random generator seeded (``seed``) for repeatable results; on
    hard images a different seed or a box a pixel larger can change the
    result a lot, as with OpenCV itself. Without a box
    or mask, every unmarked pixel starts as probable background, so the
    foreground marks must cover enough of the object's colours.

    ``rim`` and ``iterations`` were chosen on DAVIS 345's tuning frames
    (000-171, every 4th: 43 frames, a box 5 % larger than the object;
    ``python -m benchmarks.segment_box --set davis --split tune --every 4``):
    plain ``cv2.grabCut`` misclassifies 4.05 % of the pixels there, Lab with
    10 iterations and no rim 3.75 % (0.93x) in 1.9 times its time, with the
    rim start 3.62 % (0.89x) in 1.7 times, and with 5 iterations 3.59 %
    (0.89x) in 0.94 times; ``context`` on every 2nd tuning frame (86): 3.69 %
    on the whole photo, 3.16 % with 0.2 (0.1 to 0.25 within noise, 0.5 3.30 %
    and 1.0 3.68 % on the 43). GrabCut is unstable on such photos: a start that
    differs on 1 % of the box moved one frame's error from 18 % to 8 %. Lab
    and ``min_part`` were chosen earlier on the GrabCut set (Lab lowers the
    median error there; pre-smoothing, 20 iterations, a plain
    probable-background strip inside the box, filling holes and keeping only
    the largest part did not help).

    References
    ----------
    C. Rother, V. Kolmogorov, A. Blake, "GrabCut: Interactive Foreground
    Extraction using Iterated Graph Cuts", ACM Transactions on Graphics
    23(3), SIGGRAPH 2004. :DOI:`10.1145/1015706.1015720`

    Examples
    --------
    >>> import numpy as np
    >>> from retouch.segment.grabcut import grabcut
    >>> image = np.full((60, 80, 3), (30, 120, 40), np.uint8)  # green
    >>> image[20:40, 30:50] = (220, 40, 40)  # a red square
    >>> mask = grabcut(image, box=(25, 15, 30, 30), iterations=2)
    >>> int(mask.sum()), bool(mask[30, 40])
    (400, True)
    """
    image = check_image(image)
    h, w = image.shape[:2]
    n_iter = int(check_number(iterations, "iterations", low=1, integer=True))
    r = int(check_number(radius, "radius", low=0, integer=True))
    sig = check_number(sigma, "sigma", low=0)
    part = check_number(min_part, "min_part", low=0, high=1)
    rim = check_number(rim, "rim", low=0)
    if color_space not in ("lab", "rgb"):
        raise RetouchError(f"color_space must be one of lab, rgb; got {color_space!r}")
    fg_pts = [check_point(p, image.shape, f"foreground[{i}]") for i, p in enumerate(foreground or [])]
    bg_pts = [check_point(p, image.shape, f"background[{i}]") for i, p in enumerate(background or [])]
    fg_marks = _disks((h, w), fg_pts, r)
    bg_marks = _disks((h, w), bg_pts, r)
    if foreground_mask is not None:
        fg_marks |= check_mask(foreground_mask, image.shape, "foreground_mask")
    if background_mask is not None:
        bg_marks |= check_mask(background_mask, image.shape, "background_mask")
    rough = None if mask is None else check_mask(mask, image.shape, "mask")
    if box is None and rough is None and not fg_marks.any():
        raise RetouchError("grabcut needs a box, a mask or foreground marks to know the object; give box=(x, y, w, h)")
    checked = None if box is None else check_box(box, image.shape)
    settings = _Settings(n_iter, color_space, sig, part, work_size, int(seed), rim)

    def kept(selected: np.ndarray) -> float:
        """The share of the box a mask keeps."""
        x, y, bw, bh = checked
        return np.count_nonzero(selected[y : y + bh, x : x + bw]) / float(bw * bh)

    least = _EMPTY_BOX  # a cut keeping less of the box than this gives the box itself
    if checked is not None and context is not None:
        # GrabCut on the box and its surroundings only: the background model
        # learns the background near the object (DAVIS frames 000-171, every
        # 2nd: error 3.16 % with 0.2, 3.69 % on the whole photo; grey, whose
        # texture planes need more background to tell it: 3.91 % with 0.5,
        # 4.20 % on the whole photo, and 0.2 worse than the whole photo)
        ctx = check_number(context, "context", low=0)
        if is_grey(to_uint8(to_rgb(image))):
            ctx *= _GREY_CONTEXT
        x, y, bw, bh = checked
        # at least 16 pixels of background either side (the rim start needs some)
        mx, my = max(16, int(np.ceil(ctx * bw))), max(16, int(np.ceil(ctx * bh)))
        x0, y0, x1, y1 = max(0, x - mx), max(0, y - my), min(w, x + bw + mx), min(h, y + bh + my)
        marks = fg_marks | bg_marks
        if marks.any():
            ys, xs = np.nonzero(marks)
            x0, y0, x1, y1 = min(x0, int(xs.min())), min(y0, int(ys.min())), max(x1, int(xs.max()) + 1), max(y1, int(ys.max()) + 1)
        if (x1 - x0) * (y1 - y0) < h * w:
            crop = (slice(y0, y1), slice(x0, x1))
            sub = _segment(
                np.ascontiguousarray(image[crop]), (x - x0, y - y0, bw, bh),
                None if rough is None else np.ascontiguousarray(rough[crop]),
                np.ascontiguousarray(fg_marks[crop]), np.ascontiguousarray(bg_marks[crop]), settings,
            )
            out = np.zeros((h, w), bool)
            out[crop] = sub
            out |= fg_marks
            if rough is not None or kept(out) >= _EMPTY_BOX:
                return out
            # The cut near the box kept (almost) nothing: the object's colours are
            # common right around the box (the white wake beside a white boat,
            # DAVIS tuning frame 016: the whole box, 14.3 % of the frame wrong).
            # Cut again on the whole photo, whose background model holds them
            # less (8.9 %), and keep that cut only if it is more than a sliver.
            least = _RECUT_KEEP
    selected = _segment(image, checked, rough, fg_marks, bg_marks, settings)
    if checked is not None and rough is None and kept(selected) < least:
        # GrabCut found (almost) nothing in the box: the colours inside it are
        # all outside it too, as when the box is drawn inside an object (50 x 50
        # on chelsea's fur). What the user marked is then the box's content.
        selected = _box_mask((h, w), checked) & ~bg_marks
    return selected | fg_marks


def _box_mask(shape: tuple[int, int], box: tuple[int, int, int, int]) -> np.ndarray:
    x, y, bw, bh = box
    inside = np.zeros(shape, bool)
    inside[y : y + bh, x : x + bw] = True
    return inside


@dataclass(frozen=True)
class _Settings:
    """The checked settings of :func:`grabcut` that the cut itself uses."""

    iterations: int
    color_space: str
    sigma: float
    min_part: float
    work_size: int | None
    seed: int
    rim: float


def _segment(
    image: np.ndarray,
    box: tuple[int, int, int, int] | None,
    rough: np.ndarray | None,
    fg_marks: np.ndarray,
    bg_marks: np.ndarray,
    settings: _Settings,
) -> np.ndarray:
    """The cut of :func:`grabcut` on checked inputs (a clipped box, bool marks): no box filling, and
    the foreground marks are in it only where the cut kept them (the caller adds them)."""
    h, w = image.shape[:2]
    n_iter, color_space, sig, part = settings.iterations, settings.color_space, settings.sigma, settings.min_part
    work_size, seed, rim = settings.work_size, settings.seed, settings.rim
    state = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    if rough is not None:
        state[rough] = cv2.GC_PR_FGD
    if box is not None:
        inside = _box_mask((h, w), box)
        if rough is None:
            state[inside] = cv2.GC_PR_BGD
            state[_rim_start(image, inside, rim) if rim > 0 else inside] = cv2.GC_PR_FGD
        state[~inside] = cv2.GC_BGD
    state[bg_marks] = cv2.GC_BGD
    state[fg_marks] = cv2.GC_FGD  # a pixel marked both ways is foreground

    is_fg = (state == cv2.GC_FGD) | (state == cv2.GC_PR_FGD)
    n_fg = int(np.count_nonzero(is_fg))
    if n_fg == 0:
        raise RetouchError("nothing is marked as the object: the mask is empty inside the box; give a box or foreground marks")
    if h * w - n_fg < _GMM_COMPONENTS:
        raise RetouchError(
            "nothing is left as background to learn from (the box or mask covers the whole image); "
            "leave a margin around the object or add background marks"
        )
    if n_fg < _GMM_COMPONENTS:
        raise RetouchError(
            f"GrabCut needs at least {_GMM_COMPONENTS} object pixels to learn colours from, got {n_fg}; "
            "give a larger box or mask, or more foreground marks"
        )

    features, grey = _features(image, color_space, sig)
    scale = 1.0 if work_size is None else min(1.0, int(work_size) / max(h, w))
    given = state.copy()
    if scale < 1.0:
        selected = _cut_large(features, state, n_iter, scale, int(seed))
    else:
        _cut(features, state, n_iter, int(seed))
        selected = (state == cv2.GC_FGD) | (state == cv2.GC_PR_FGD)
    if grey:
        # the texture planes blur the outline by a few pixels (a halo that the
        # object takes): cut a band along it again on the luminance alone
        lum = np.ascontiguousarray(np.repeat(features[..., :1], 3, axis=2))
        selected = _band_recut(lum, selected, given, grey_reach(), int(seed))
    return _drop_small_parts(selected, part)
