"""Mask refinement: morphology that turns a rough selection into a clean mask.

Every operation takes a bool ``H x W`` mask (True = fill) and returns a new
bool mask; :func:`feather` returns a float32 soft mask in [0, 1] for blending
the fill back (see :func:`retouch.inpaint.blend`). Distances are Euclidean, so
growing by 5 px gives a round, not a square, outline.

>>> import numpy as np
>>> from retouch import refine
>>> m = np.zeros((9, 9), bool); m[4, 4] = True
>>> int(refine.grow(m, pixels=2).sum())
13
"""

from __future__ import annotations

from typing import Annotated, Literal

import cv2
import numpy as np
from pydantic import Field
from scipy import ndimage as ndi

from . import registry
from .validate import RetouchError, check_mask, check_same_size

__all__ = [
    "grow",
    "shrink",
    "opening",
    "closing",
    "fill_holes",
    "remove_small",
    "keep_largest",
    "invert",
    "combine",
    "feather",
    "smooth",
]

Pixels = Annotated[float, Field(ge=0, le=10000)]


def _distance_outside(mask: np.ndarray) -> np.ndarray:
    """Euclidean distance of each pixel to the nearest True pixel (0 on it)."""
    if not mask.any():
        return np.full(mask.shape, np.inf, np.float32)
    return cv2.distanceTransform((~mask).view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def _distance_inside(mask: np.ndarray) -> np.ndarray:
    """Euclidean distance of each True pixel to the nearest False pixel (0 off the mask).

    The image border does not count as False: a mask touching the border is
    not eroded from it.
    """
    if mask.all():
        return np.full(mask.shape, np.inf, np.float32)
    return cv2.distanceTransform(np.ascontiguousarray(mask).view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


@registry.register("refine")
def grow(mask: np.ndarray, *, pixels: Pixels = 3) -> np.ndarray:
    """Grow (dilate) the mask by a distance in pixels.

    Parameters
    ----------
    mask : ndarray of bool
        ``H x W``, True = selected.
    pixels : float
        Every pixel within this Euclidean distance of the mask joins it.

    Returns
    -------
    ndarray of bool
        The grown mask.

    Examples
    --------
    >>> import numpy as np
    >>> m = np.zeros((5, 5), bool); m[2, 2] = True
    >>> grow(m, pixels=1).astype(int)
    array([[0, 0, 0, 0, 0],
           [0, 0, 1, 0, 0],
           [0, 1, 1, 1, 0],
           [0, 0, 1, 0, 0],
           [0, 0, 0, 0, 0]])
    """
    mask = check_mask(mask)
    if pixels == 0:
        return mask.copy()
    return _distance_outside(mask) <= pixels


@registry.register("refine")
def shrink(mask: np.ndarray, *, pixels: Pixels = 3) -> np.ndarray:
    """Shrink (erode) the mask by a distance in pixels.

    Parameters
    ----------
    mask : ndarray of bool
        ``H x W``, True = selected.
    pixels : float
        Pixels closer than this to the outside of the mask leave it. The image
        border does not count as outside.

    Returns
    -------
    ndarray of bool
        The shrunk mask.

    Examples
    --------
    >>> import numpy as np
    >>> m = np.zeros((5, 5), bool); m[1:4, 1:4] = True
    >>> int(shrink(m, pixels=1).sum())
    1
    """
    mask = check_mask(mask)
    if pixels == 0:
        return mask.copy()
    return _distance_inside(mask) > pixels


@registry.register("refine", aliases=("open",))
def opening(mask: np.ndarray, *, pixels: Pixels = 2) -> np.ndarray:
    """Open: shrink then grow, removing specks and thin spurs narrower than 2 x pixels.

    Parameters
    ----------
    mask : ndarray of bool
        ``H x W``, True = selected.
    pixels : float
        Radius of the round structuring element.

    Returns
    -------
    ndarray of bool
        The opened mask.

    Examples
    --------
    >>> import numpy as np
    >>> m = np.zeros((9, 9), bool); m[2:7, 2:7] = True; m[0, 0] = True
    >>> bool(opening(m, pixels=1)[0, 0]), bool(opening(m, pixels=1)[4, 4])
    (False, True)
    """
    mask = check_mask(mask)
    return grow(shrink(mask, pixels=pixels), pixels=pixels) & mask


@registry.register("refine", aliases=("close",))
def closing(mask: np.ndarray, *, pixels: Pixels = 2) -> np.ndarray:
    """Close: grow then shrink, bridging gaps and notches narrower than 2 x pixels.

    Exactly ``shrink(grow(mask, pixels=p), pixels=p)``, which is scikit-image's
    ``isotropic_closing`` and ``binary_closing`` with a disk: as in
    :func:`shrink`, the image border does not count as outside, so a gap or
    notch that reaches the border is bridged like one inside the image.

    Parameters
    ----------
    mask : ndarray of bool
        ``H x W``, True = selected.
    pixels : float
        Radius of the round structuring element.

    Returns
    -------
    ndarray of bool
        The closed mask (a superset of the input).

    Examples
    --------
    >>> import numpy as np
    >>> m = np.zeros((9, 9), bool); m[2:7, 2:4] = True; m[2:7, 5:7] = True
    >>> bool(closing(m, pixels=1)[4, 4])
    True
    """
    mask = check_mask(mask)
    if pixels == 0:
        return mask.copy()
    return shrink(grow(mask, pixels=pixels), pixels=pixels) | mask


@registry.register("refine")
def fill_holes(mask: np.ndarray, *, max_size: Annotated[int, Field(ge=0)] | None = None) -> np.ndarray:
    """Fill the holes of the mask (unselected areas enclosed by it).

    Parameters
    ----------
    mask : ndarray of bool
        ``H x W``, True = selected.
    max_size : int or None
        Fill only holes of at most this many pixels; None fills every hole.

    Returns
    -------
    ndarray of bool
        The mask with holes filled.

    Examples
    --------
    >>> import numpy as np
    >>> m = np.zeros((7, 7), bool); m[1:6, 1:6] = True; m[3, 3] = False
    >>> bool(fill_holes(m)[3, 3])
    True
    """
    mask = check_mask(mask)
    background = ~mask
    labels, n = ndi.label(background)  # 4-connected background: 8-connected masks enclose
    if n == 0:
        return mask.copy()
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    is_hole = np.ones(n + 1, bool)
    is_hole[0] = False
    is_hole[border] = False
    if max_size is not None:
        is_hole &= sizes <= max_size
    return mask | is_hole[labels]


def _components(mask: np.ndarray, connectivity: int) -> tuple[int, np.ndarray, np.ndarray]:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(
        np.ascontiguousarray(mask).view(np.uint8), connectivity=connectivity, ltype=cv2.CV_32S
    )
    return n, labels, stats[:, cv2.CC_STAT_AREA]


@registry.register("refine")
def remove_small(
    mask: np.ndarray, *, min_size: Annotated[int, Field(ge=0)] = 64, connectivity: Literal[4, 8] = 8
) -> np.ndarray:
    """Drop connected parts smaller than a number of pixels.

    Parameters
    ----------
    mask : ndarray of bool
        ``H x W``, True = selected.
    min_size : int
        Parts with fewer pixels than this are removed.
    connectivity : {4, 8}
        Pixel neighbourhood that makes a part.

    Returns
    -------
    ndarray of bool
        The mask without small parts.

    Examples
    --------
    >>> import numpy as np
    >>> m = np.zeros((8, 8), bool); m[0, 0] = True; m[3:7, 3:7] = True
    >>> int(remove_small(m, min_size=4).sum())
    16
    """
    mask = check_mask(mask)
    n, labels, areas = _components(mask, connectivity)
    keep = areas >= min_size
    keep[0] = False
    return keep[labels]


@registry.register("refine")
def keep_largest(mask: np.ndarray, *, count: Annotated[int, Field(ge=1)] = 1, connectivity: Literal[4, 8] = 8) -> np.ndarray:
    """Keep only the largest connected part (or the ``count`` largest).

    Parameters
    ----------
    mask : ndarray of bool
        ``H x W``, True = selected.
    count : int
        How many of the largest parts to keep.
    connectivity : {4, 8}
        Pixel neighbourhood that makes a part.

    Returns
    -------
    ndarray of bool
        The mask with only the largest part(s).

    Examples
    --------
    >>> import numpy as np
    >>> m = np.zeros((8, 8), bool); m[0, 0] = True; m[3:7, 3:7] = True
    >>> int(keep_largest(m).sum())
    16
    """
    mask = check_mask(mask)
    n, labels, areas = _components(mask, connectivity)
    if n <= 1:
        return mask.copy()
    order = np.argsort(-areas[1:], kind="stable")[:count] + 1
    keep = np.zeros(n, bool)
    keep[order] = True
    return keep[labels]


@registry.register("refine")
def invert(mask: np.ndarray) -> np.ndarray:
    """Swap selected and unselected pixels.

    Parameters
    ----------
    mask : ndarray of bool
        ``H x W``, True = selected.

    Returns
    -------
    ndarray of bool
        ``~mask``.

    Examples
    --------
    >>> import numpy as np
    >>> invert(np.array([[True, False]]))
    array([[False,  True]])
    """
    return ~check_mask(mask)


@registry.register("refine")
def smooth(mask: np.ndarray, *, sigma: Annotated[float, Field(ge=0, le=1000)] = 2.0) -> np.ndarray:
    """Smooth a jagged outline: blur the mask and cut it at one half.

    Parameters
    ----------
    mask : ndarray of bool
        ``H x W``, True = selected.
    sigma : float
        Gaussian blur radius in pixels; larger rounds corners more.

    Returns
    -------
    ndarray of bool
        The smoothed mask.

    Examples
    --------
    >>> import numpy as np
    >>> m = np.zeros((9, 9), bool); m[2:7, 2:7] = True
    >>> bool(smooth(m, sigma=1)[4, 4]), bool(smooth(m, sigma=1)[0, 0])
    (True, False)
    """
    mask = check_mask(mask)
    if sigma == 0:
        return mask.copy()
    soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    return soft >= 0.5


_OPS = {
    "union": np.logical_or,
    "intersection": np.logical_and,
    "difference": lambda a, b: a & ~b,
    "xor": np.logical_xor,
}


def combine(a: np.ndarray, b: np.ndarray, *, op: Literal["union", "intersection", "difference", "xor"] = "union") -> np.ndarray:
    """Combine two masks: union, intersection, difference (a and not b) or xor.

    Parameters
    ----------
    a, b : ndarray of bool
        ``H x W`` masks of the same size.
    op : {"union", "intersection", "difference", "xor"}
        How to combine them.

    Returns
    -------
    ndarray of bool
        The combined mask.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([[True, True, False]]); b = np.array([[False, True, True]])
    >>> combine(a, b, op="difference")
    array([[ True, False, False]])
    """
    a = check_mask(a, name="a")
    b = check_mask(b, name="b")
    check_same_size(b, a, ("b", "a"))
    if op not in _OPS:
        raise RetouchError(f"op must be one of {', '.join(_OPS)}; got {op!r}")
    return _OPS[op](a, b)


@registry.register("refine")
def feather(mask: np.ndarray, *, radius: Annotated[float, Field(ge=0, le=1000)] = 4.0) -> np.ndarray:
    """A soft mask for blending the fill back: 1 deep inside, falling to 0 at the edge.

    The ramp lies inside the mask, so pixels outside it keep their values when
    blended with :func:`retouch.inpaint.blend`.

    Parameters
    ----------
    mask : ndarray of bool
        ``H x W``, True = fill.
    radius : float
        Width in pixels of the soft edge; 0 gives the hard mask as float.

    Returns
    -------
    ndarray of float32
        ``H x W`` weights in [0, 1]: 0 outside the mask, rising to 1 at
        ``radius`` pixels inside it.

    Examples
    --------
    >>> import numpy as np
    >>> m = np.zeros((1, 9), bool); m[0, 1:8] = True
    >>> np.round(feather(m, radius=3)[0], 2)
    array([0.  , 0.33, 0.67, 1.  , 1.  , 1.  , 0.67, 0.33, 0.  ], dtype=float32)
    """
    mask = check_mask(mask)
    if radius == 0:
        return mask.astype(np.float32)
    d = _distance_inside(mask)
    return np.clip(d / np.float32(radius), 0.0, 1.0).astype(np.float32)
