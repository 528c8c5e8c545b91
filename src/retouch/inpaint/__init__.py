"""Inpainting: fill the pixels under a mask from the rest of the image.

Every method takes ``(image, mask, *, settings)`` and returns a new image of
the same shape and dtype whose pixels outside the mask are bit-identical to
the input. uint8, uint16 and float32 in [0, 1] are retouch's image types;
float64 in [0, 1] (scikit-image's ``img_as_float``) is accepted too and comes
back float64, the fill computed in float32 (in float64 by ``biharmonic``).
See :mod:`retouch.inpaint._base` for the shared contract.
"""

from ._base import EmptyMaskWarning, blend
from .diffusion import biharmonic, fsr_best, fsr_fast, navier_stokes, telea
from .patchmatch import patchmatch
from .auto import auto

__all__ = ["EmptyMaskWarning", "blend", "telea", "navier_stokes", "biharmonic", "fsr_fast", "fsr_best", "patchmatch", "auto"]
