"""Brightness thresholds: a fixed value, Otsu, triangle, multi-Otsu, adaptive.

Every variant works on the image's luminance (ITU-R BT.601 luma of RGB, the
grey values of a grey image; alpha is ignored) and selects the pixels
*brighter* than the threshold, or the darker ones with ``invert=True``.
"""

from __future__ import annotations

from typing import Annotated, Literal

import cv2
import numpy as np
from pydantic import Field
from skimage.filters import threshold_multiotsu, threshold_otsu, threshold_triangle

from .. import registry
from ..convert import dtype_max, split_alpha, to_gray
from ..validate import RetouchError, check_image, check_number, check_odd

__all__ = ["threshold"]

Method = Literal["otsu", "triangle", "multi_otsu", "fixed", "adaptive_mean", "adaptive_gaussian"]


def _luminance(image: np.ndarray) -> np.ndarray:
    """Luma ``H x W`` float64 in the image's own scale (0..255, 0..65535 or 0..1).

    A grey integer image keeps its exact values, so a fixed threshold on it
    compares integers exactly.
    """
    color, _ = split_alpha(image)
    if color.ndim == 2:
        return color.astype(np.float64)
    return to_gray(color).astype(np.float64) * dtype_max(image.dtype)


def _range_text(dtype: np.dtype) -> str:
    return "0..1" if np.dtype(dtype) == np.float32 else f"0..{int(dtype_max(dtype))}"


@registry.register("segment")
def threshold(
    image: np.ndarray,
    *,
    algorithm: Method = "otsu",
    value: Annotated[float, Field(ge=0)] | None = None,
    classes: Annotated[int, Field(ge=2, le=5)] = 3,
    select: int = -1,
    block_size: Annotated[int, Field(ge=3)] = 51,
    offset: float = 0.0,
    invert: bool = False,
) -> np.ndarray:
    """Select the pixels brighter (or darker) than a global or local threshold.

    Parameters
    ----------
    image : ndarray
        ``H x W`` grey, ``H x W x 3`` RGB or ``H x W x 4`` RGBA (alpha is
        ignored); uint8, uint16 or float32 in [0, 1].
    algorithm : {'otsu', 'triangle', 'multi_otsu', 'fixed', 'adaptive_mean', 'adaptive_gaussian'}
        How the threshold is found: Otsu's or the triangle method on the
        luminance histogram, multi-Otsu (several classes, one is selected),
        a fixed ``value``, or a local threshold per pixel (mean or
        Gaussian-weighted mean of a ``block_size`` window, minus ``offset``).
    value : float, optional
        The threshold of ``algorithm='fixed'``, in the image's own scale: 0..255
        for uint8, 0..65535 for uint16, 0..1 for float32. Required by
        'fixed' and refused by every other algorithm.
    classes : int
        Number of classes of ``algorithm='multi_otsu'`` (2 to 5).
    select : int
        Which multi-Otsu class to select, from 0 (darkest) to ``classes - 1``;
        negative values count from the brightest (-1, the default, is the
        brightest class). ``invert`` then selects every other class.
    block_size : int
        Odd side in pixels of the window of the adaptive methods.
    offset : float
        Subtracted from the local mean of the adaptive methods to give the
        threshold, in the image's own scale (as ``value``): positive values
        select more pixels, negative values only those clearly brighter than
        their surroundings.
    invert : bool
        Select the pixels at or below the threshold instead of those above.

    Returns
    -------
    ndarray of bool
        ``H x W`` mask; True where the luminance is above the threshold
        (``luminance > threshold``), or at or below it when ``invert``.

    Raises
    ------
    RetouchError
        If ``value`` is missing for 'fixed', given for another algorithm, or
        outside the image's range; if ``block_size`` is even; if ``select`` is
        not a class index; or if the image has too few grey levels for the
        multi-Otsu classes asked for.

    Notes
    -----
    Otsu, triangle and multi-Otsu come from ``skimage.filters`` and look at
    the luminance on 256 levels of the full range (0..255, 0..65535 or 0..1
    cut into 256 steps): the histogram of the image's 8-bit version, whatever
    its dtype, so a 16-bit scan gets the same mask as its 8-bit copy and a
    float copy the same as the uint8 one (scikit-image instead bins a float
    or uint16 image between its own minimum and maximum). On a grey uint8
    image the thresholds are scikit-image's exactly. An RGB picture is
    thresholded on its luminance (scikit-image pools the three channels'
    values). Two multi-Otsu classes are Otsu's split. The adaptive thresholds use a box or a
    Gaussian window (sigma = ``(block_size - 1) / 6``, as scikit-image's
    ``threshold_local``) with reflected borders. A constant image has no
    pixel above its Otsu threshold, so the mask is empty.

    References
    ----------
    N. Otsu, "A Threshold Selection Method from Gray-Level Histograms", IEEE
    Transactions on Systems, Man, and Cybernetics 9(1), 1979.
    :DOI:`10.1109/TSMC.1979.4310076`

    G. W. Zack, W. E. Rogers, S. A. Latt, "Automatic measurement of sister
    chromatid exchange frequency", Journal of Histochemistry & Cytochemistry
    25(7), 1977. :DOI:`10.1177/25.7.70454`

    P.-S. Liao, T.-S. Chen, P.-C. Chung, "A Fast Algorithm for Multilevel
    Thresholding", Journal of Information Science and Engineering 17(5), 2001.

    Examples
    --------
    >>> import numpy as np
    >>> from retouch.segment.threshold import threshold
    >>> image = np.array([[10, 10, 200], [10, 200, 200]], np.uint8)
    >>> threshold(image)
    array([[False, False,  True],
           [False,  True,  True]])
    >>> threshold(image, algorithm="fixed", value=100, invert=True).sum()
    np.int64(3)
    """
    image = check_image(image)
    lum = _luminance(image)
    top = dtype_max(image.dtype)

    if algorithm == "fixed":
        if value is None:
            raise RetouchError("algorithm 'fixed' needs a value; give value=... in the image's scale")
        v = check_number(value, "value", low=0)
        if v > top:
            raise RetouchError(
                f"value {v:g} is outside the {image.dtype} range {_range_text(image.dtype)}; "
                "give it in the image's own scale"
            )
        selected = lum > v
    else:
        if value is not None:
            raise RetouchError(f"value is only used by algorithm 'fixed', not {algorithm!r}; leave it out")
        if algorithm in ("otsu", "triangle"):
            levels8 = _levels(image, lum)
            if levels8.min() == levels8.max():
                selected = np.zeros(lum.shape, bool)
            else:
                fn = threshold_otsu if algorithm == "otsu" else threshold_triangle
                selected = levels8 > fn(levels8)
        elif algorithm == "multi_otsu":
            selected = _multi_otsu(image, lum, classes=int(classes), select=int(select))
        elif algorithm in ("adaptive_mean", "adaptive_gaussian"):
            block = check_odd(block_size, "block_size", low=3)
            off = check_number(offset, "offset")
            selected = lum > _local_threshold(lum, block, algorithm == "adaptive_gaussian") - off
        else:  # unreachable through the registry, kept for direct calls
            raise RetouchError(f"unknown threshold algorithm {algorithm!r}")
    return ~selected if invert else selected


