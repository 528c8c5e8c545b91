"""Colour range: every pixel whose colour is close to a given or picked colour."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field
from skimage.color import deltaE_ciede2000

from .. import registry
from ..convert import to_hsv, to_lab
from ..validate import RetouchError, check_image, check_number, check_point

__all__ = ["color_range"]


def _color_array(color: tuple[float, float, float]) -> np.ndarray:
    """A 1 x 1 x 3 uint8 RGB image of ``color`` (r, g, b in 0..255)."""
    try:
        vals = [float(c) for c in color]
    except (TypeError, ValueError):
        raise RetouchError(f"color must be an (r, g, b) triple in 0..255, got {color!r}") from None
    if len(vals) != 3:
        raise RetouchError(f"color must be an (r, g, b) triple in 0..255, got {color!r}")
    for v in vals:
        if not 0 <= v <= 255:
            raise RetouchError(f"color must be an (r, g, b) triple in 0..255, got {tuple(color)!r}")
    return np.array(vals, np.float32).reshape(1, 1, 3) / np.float32(255)


def _disk_pixels(values: np.ndarray, point: tuple[int, int], radius: int) -> np.ndarray:
    """The ``N x C`` values of the pixels of a disk of ``radius`` around ``point``."""
    x, y = point
    h, w = values.shape[:2]
    y0, y1 = max(0, y - radius), min(h, y + radius + 1)
    x0, x1 = max(0, x - radius), min(w, x + radius + 1)
    yy, xx = np.mgrid[y0:y1, x0:x1]
    inside = (yy - y) ** 2 + (xx - x) ** 2 <= radius * radius
    return values[y0:y1, x0:x1][inside]


def _circular_mean_deg(hue: np.ndarray) -> float:
    if hue.size == 1:
        return float(hue[0])
    rad = np.deg2rad(hue.astype(np.float64))
    return float(np.rad2deg(np.arctan2(np.sin(rad).mean(), np.cos(rad).mean())) % 360.0)


@registry.register("segment")
def color_range(
    image: np.ndarray,
    *,
    color: tuple[Annotated[float, Field(ge=0, le=255)], Annotated[float, Field(ge=0, le=255)], Annotated[float, Field(ge=0, le=255)]] | None = None,
    point: tuple[float, float] | None = None,
    radius: Annotated[int, Field(ge=0, le=100)] = 0,
    space: Literal["lab", "hsv"] = "lab",
    tolerance: Annotated[float, Field(ge=0)] = 10.0,
    metric: Literal["cie76", "ciede2000"] = "cie76",
    hue_tolerance: Annotated[float, Field(ge=0, le=180)] = 15.0,
    saturation_tolerance: Annotated[float, Field(ge=0, le=1)] = 0.3,
    value_tolerance: Annotated[float, Field(ge=0, le=1)] = 0.3,
) -> np.ndarray:
    """Select every pixel whose colour is within a tolerance of one colour.

    Parameters
    ----------
    image : ndarray
        ``H x W`` grey, ``H x W x 3`` RGB or ``H x W x 4`` RGBA (alpha is
        ignored); uint8, uint16 or float32 in [0, 1].
    color : (r, g, b), optional
        The target colour as sRGB components in 0..255 whatever the image's
        dtype (a colour picker's numbers). Give either ``color`` or ``point``.
    point : (x, y), optional
        Take the target colour from the image at this pixel instead (the
        colour-picker case), averaged over a disk of ``radius``.
    radius : int
        Radius in pixels of the disk averaged around ``point``; 0 takes the
        single pixel.
    space : {'lab', 'hsv'}
        Compare colours in CIE Lab (a colour difference ΔE within
        ``tolerance``) or in HSV (hue, saturation and value each within its
        own tolerance).
    tolerance : float
        Largest Lab colour difference ΔE that is still selected (``space='lab'``);
        about 2.3 is just noticeable, 10 is a clear but related shade.
    metric : {'cie76', 'ciede2000'}
        Lab colour difference: Euclidean distance (CIE 1976) or CIEDE2000
        (perceptually more uniform, slower).
    hue_tolerance : float
        Largest hue difference in degrees, measured round the colour wheel
        (``space='hsv'``).
    saturation_tolerance : float
        Largest saturation difference, saturation in [0, 1] (``space='hsv'``).
    value_tolerance : float
        Largest value (brightness) difference, value in [0, 1] (``space='hsv'``).

    Returns
    -------
    ndarray of bool
        ``H x W`` mask, True where the colour is within tolerance (bounds
        included).

    Raises
    ------
    RetouchError
        If neither or both of ``color`` and ``point`` are given, if ``point``
        is outside the image, or if a tolerance is negative.

    Notes
    -----
    Grey images are compared as neutral colours (a = b = 0, saturation 0).
    In HSV the hue of a grey pixel is 0 (red) by convention, so prefer
    ``space='lab'`` for nearly neutral targets.

    References
    ----------
    G. Sharma, W. Wu, E. N. Dalal, "The CIEDE2000 color-difference formula:
    Implementation notes, supplementary test data, and mathematical
    observations", Color Research & Application 30(1), 2005.
    :DOI:`10.1002/col.20070`

    Examples
    --------
    >>> import numpy as np
    >>> from retouch.segment import color_range
    >>> image = np.zeros((2, 3, 3), np.uint8)
    >>> image[0, 0] = (250, 0, 0); image[1, 2] = (240, 10, 5)
    >>> color_range(image, color=(255, 0, 0), tolerance=15)
    array([[ True, False, False],
           [False, False,  True]])
    >>> color_range(image, point=(0, 0), space="hsv").sum()
    np.int64(2)
    """
    image = check_image(image)
    if (color is None) == (point is None):
        raise RetouchError("give either color=(r, g, b) in 0..255 or point=(x, y) to pick it from the image, not both or neither")
    tol = check_number(tolerance, "tolerance", low=0)
    htol = check_number(hue_tolerance, "hue_tolerance", low=0)
    stol = check_number(saturation_tolerance, "saturation_tolerance", low=0)
    vtol = check_number(value_tolerance, "value_tolerance", low=0)
    r = int(check_number(radius, "radius", low=0, integer=True))
    pt = None if point is None else check_point(point, image.shape, "point")

    if space == "lab":
        lab = to_lab(image)
        ref = _disk_pixels(lab, pt, r).mean(axis=0) if pt is not None else to_lab(_color_array(color))[0, 0]
        if metric == "ciede2000":
            dist = deltaE_ciede2000(lab, np.broadcast_to(ref.astype(np.float32), lab.shape), channel_axis=-1)
            return dist <= tol
        d = lab.astype(np.float64) - np.asarray(ref, np.float64)
        return np.einsum("...c,...c->...", d, d) <= tol * tol
    if space == "hsv":
        hsv = to_hsv(image)
        if pt is not None:
            picked = _disk_pixels(hsv, pt, r).astype(np.float64)
            h0 = _circular_mean_deg(picked[:, 0])
            s0, v0 = (float(c) for c in picked[:, 1:].mean(axis=0))
        else:
            h0, s0, v0 = (float(c) for c in to_hsv(_color_array(color))[0, 0])
        dh = np.abs(hsv[..., 0].astype(np.float64) - h0) % 360.0
        dh = np.minimum(dh, 360.0 - dh)
        return (dh <= htol) & (np.abs(hsv[..., 1] - s0) <= stol) & (np.abs(hsv[..., 2] - v0) <= vtol)
    raise RetouchError(f"space must be one of lab, hsv; got {space!r}")

