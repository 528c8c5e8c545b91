"""Edges: Canny, Sobel or Scharr edges, as the regions they enclose or as a band.

Edge strengths and thresholds share one unit on every image dtype: the
gradient magnitude of the luminance scaled to [0, 1], normalised so that a
sharp step from black to white measures 1.0 (a 10 % step measures 0.1).
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field
from scipy import ndimage as ndi
from skimage.feature import canny
from skimage.filters import apply_hysteresis_threshold, threshold_otsu
from skimage.morphology import disk, remove_small_objects

from .. import registry
from ..convert import to_gray
from ..validate import RetouchError, check_image, check_number

__all__ = ["edges", "edge_strength"]

# 3-tap derivative [-1, 0, 1] with a [1, 2, 1] (Sobel) or [3, 10, 3] (Scharr)
# smoothing: a unit step measures 4 or 16 with scipy's unnormalised kernels.
_SCALE = {"sobel": 4.0, "scharr": 16.0}
_SCHARR_X = np.array([[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]], np.float64)


def edge_strength(gray: np.ndarray, *, sigma: float = 1.0, operator: str = "sobel") -> np.ndarray:
    """Gradient magnitude of a smoothed grey image, a unit step measuring 1.0.

    Parameters
    ----------
    gray : ndarray
        ``H x W`` float luminance in [0, 1].
    sigma : float
        Standard deviation in pixels of the Gaussian smoothing first (0: none).
    operator : {'sobel', 'scharr'}
        The 3 x 3 derivative.

    Returns
    -------
    ndarray
        ``H x W`` float64 magnitude.

    Examples
    --------
    >>> import numpy as np
    >>> step = np.zeros((5, 6)); step[:, 3:] = 1
    >>> float(edge_strength(step, sigma=0)[2, 3])
    1.0
    """
    g = np.asarray(gray, np.float64)
    if sigma > 0:
        g = ndi.gaussian_filter(g, sigma, mode="nearest")
    if operator == "scharr":
        gx = ndi.correlate(g, _SCHARR_X, mode="nearest")
        gy = ndi.correlate(g, _SCHARR_X.T, mode="nearest")
    else:
        gx = ndi.sobel(g, axis=1, mode="nearest")
        gy = ndi.sobel(g, axis=0, mode="nearest")
    return np.hypot(gx, gy) / _SCALE[operator]


def _auto_high(strength: np.ndarray) -> float:
    """Otsu's threshold of the edge strengths: strong edges against the rest."""
    if strength.max() <= strength.min():
        return float("inf")
    return float(threshold_otsu(strength))


