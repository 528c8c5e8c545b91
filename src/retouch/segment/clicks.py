"""Click to mask: interactive segmentation from positive and negative clicks.

A person clicks on what should go (a *positive* click), then clicks again
where the mask went wrong: positive on what was missed, negative on what was
taken by mistake. :func:`clicks` turns a list of ``(x, y, positive)`` clicks
into a bool mask; :class:`ClickSession` keeps what it can between clicks
(working image, superpixels, their graph, the previous mask) so that one more
click costs a few small graph cuts instead of a full segmentation (about
0.1 s on a 1 MP photo, the first click under 0.2 s, measured on a loaded
2-core machine; ``benchmarks/segment_clicks.py``), which is what the web app
and the CLI use.

How it works (classical means only, no learned weights):

1. **Superpixel graph cut.** The working image (at most ``max_pixels``) is cut
   into SLIC superpixels once. For each click the labels of the superpixels
   are found by an exact min-cut (Boykov & Kolmogorov's algorithm, compiled)
   of an energy with

   - colour terms: GrabCut's colour models (Rother et al. 2004), mixtures of
     five full-covariance Gaussians in RGB for object and background, fitted
     exactly on the superpixels' colour moments, learnt from the segmentation
     itself and re-estimated ``iterations`` times (the background model
     mostly from the background around the object: beyond its box grown by
     a fifth, superpixels weigh 0.02), each fitted with a fixed
     share of the colours the user clicked on (the homogeneous region around each click),
     so one negative click on a wrongly-taken surface removes that colour
     wherever it is connected to it, and the models never drift from what
     was clicked;
   - a geodesic prior (Bai & Sapiro 2009; Criminisi et al. 2008): a
     superpixel geodesically nearer to a positive click than to a negative
     click or to the image border leans to the object, and the lean fades
     with the distance from the positive clicks (the object is compact
     around them);
   - a "flood" term: the superpixels reachable from a click along a path of
     little colour change lean hard to that click's label, so a click
     takes (or removes) the homogeneous region around it;
   - a proposal for the newest click: the part of the region it corrects
     that is geodesically (colour and edges) far nearer to it than to any
     click of the other label leans to its label;
   - a contrast-sensitive smoothness term (Boykov & Jolly 2001) summed along
     the superpixels' shared borders;
   - a thin strip: a click inside a strip of the wrong label about as wide
     as the click's distance to the other label (the rail a mask ran along,
     a missed leg) leans the whole strip to the click's label, so one
     negative click removes the rail, not a disc of it;
   - a stability term: away from the newest click the previous mask is
     kept, so one click changes the mask near where it was given; two
     guards solve again with the far labels held harder when a click would
     change more than a tenth of the mask geodesically far from it, or an
     area far larger than its error region can be (the click is given inside
     what is wrong, so that region is about as wide as the click's distance
     to the other label); and from the sixth click on, a click may change at
     most half the mask's area / sqrt(clicks - 5), else the labels are held
     beyond the disc of that area around it (a late click on a hockey stick
     or a kite line once took the ground or the sea behind it);
   - scale selection for the first solve (no previous mask): the cut is
     solved with the object held inside discs of 6 to 27 % of the image
     diagonal around the positive clicks and without a disc, and the
     candidate whose boundary follows the strongest edges (mean contrast
     along it, less 0.5 x its area fraction and 0.2 x the share of its
     boundary on the disc's rim) is kept (constrained parametric min-cuts,
     Carreira & Sminchisescu 2012), so one click on a person takes the
     person, not the wall or the sea behind them, and one click on a cup
     that fills a third of the photo still takes the cup (chosen on the
     DAVIS tuning frames);
   - hard constraints: clicked superpixels take the click's label;
   - connectivity: only object parts connected to a positive click are kept.

   A click that agrees with the previous mask where it is given (a negative
   click on what is already background) corrects nothing and leaves the mask
   as it was; it still counts in later solves.

2. **Pixel refinement.** An exact pixel min-cut re-decides only a band of
   ``band`` pixels on both sides of the superpixel boundary: GMM colour
   models learnt from the object and background rings along the boundary,
   contrast-sensitive 4-neighbour smoothness, the pixels beyond the band
   fixed; every click is a hard seed.
"""

from __future__ import annotations

import sys
import types
from typing import Annotated, Any

import cv2
import numpy as np
from pydantic import Field

from .. import registry
from ..convert import to_rgb, to_uint8
from ..validate import RetouchError, check_clicks, check_image, check_mask
from ._clicks_engine import Engine, Params
from ._grey import grey_features, is_grey