def _levels(image: np.ndarray, lum: np.ndarray) -> np.ndarray:
    """The luminance on 256 levels of the full range: the image's 8-bit version, uint8.

    Otsu, triangle and multi-Otsu look at this histogram whatever the dtype,
    so a uint16 (x 257) or float32 (/ 255) copy of an 8-bit picture, or an RGB
    picture with equal channels, gets exactly the mask of the 8-bit grey one.
    A grey uint8 image is used as is (scikit-image's exact thresholds).
    """
    color, _ = split_alpha(image)
    if color.ndim == 2 and color.dtype == np.uint8:
        return np.ascontiguousarray(color)
    return np.clip(np.rint(lum * (255.0 / dtype_max(image.dtype))), 0, 255).astype(np.uint8)


def _multi_otsu(image: np.ndarray, lum: np.ndarray, *, classes: int, select: int) -> np.ndarray:
    check_number(classes, "classes", low=2, high=5, integer=True)
    if not -classes <= select < classes:
        raise RetouchError(
            f"select must be a class index in {-classes}..{classes - 1} for {classes} classes, got {select}"
        )
    levels8 = _levels(image, lum)
    levels = np.unique(levels8).size
    if levels < classes:
        raise RetouchError(
            f"the image has {levels} grey level(s), too few for {classes} multi-Otsu classes; "
            "use fewer classes"
        )
    if classes == 2:  # two classes are Otsu's split, exactly
        labels = (levels8 > threshold_otsu(levels8)).astype(np.intp)
        return labels == (select % classes)
    try:
        bounds = threshold_multiotsu(levels8, classes=classes)
    except ValueError as err:  # too few distinct histogram bins
        raise RetouchError(f"multi-Otsu with {classes} classes failed on this image ({err}); use fewer classes") from None
    labels = np.digitize(levels8, bounds, right=True)  # class i: bounds[i-1] < level <= bounds[i]
    return labels == (select % classes)


def _local_threshold(lum: np.ndarray, block: int, gaussian: bool) -> np.ndarray:
    src = lum.astype(np.float32)
    if gaussian:
        sigma = (block - 1) / 6.0
        out = cv2.GaussianBlur(src, (block, block), sigma, borderType=cv2.BORDER_REFLECT)
    else:
        out = cv2.boxFilter(src, -1, (block, block), normalize=True, borderType=cv2.BORDER_REFLECT)
    return out.astype(np.float64)
