"""Diffusion fills: Telea, Navier-Stokes, biharmonic and frequency-selective reconstruction.

These propagate the colours around a hole into it. They are fast and faithful
for thin scratches and small spots, and blur holes wider than a few pixels
(use :func:`retouch.inpaint.patchmatch` there).
"""

from __future__ import annotations

from typing import Annotated

import cv2
import numpy as np
from pydantic import Field
from skimage.restoration import inpaint_biharmonic

from .. import registry
from ..convert import from_bgr, from_float, to_bgr, to_float, to_uint8
from ..validate import check_number
from ._base import fill

__all__ = ["telea", "navier_stokes", "biharmonic", "fsr_fast", "fsr_best"]


def _cv_inpaint(color: np.ndarray, hole: np.ndarray, *, radius: float, flag: int) -> np.ndarray:
    """cv2.inpaint on any layout: uint8 grey/BGR directly, other dtypes per channel."""
    m = hole.astype(np.uint8)
    if color.dtype == np.uint8:
        return from_bgr(cv2.inpaint(to_bgr(color), m, radius, flag))
    # OpenCV's float path expects the 0..255 range: scale there and back.
    work = color * np.float32(255) if color.dtype == np.float32 else color
    if work.ndim == 2:
        out = cv2.inpaint(work, m, radius, flag)
    else:
        # OpenCV takes 16-bit and float images with one channel only: do each channel.
        out = np.dstack([cv2.inpaint(np.ascontiguousarray(work[..., c]), m, radius, flag) for c in range(work.shape[2])])
    if color.dtype == np.float32:
        return np.clip(out / np.float32(255), 0, 1).astype(np.float32)
    return out


def _diffusion_margin(radius: float):
    r = int(np.ceil(radius))
    return lambda h, w: max(16, 4 * r, int(0.25 * max(h, w)))


@registry.register("inpaint")
def telea(image: np.ndarray, mask: np.ndarray, *, radius: Annotated[float, Field(gt=0, le=100)] = 3) -> np.ndarray:
    """Fast-marching fill of Telea (2004), as ``cv2.inpaint(..., INPAINT_TELEA)``.

    Parameters
    ----------
    image : ndarray
        ``H x W`` grey, ``H x W x 3`` RGB or ``H x W x 4`` RGBA; uint8, uint16
        or float32 in [0, 1].
    mask : ndarray of bool
        ``H x W``, True where to fill.
    radius : float
        Radius in pixels of the neighbourhood each filled pixel is estimated from.

    Returns
    -------
    ndarray
        The filled image, same shape and dtype; pixels outside the mask are
        bit-identical to ``image``.

    References
    ----------
    A. Telea, "An Image Inpainting Technique Based on the Fast Marching
    Method", Journal of Graphics Tools 9(1), 2004. :DOI:`10.1080/10867651.2004.10487596`

    Examples
    --------
    >>> import numpy as np
    >>> from skimage import data
    >>> from retouch.inpaint import telea
    >>> image = data.astronaut()
    >>> mask = np.zeros(image.shape[:2], bool); mask[200:210, 100:300] = True
    >>> out = telea(image, mask)
    >>> out.shape, out.dtype, bool((out[~mask] == image[~mask]).all())
    ((512, 512, 3), dtype('uint8'), True)
    """
    radius = check_number(radius, "radius", low=0, low_open=True)
    return fill(image, mask, _cv_inpaint, margin=_diffusion_margin(radius), radius=radius, flag=cv2.INPAINT_TELEA)


@registry.register("inpaint")
def navier_stokes(image: np.ndarray, mask: np.ndarray, *, radius: Annotated[float, Field(gt=0, le=100)] = 3) -> np.ndarray:
    """Fluid-dynamics fill of Bertalmio et al. (2001), as ``cv2.inpaint(..., INPAINT_NS)``.

    Parameters
    ----------
    image : ndarray
        ``H x W`` grey, ``H x W x 3`` RGB or ``H x W x 4`` RGBA; uint8, uint16
        or float32 in [0, 1].
    mask : ndarray of bool
        ``H x W``, True where to fill.
    radius : float
        Radius in pixels of the neighbourhood each filled pixel is estimated from.

    Returns
    -------
    ndarray
        The filled image, same shape and dtype.

    References
    ----------
    M. Bertalmio, A. L. Bertozzi, G. Sapiro, "Navier-Stokes, Fluid Dynamics,
    and Image and Video Inpainting", CVPR 2001. :DOI:`10.1109/CVPR.2001.990497`

    Examples
    --------
    >>> import numpy as np
    >>> from skimage import data
    >>> from retouch.inpaint import navier_stokes
    >>> image = data.camera()
    >>> mask = np.zeros(image.shape, bool); mask[100:104, :] = True
    >>> navier_stokes(image, mask).shape
    (512, 512)
    """
    radius = check_number(radius, "radius", low=0, low_open=True)
    return fill(image, mask, _cv_inpaint, margin=_diffusion_margin(radius), radius=radius, flag=cv2.INPAINT_NS)


def _biharmonic_core(color: np.ndarray, hole: np.ndarray) -> np.ndarray:
    if color.dtype == np.float64:  # solved in float64, as scikit-image does
        out = inpaint_biharmonic(color, hole, channel_axis=-1 if color.ndim == 3 else None)
        return np.clip(out, 0.0, 1.0)
    f = to_float(color)
    out = inpaint_biharmonic(f, hole, channel_axis=-1 if f.ndim == 3 else None)
    return from_float(out, color.dtype)