__all__ = ["clicks", "ClickSession"]


def _settings_model():
    return registry.get("segment", "clicks")


class ClickSession:
    """An interactive click-segmentation session on one image.

    Keeps the working image, its superpixels, their graph and the masks of
    earlier clicks, so that :meth:`add` costs a few small graph cuts and a band
    refinement (about 0.1 s on a 1 MP photo, the first click under 0.2 s, on a
    loaded 2-core machine; see ``benchmarks/segment_clicks.py``)
    instead of a full segmentation.

    Parameters
    ----------
    image : ndarray
        ``H x W`` grey, ``H x W x 3`` RGB or ``H x W x 4`` RGBA (alpha is
        ignored); uint8, uint16 or float32 in [0, 1]. Not modified.
    **settings
        The settings of :func:`clicks` (``max_pixels``, ``superpixel_size``,
        ``color_weight``, ``distance_weight``, ``border_weight``,
        ``smoothness``, ``stability``, ``iterations``, ``band``, ``refine``),
        checked by the same settings model.

    Attributes
    ----------
    clicks : list of (int, int, bool)
        The clicks so far, ``(x, y, positive)`` in image pixels, oldest first.
    mask : ndarray of bool
        ``H x W``, the current mask (all False before the first click).
    shape : tuple of int
        ``(H, W)`` of the image.

    Examples
    --------
    >>> from skimage import data
    >>> from retouch.segment.clicks import ClickSession
    >>> s = ClickSession(data.coffee())
    >>> m = s.add(300, 200)              # positive click on the cup
    >>> m = s.add(80, 350, False)        # negative click on the table
    >>> len(s.clicks), s.mask.shape, s.mask.dtype
    (2, (400, 600), dtype('bool'))
    >>> _ = s.undo(); len(s.clicks)
    1
    """

    def __init__(self, image: np.ndarray, **settings: Any):
        image = check_image(image)
        if "clicks" in settings or "previous" in settings:
            raise RetouchError("ClickSession takes clicks through add(x, y, positive), not as a setting")
        self._settings = _settings_model().validate({**settings, "clicks": []})
        kw = self._settings.kwargs()
        kw.pop("clicks")
        self.shape = image.shape[:2]
        h, w = self.shape
        if min(h, w) < 2:
            raise RetouchError(
                f"clicks needs an image at least 2 pixels high and wide, this one is {w}x{h}; "
                "select on a line of pixels with a box or a colour instead"
            )
        rgb = to_uint8(to_rgb(image))
        scale = min(1.0, float(np.sqrt(kw["max_pixels"] / float(h * w))))
        if scale < 1.0:
            size = (max(2, int(round(w * scale))), max(2, int(round(h * scale))))
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        self._sx = rgb.shape[1] / w
        self._sy = rgb.shape[0] / h
        params = Params(**{k: v for k, v in kw.items() if k != "max_pixels"})
        # a grey photo: the colour models learn luminance and texture, as grabcut does
        model = grey_features(rgb[..., 1]) if is_grey(rgb) else None
        self._engine = Engine(np.ascontiguousarray(rgb), params, model)
        self.clicks: list[tuple[int, int, bool]] = []
        # per click: (object fraction of each superpixel, working-resolution mask, superpixel cut)
        self._history: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.mask = np.zeros(self.shape, bool)

    # -------------------------------------------------------------- public
    def add(self, x: float, y: float, positive: bool = True) -> np.ndarray:
        """Add one click at ``(x, y)`` (image pixels) and return the new mask.

        A positive click marks the object, a negative one the background. The
        mask changes near the click and little elsewhere. A click outside the
        image raises :class:`~retouch.RetouchError`.
        """
        (cx, cy, cp), = check_clicks([(x, y, positive)], self.shape)
        self.clicks.append((cx, cy, cp))
        prev = self._history[-1] if self._history else None
        agrees = prev is not None and bool(self.mask[cy, cx]) == cp  # the shown mask is already right there
        self._history.append(self._solve(self.clicks, prev, newest=(cx, cy), agrees=agrees))
        work = self._history[-1][1]
        self.mask = self._upsample(work)
        return self.mask.copy()

    def undo(self) -> np.ndarray:
        """Forget the last click and return the mask as it was before it."""
        if self.clicks:
            self.clicks.pop()
            self._history.pop()
        self.mask = self._upsample(self._history[-1][1]) if self._history else np.zeros(self.shape, bool)
        return self.mask.copy()

    def reset(self) -> np.ndarray:
        """Forget every click (the precomputed features stay) and return an empty mask."""
        self.clicks.clear()
        self._history.clear()
        self.mask = np.zeros(self.shape, bool)
        return self.mask.copy()

    def segment(self, clicks: list[tuple[float, float, bool]], previous: np.ndarray | None = None) -> np.ndarray:
        """Segment from a whole list of clicks at once, without touching the session's state.

        With ``previous`` (the mask before the last click) the mask is kept
        away from the last click, as :meth:`add` does.
        """
        cl = check_clicks(clicks, self.shape)
        prev = None
        if previous is not None:
            previous = check_mask(previous, self.shape, "previous")
            work_prev = self._downsample(previous)
            sp_prev = self._sp_fraction(work_prev)
            prev = (sp_prev, work_prev)
        agrees = previous is not None and bool(previous[cl[-1][1], cl[-1][0]]) == cl[-1][2]
        work = self._solve(cl, prev, newest=cl[-1][:2] if prev is not None else None, agrees=agrees)[1]
        return self._upsample(work)

    # -------------------------------------------------------------- internals
    def _to_work(self, cl: list[tuple[int, int, bool]]) -> list[tuple[int, int, bool]]:
        e = self._engine
        return [(min(e.w - 1, int((x + 0.5) * self._sx)), min(e.h - 1, int((y + 0.5) * self._sy)), p) for x, y, p in cl]

    def _solve(self, cl, prev, newest, agrees=False):
        e = self._engine
        wc = self._to_work(cl)
        wn = self._to_work([(newest[0], newest[1], True)])[0][:2] if newest is not None else None
        if prev is not None and agrees:
            # The newest click agrees with the mask where it was given (a negative click on
            # what is already background, a positive one on what is already taken): it
            # corrects nothing, so the mask stays as it was. Re-solving would let the colour
            # models, retrained with the click's colours, move the boundary far from the
            # click (measured on skimage's coffee: a negative click on the table 100 px
            # from the cup removed 645 to 1,545 cup pixels at the cup's far side). The click
            # still counts in every later solve (hard label and colour samples).
            return (prev[0], e._stamp(prev[1], wc), *prev[2:])
        sp_prev = prev[0].astype(np.float64) if prev is not None else None
        sp_mask = e.superpixel_mask(wc, sp_prev, prev[1] if prev is not None else None, wn)
        if prev is not None and len(prev) > 2:
            work = e.refine(sp_mask, wc, prev_work=prev[1], prev_sp=prev[2], newest=wn)
        else:
            work = e.refine(sp_mask, wc)
        work = e.keep_clicked(work, wc)
        return self._sp_fraction(work), work, sp_mask

    def _sp_fraction(self, work: np.ndarray) -> np.ndarray:
        e = self._engine
        return np.bincount(e.labels.ravel(), work.ravel().astype(np.float64), e.n) / e.size

    def _downsample(self, mask: np.ndarray) -> np.ndarray:
        e = self._engine
        if mask.shape == (e.h, e.w):
            return mask.copy()
        return cv2.resize(mask.astype(np.float32), (e.w, e.h), interpolation=cv2.INTER_AREA) > 0.5

    def _upsample(self, work: np.ndarray) -> np.ndarray:
        h, w = self.shape
        if work.shape == (h, w):
            out = work.copy()
        else:
            soft = cv2.resize(work.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
            out = soft > 0.5
        for x, y, p in self.clicks:
            out[y, x] = p
        return out


@registry.register("segment")
def clicks(
    image: np.ndarray,
    *,
    clicks: list[tuple[float, float, bool]],
    previous: np.ndarray | None = None,
    max_pixels: Annotated[int, Field(ge=10_000, le=50_000_000)] = 400_000,
    superpixel_size: Annotated[int, Field(ge=4, le=64)] = 8,
    color_weight: Annotated[float, Field(ge=0, le=100)] = 1.0,
    distance_weight: Annotated[float, Field(ge=0, le=100)] = 1.0,
    border_weight: Annotated[float, Field(ge=0, le=1)] = 0.5,
    smoothness: Annotated[float, Field(ge=0, le=100)] = 2.0,
    stability: Annotated[float, Field(ge=0, le=100)] = 0.25,
    iterations: Annotated[int, Field(ge=1, le=20)] = 3,
    band: Annotated[int, Field(ge=1, le=64)] = 6,
    refine: bool = True,
) -> np.ndarray:
    """Mask from positive and negative clicks (superpixel graph cut + pixel band refinement).

    Call it as ``retouch.segment.clicks(image, clicks=[(x, y, True), ...])``.
    For many clicks on one image use :class:`ClickSession`, which keeps the
    precomputed features between clicks.

    Parameters
    ----------
    image : ndarray
        ``H x W`` grey, ``H x W x 3`` RGB or ``H x W x 4`` RGBA; uint8, uint16
        or float32 in [0, 1]. Not modified.
    clicks : list of (float, float, bool)
        The clicks ``(x, y, positive)`` in pixels: positive on the object,
        negative on the background. At least one; all inside the image.
    previous : ndarray of bool, optional
        ``H x W``, the mask before the last click; when given, the result
        keeps it away from the last click (what an interactive session does).
    max_pixels : int
        Working resolution: larger images are downscaled to this many pixels.
    superpixel_size : int
        SLIC superpixel size in working pixels.
    color_weight : float
        Weight of the learnt colour models (on a grey photo, whose models learn
        luminance and texture, 0.6 of it).
    distance_weight : float
        Weight of the geodesic prior (object near positive clicks).
    border_weight : float
        How much the image border counts as background (0: not at all, 1: as a negative click).
    smoothness : float
        Weight of the contrast-sensitive smoothness term.
    stability : float
        Weight that keeps the previous mask away from the newest click (higher: each
        click changes less far from where it was given); a negative click uses
        0.6 of it.
    iterations : int
        Colour-model re-estimations per click (GrabCut-style).
    band : int
        Half-width in working pixels of the band that the pixel refinement re-decides.
    refine : bool
        Refine the superpixel boundary to pixels (a pixel min-cut in the band).

    Returns
    -------
    ndarray of bool
        ``H x W``, True on the selected object.

    Raises
    ------
    RetouchError
        When a click lies outside the image, the click list is empty, or the
        image or ``previous`` is not valid.

    References
    ----------
    C. Rother, V. Kolmogorov, A. Blake, "GrabCut: interactive foreground
    extraction using iterated graph cuts", ACM TOG 23(3), 2004.
    :DOI:`10.1145/1015706.1015720`

    Y. Boykov, M.-P. Jolly, "Interactive graph cuts for optimal boundary and
    region segmentation of objects in N-D images", ICCV 2001.
    :DOI:`10.1109/ICCV.2001.937505`

    X. Bai, G. Sapiro, "Geodesic matting: a framework for fast interactive
    image and video segmentation and matting", IJCV 82, 2009.
    :DOI:`10.1007/s11263-008-0191-z`

    J. Carreira, C. Sminchisescu, "CPMC: automatic object segmentation using
    constrained parametric min-cuts", IEEE TPAMI 34(7), 2012.
    :DOI:`10.1109/TPAMI.2011.231`

    R. Achanta et al., "SLIC superpixels compared to state-of-the-art
    superpixel methods", IEEE TPAMI 34(11), 2012. :DOI:`10.1109/TPAMI.2012.120`

    K. Sofiiuk, I. Petrov, A. Konushin, "Reviving iterative training with mask
    guidance for interactive segmentation" (RITM, the NoC protocol of the
    benchmark), 2021. :DOI:`10.48550/arXiv.2102.06583`

    Examples
    --------
    >>> from skimage import data
    >>> from retouch.segment import clicks
    >>> image = data.coffee()
    >>> mask = clicks(image, clicks=[(300, 200, True)])
    >>> mask.shape, mask.dtype, bool(mask[200, 300])
    ((400, 600), dtype('bool'), True)
    """
    image = check_image(image)
    cl = check_clicks(clicks, image.shape)
    if previous is not None:
        previous = check_mask(previous, image.shape, "previous")
    settings = dict(
        max_pixels=max_pixels, superpixel_size=superpixel_size, color_weight=color_weight,
        distance_weight=distance_weight, border_weight=border_weight, smoothness=smoothness,
        stability=stability, iterations=iterations, band=band, refine=refine,
    )
    return ClickSession(image, **settings).segment(cl, previous)


# ``from .clicks import clicks`` in the package makes ``retouch.segment.clicks``
# the function; let ``retouch.segment.clicks.ClickSession`` still work.
clicks.ClickSession = ClickSession  # type: ignore[attr-defined]


class _CallableModule(types.ModuleType):
    """This module, callable as :func:`clicks`.

    ``retouch.segment.clicks`` names both this module and the function; when
    an import machinery binds the module to that name (doctest collection,
    ``importlib.reload``), ``retouch.segment.clicks(image, clicks=...)`` still works.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        return clicks(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
