"""Conversions between the image forms retouch accepts, in one module.

Algorithms call these at their edges instead of converting inline: channel
layout (grey / RGB / RGBA), dtype (uint8 / uint16 / float32 in [0, 1]) and
colour spaces (Lab, HSV, grey). BGR exists only inside the few lines that call
OpenCV; :func:`to_bgr` and :func:`from_bgr` are the crossings.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = [
    "dtype_max",
    "split_alpha",
    "merge_alpha",
    "to_float",
    "from_float",
    "to_uint8",
    "to_rgb",
    "to_gray",
    "to_lab",
    "to_hsv",
    "to_bgr",
    "from_bgr",
    "paste",
    "overlay",
]


def dtype_max(dtype: np.dtype) -> float:
    """The value that means full intensity for ``dtype`` (255, 65535 or 1.0)."""
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return 255.0
    if dtype == np.uint16:
        return 65535.0
    return 1.0


def split_alpha(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Split ``H x W x 4`` into colour ``H x W x 3`` and alpha ``H x W``.

    Grey stays ``H x W`` (an ``H x W x 1`` image is squeezed); an image without
    alpha returns ``None`` for it.
    """
    if image.ndim == 3 and image.shape[2] == 4:
        return image[..., :3], image[..., 3]
    if image.ndim == 3 and image.shape[2] == 1:
        return image[..., 0], None
    return image, None


def merge_alpha(color: np.ndarray, alpha: np.ndarray | None, like: np.ndarray | None = None) -> np.ndarray:
    """Inverse of :func:`split_alpha`; ``like`` restores an ``H x W x 1`` layout."""
    if alpha is not None:
        return np.dstack([color, alpha]).astype(color.dtype, copy=False)
    if like is not None and like.ndim == 3 and like.shape[2] == 1 and color.ndim == 2:
        return color[..., None]
    return color


def to_float(image: np.ndarray) -> np.ndarray:
    """A float32 copy in [0, 1]."""
    if image.dtype == np.float32:
        return image.copy()
    return image.astype(np.float32) / np.float32(dtype_max(image.dtype))


def from_float(image: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Float in [0, 1] back to ``dtype`` (rounded and clipped for integers)."""
    dtype = np.dtype(dtype)
    if dtype == np.float32:
        return np.clip(image, 0.0, 1.0).astype(np.float32)
    m = dtype_max(dtype)
    return np.clip(np.rint(np.asarray(image, np.float32) * m), 0, m).astype(dtype)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """uint8 version (uint16 is scaled by 257, float by 255 and rounded)."""
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return ((image.astype(np.uint32) + 128) // 257).astype(np.uint8)
    return from_float(image, np.uint8)


def to_rgb(image: np.ndarray) -> np.ndarray:
    """``H x W x 3`` with the dtype kept: grey is repeated, alpha dropped."""
    color, _ = split_alpha(image)
    if color.ndim == 2:
        return np.repeat(color[..., None], 3, axis=2)
    return color


def to_gray(image: np.ndarray) -> np.ndarray:
    """Luma ``H x W`` float32 in [0, 1] (ITU-R BT.601 weights, as OpenCV)."""
    color, _ = split_alpha(image)
    f = to_float(color)
    if f.ndim == 2:
        return f
    return cv2.cvtColor(f, cv2.COLOR_RGB2GRAY)


def to_lab(image: np.ndarray) -> np.ndarray:
    """CIE Lab float32 ``H x W x 3`` (L in [0, 100], a and b about [-128, 127]).

    Grey images get a = b = 0. Uses OpenCV's float path (sRGB, D65).
    """
    rgb = to_float(to_rgb(image))
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)


def to_hsv(image: np.ndarray) -> np.ndarray:
    """HSV float32 ``H x W x 3``: hue in degrees [0, 360), saturation and value in [0, 1]."""
    rgb = to_float(to_rgb(image))
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)


def to_bgr(image: np.ndarray) -> np.ndarray:
    """RGB(A) to BGR(A) for OpenCV; grey is returned as is."""
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA)
    return image


def from_bgr(image: np.ndarray) -> np.ndarray:
    """BGR(A) from OpenCV back to RGB(A); grey is returned as is."""
    return to_bgr(image)  # the swap is its own inverse


def paste(original: np.ndarray, filled: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A copy of ``original`` with the pixels under ``mask`` taken from ``filled``.

    Every pixel outside the mask is bit-identical to ``original``.
    """
    out = original.copy()
    out[mask] = filled[mask].astype(original.dtype, copy=False)
    return out


def overlay(image: np.ndarray, mask: np.ndarray, *, color: tuple[int, int, int] = (255, 0, 64), opacity: float = 0.5) -> np.ndarray:
    """An 8-bit RGB preview: the mask tinted over the image, with its outline drawn.

    Parameters
    ----------
    image : ndarray
        Any retouch image (grey, RGB or RGBA; any dtype).
    mask : ndarray of bool
        ``H x W`` selection.
    color : (r, g, b)
        Tint colour.
    opacity : float
        Strength of the tint inside the mask.

    Returns
    -------
    ndarray of uint8
        ``H x W x 3`` preview.
    """
    rgb = to_uint8(to_rgb(image)).astype(np.float32)
    tint = np.asarray(color, np.float32)
    out = rgb.copy()
    out[mask] = rgb[mask] * (1 - opacity) + tint * opacity
    m8 = mask.astype(np.uint8)
    edge = cv2.morphologyEx(m8, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)).astype(bool)
    out[edge] = tint
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