@registry.register("inpaint")
def biharmonic(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Smooth biharmonic fill, as ``skimage.restoration.inpaint_biharmonic``.

    Each group of nearby holes is solved on its own crop, as scikit-image
    does per region with ``split_into_regions=True``. float64 input is
    solved in float64 and returned as float64, as scikit-image does; uint8
    and uint16 come back in their own dtype (scikit-image returns float64).

    Parameters
    ----------
    image : ndarray
        ``H x W`` grey, ``H x W x 3`` RGB or ``H x W x 4`` RGBA; uint8, uint16,
        float32 or float64 in [0, 1].
    mask : ndarray of bool
        ``H x W``, True where to fill.

    Returns
    -------
    ndarray
        The filled image, same shape and dtype.

    References
    ----------
    S. B. Damelin, N. S. Hoang, "On Surface Completion and Image Inpainting by
    Biharmonic Functions: Numerical Aspects", International Journal of
    Mathematics and Mathematical Sciences, 2018. :DOI:`10.1155/2018/3950312`

    Examples
    --------
    >>> import numpy as np
    >>> from skimage import data
    >>> from retouch.inpaint import biharmonic
    >>> image = data.chelsea()
    >>> mask = np.zeros(image.shape[:2], bool); mask[50:60, 50:60] = True
    >>> biharmonic(image, mask).dtype
    dtype('uint8')
    """
    return fill(image, mask, _biharmonic_core, float64=True)


def _fsr_core(color: np.ndarray, hole: np.ndarray, *, flag: int) -> np.ndarray:
    # xphoto's mask is the reverse of cv2.inpaint's: non-zero marks the KNOWN pixels.
    known = np.where(hole, 0, 255).astype(np.uint8)
    # OpenCV's FSR accepts 16-bit and float input but returns zeros in the hole
    # for them (OpenCV 5.0): it works in 8 bits, so the fill has 8-bit precision.
    src = to_bgr(to_uint8(color))
    dst = np.zeros_like(src)
    cv2.xphoto.inpaint(src, known, dst, flag)  # writes into dst, returns None
    filled = from_bgr(dst)
    if color.dtype == np.uint8:
        return filled
    return from_float(filled.astype(np.float32) / np.float32(255), color.dtype)


def _fsr_margin(h: int, w: int) -> int:
    return max(32, int(0.5 * max(h, w)))


@registry.register("inpaint")
def fsr_fast(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Frequency-selective reconstruction, fast profile (OpenCV contrib xphoto).

    OpenCV's FSR computes in 8 bits: on 16-bit and float images the filled
    pixels have 8-bit precision (pixels outside the mask keep full depth).

    Parameters
    ----------
    image : ndarray
        ``H x W`` grey, ``H x W x 3`` RGB or ``H x W x 4`` RGBA; uint8, uint16
        or float32 in [0, 1].
    mask : ndarray of bool
        ``H x W``, True where to fill.

    Returns
    -------
    ndarray
        The filled image, same shape and dtype.

    References
    ----------
    N. Genser, J. Seiler, F. Schilling, A. Kaup, "Signal and Loss Geometry
    Aware Frequency Selective Extrapolation for Error Concealment", PCS 2018.
    :DOI:`10.1109/PCS.2018.8456283`

    Examples
    --------
    >>> import numpy as np
    >>> from skimage import data
    >>> from retouch.inpaint import fsr_fast
    >>> image = data.chelsea()
    >>> mask = np.zeros(image.shape[:2], bool); mask[50:60, 50:60] = True
    >>> out = fsr_fast(image, mask)
    >>> bool((out[~mask] == image[~mask]).all())
    True
    """
    return fill(image, mask, _fsr_core, margin=_fsr_margin, flag=cv2.xphoto.INPAINT_FSR_FAST)


@registry.register("inpaint")
def fsr_best(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Frequency-selective reconstruction, best profile (slow; OpenCV contrib xphoto).

    Like :func:`fsr_fast`, the fill has 8-bit precision.

    Parameters
    ----------
    image : ndarray
        ``H x W`` grey, ``H x W x 3`` RGB or ``H x W x 4`` RGBA; uint8, uint16
        or float32 in [0, 1].
    mask : ndarray of bool
        ``H x W``, True where to fill.

    Returns
    -------
    ndarray
        The filled image, same shape and dtype.

    References
    ----------
    J. Seiler, M. Jonscher, M. Schoberl, A. Kaup, "Resampling Images to a
    Regular Grid From a Non-Regular Subset of Pixel Positions Using
    Frequency Selective Reconstruction", IEEE TIP 24(11), 2015.
    :DOI:`10.1109/TIP.2015.2463084`

    Examples
    --------
    >>> import numpy as np
    >>> from skimage import data
    >>> from retouch.inpaint import fsr_best
    >>> image = data.camera()[:64, :64]
    >>> mask = np.zeros(image.shape, bool); mask[30:34, 30:34] = True
    >>> fsr_best(image, mask).shape
    (64, 64)
    """
    return fill(image, mask, _fsr_core, margin=_fsr_margin, flag=cv2.xphoto.INPAINT_FSR_BEST)