@registry.register("segment")
def edges(
    image: np.ndarray,
    *,
    detector: Literal["canny", "sobel", "scharr"] = "canny",
    low: Annotated[float, Field(ge=0)] | None = None,
    high: Annotated[float, Field(ge=0)] | None = None,
    sigma: Annotated[float, Field(ge=0, le=50)] = 1.0,
    output: Literal["regions", "band"] = "regions",
    close: Annotated[int, Field(ge=0, le=100)] = 3,
    fill: bool = True,
    min_size: Annotated[int, Field(ge=0)] = 64,
    band_width: Annotated[int, Field(ge=0, le=100)] = 1,
) -> np.ndarray:
    """Find edges and return the regions they enclose, or the edges as a band.

    Parameters
    ----------
    image : ndarray
        ``H x W`` grey, ``H x W x 3`` RGB or ``H x W x 4`` RGBA (alpha is
        ignored); uint8, uint16 or float32 in [0, 1].
    detector : {'canny', 'sobel', 'scharr'}
        Canny's thin edges (non-maximum suppression and hysteresis), or every
        pixel whose Sobel or Scharr gradient magnitude passes the hysteresis
        thresholds.
    low : float, optional
        Lower hysteresis threshold on the edge strength (a unit step measures
        1.0): weaker pixels are never edges, pixels between ``low`` and
        ``high`` are edges when connected to a strong one. Default: half of
        ``high``.
    high : float, optional
        Upper hysteresis threshold: pixels at least this strong are edges.
        Default: Otsu's threshold of the image's edge strengths.
    sigma : float
        Standard deviation in pixels of the Gaussian smoothing before the
        derivative; larger values keep only coarser edges.
    output : {'regions', 'band'}
        'regions' closes the edges and fills the areas they enclose; 'band'
        returns the edge pixels themselves, widened by ``band_width``.
    close : int
        Radius in pixels of the morphological closing that bridges gaps in
        the edges before filling (``output='regions'``); 0 keeps them as found.
    fill : bool
        Fill the areas enclosed by the closed edges (``output='regions'``).
    min_size : int
        Drop connected parts (8-connected) smaller than this many pixels: the
        regions for 'regions', the edge fragments before widening for 'band'.
    band_width : int
        Radius in pixels of the disk the edges are dilated by (``output='band'``);
        0 returns the one-pixel edges.

    Returns
    -------
    ndarray of bool
        ``H x W`` mask.

    Raises
    ------
    RetouchError
        If ``low`` is greater than ``high``, or a setting is negative.

    Notes
    -----
    Only areas enclosed on every side are filled: an object cut by the image
    border stays open there. Increase ``close`` when the object's outline
    has gaps, and ``sigma`` when texture makes too many edges.

    References
    ----------
    J. Canny, "A Computational Approach to Edge Detection", IEEE TPAMI 8(6),
    1986. :DOI:`10.1109/TPAMI.1986.4767851`

    Examples
    --------
    >>> import numpy as np
    >>> from retouch.segment.edges import edges
    >>> image = np.zeros((40, 40), np.uint8); image[10:30, 10:30] = 200
    >>> mask = edges(image, min_size=10)
    >>> bool(mask[20, 20]), bool(mask[2, 2])
    (True, False)
    >>> band = edges(image, output="band", band_width=0)
    >>> bool(band[20, 20]), bool(band[10, 20] or band[9, 20])
    (False, True)
    """
    image = check_image(image)
    sig = check_number(sigma, "sigma", low=0)
    close_r = int(check_number(close, "close", low=0, integer=True))
    min_px = int(check_number(min_size, "min_size", low=0, integer=True))
    band_r = int(check_number(band_width, "band_width", low=0, integer=True))
    if low is not None:
        check_number(low, "low", low=0)
    if high is not None:
        check_number(high, "high", low=0)
    if low is not None and high is not None and low > high:
        raise RetouchError(f"low ({low:g}) must not be greater than high ({high:g})")

    gray = to_gray(image).astype(np.float64)
    operator = "scharr" if detector == "scharr" else "sobel"
    strength = edge_strength(gray, sigma=sig, operator=operator)
    hi = float(high) if high is not None else _auto_high(strength)
    lo = float(low) if low is not None else 0.5 * hi
    if lo > hi:  # an explicit low above the automatic high: both become low
        hi = lo

    if not np.isfinite(hi):  # a flat image has no edges
        found = np.zeros(gray.shape, bool)
    elif detector == "canny":
        # skimage measures with unnormalised Sobel kernels on the smoothed image.
        scale = _SCALE["sobel"]
        found = canny(gray, sigma=sig, low_threshold=lo * scale, high_threshold=hi * scale, mode="nearest")
    elif detector in ("sobel", "scharr"):
        found = apply_hysteresis_threshold(strength, lo, hi) if lo < hi else strength >= hi
    else:
        raise RetouchError(f"detector must be one of canny, sobel, scharr; got {detector!r}")

    if output == "band":
        if min_px > 1:
            found = remove_small_objects(found, max_size=min_px - 1, connectivity=2)
        if band_r > 0:
            found = ndi.binary_dilation(found, structure=disk(band_r))
        return found
    if output != "regions":
        raise RetouchError(f"output must be one of regions, band; got {output!r}")
    regions = found
    if close_r > 0:
        # pad so the closing does not glue the edges to the image border
        padded = np.pad(regions, close_r)
        padded = ndi.binary_closing(padded, structure=disk(close_r))
        regions = padded[close_r:-close_r, close_r:-close_r]
    if fill:
        regions = ndi.binary_fill_holes(regions)
    if min_px > 1:
        regions = remove_small_objects(regions, max_size=min_px - 1, connectivity=2)
    return regions
