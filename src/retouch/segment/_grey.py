"""Features for photos whose colour says nothing (black-and-white scans): luminance plus texture.

Shared by :func:`retouch.segment.grabcut.grabcut` and
:class:`retouch.segment.clicks.ClickSession`, whose colour models then learn
these three planes instead of RGB or Lab.
"""

from __future__ import annotations

import cv2
import numpy as np

# texture window and gradient averaging in pixels (chosen on DAVIS frames 000-171, grey)
_TEXTURE_SIGMA = 2.0
_EDGE_SIGMA = 3.0


def is_grey(rgb: np.ndarray) -> bool:
    """True when the photo's colour says nothing: its channels (nearly) equal everywhere.

    A black-and-white scan saved as RGB, or a faintly toned one: 99 % of the
    pixels have their three channels within 6 levels of each other.
    """
    step = max(1, int(np.sqrt(rgb.shape[0] * rgb.shape[1] / 250_000)))  # a subsample is enough
    sub = rgb[::step, ::step].astype(np.int16)
    spread = sub.max(axis=2) - sub.min(axis=2)
    return float(np.percentile(spread, 99)) <= 6


def grey_reach() -> int:
    """Pixels either side of an outline that the texture planes blur (their halo)."""
    return int(np.ceil(2.0 * max(_TEXTURE_SIGMA, _EDGE_SIGMA))) + 1


def grey_features(grey: np.ndarray) -> np.ndarray:
    """Luminance plus texture, 8-bit 3-channel, for a photo whose colour says nothing.

    GrabCut's colour models on a grey photo see one number a pixel, and an
    object whose grey levels the background also has is lost (a box around
    the astronaut's head in ``skimage.data.astronaut()``'s red channel selected
    nothing). The two other channels say how the grey varies around each
    pixel: the square root of the local standard deviation (Gaussian window
    of ``_TEXTURE_SIGMA`` pixels) and of the Sobel gradient magnitude averaged
    over ``_EDGE_SIGMA`` pixels, both scaled to use the 8 bits.

    Chosen on DAVIS frames 000-171 in grey (every 12th, box protocol of
    ``benchmarks/segment_box.py``, plain ``cv2.grabCut``): mean IoU 0.399 on
    the luminance alone, 0.446 with the local deviation and a wider local
    mean, 0.456 with the gradient and that mean, 0.458 with these two
    (0.629 on the colour frames).
    """
    g = grey.astype(np.float32)
    mean = cv2.GaussianBlur(g, (0, 0), _TEXTURE_SIGMA)
    var = cv2.GaussianBlur(g * g, (0, 0), _TEXTURE_SIGMA) - mean * mean
    texture = np.sqrt(np.sqrt(np.maximum(var, 0))) * 16.0  # sqrt(std) 0..16 -> 0..255
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1)
    edges = np.sqrt(cv2.GaussianBlur(cv2.magnitude(gx, gy), (0, 0), _EDGE_SIGMA)) * 8.0  # sqrt(|grad|) 0..32
    planes = [np.clip(np.rint(c), 0, 255).astype(np.uint8) for c in (g, texture, edges)]
    return np.ascontiguousarray(np.dstack(planes))
