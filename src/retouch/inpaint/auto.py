"""Pick the fill per hole: diffusion for thin scratches and small spots, exemplar for wide holes.

The rule is measured, not guessed: ``benchmarks/inpaint_quality.py`` scores
every method on each connected hole of the LaMa-style masks separately,
grouped by the hole's *inscribed radius* (the largest distance from a hole
pixel to the hole's border, i.e. half the width of its widest part); the rule
itself reads a hole's *mean depth* (the mean of that distance over the hole's
pixels), which tells a bundle of crossing scratches from a wide hole. See
:func:`auto` for the numbers that set the thresholds.
"""

from __future__ import annotations

from typing import Annotated

import cv2
import numpy as np
from pydantic import Field

from .. import registry
from ..convert import from_float, to_float
from ..validate import check_mask
from ._base import fill
from .diffusion import navier_stokes, telea
from .patchmatch import patchmatch

__all__ = ["auto", "hole_depths", "hole_radii"]

# Mean depth (px: mean distance of a hole's pixels to its border) from which a
# hole is filled by exemplar instead of diffusion (see auto's docstring).
DEPTH_THRESHOLD = 6.0


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
    labels, radii, _ = _holes(check_mask(mask))
    return labels, radii


def hole_depths(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Like :func:`hole_radii`, plus each hole's mean depth: ``(labels, radii, depths)``.

    ``depths[i]`` is the mean, over the pixels of hole ``i``, of their distance
    to the nearest pixel outside it (``depths[0]`` is 0). A stroke ``w`` px
    wide has a mean depth of about ``w / 4``, a square of side ``s`` about
    ``s / 6``; a bundle of crossing scratches keeps the small mean depth of a
    scratch even where their crossings make its inscribed radius large.

    >>> import numpy as np
    >>> m = np.zeros((40, 40), bool); m[2:4, 2:38] = True; m[10:40, 10:40] = True
    >>> labels, radii, depths = hole_depths(m)
    >>> radii.round(1).tolist(), depths.round(1).tolist()
    ([0.0, 1.0, 15.0], [0.0, 1.0, 5.5])
    """
    return _holes(check_mask(mask))


def _holes(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels, inscribed radii and mean depths of the holes of a checked bool mask (one distance transform)."""
    n, labels = cv2.connectedComponents(mask.view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    # distance to the nearest non-hole pixel; the image border counts as outside
    padded = np.pad(mask, 1).view(np.uint8)
    dist = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]
    radii, depths = np.zeros(n, np.float64), np.zeros(n, np.float64)
    if n > 1:  # over the hole pixels only: a float64 copy of the whole image's distances was 2.7 scans of memory
        own, d = labels[mask], dist[mask]
        np.maximum.at(radii, own, d)
        depths = np.bincount(own, weights=d, minlength=n) / np.maximum(np.bincount(own, minlength=n), 1)
    depths[0] = 0.0
    return labels, radii, depths


def _diffusion(color: np.ndarray, hole: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Mean of the Telea and Navier-Stokes fills of the whole mask at the pixels ``where`` (``N x C``
    float32 in [0, 1]; only those pixels are made float, so a large scan needs no float copy)."""
    return 0.5 * (to_float(telea(color, hole)[where]) + to_float(navier_stokes(color, hole)[where]))


def _auto_core(color, hole, source_mask=None, *, threshold, patch_size, ring, seed):
    labels, _, depths = _holes(hole)
    big = np.flatnonzero(depths >= threshold)
    big = big[big > 0]
    wide = np.isin(labels, big)
    thin = hole & ~wide
    out = color.copy()
    if thin.any():
        # with the whole mask, so that it never reads a pixel of a hole
        out[thin] = from_float(_diffusion(color, hole, thin), color.dtype)
    if wide.any():
        allowed = ~hole if source_mask is None else (~hole & source_mask)
        filled = patchmatch(out, wide, patch_size=patch_size, ring=ring, seed=seed, source_mask=allowed)
        out[wide] = filled[wide]
    return out


@registry.register("inpaint")
def auto(
    image: np.ndarray,
    mask: np.ndarray,
    *,
    threshold: Annotated[float, Field(ge=0)] = DEPTH_THRESHOLD,
    patch_size: Annotated[int, Field(ge=3, le=31)] = 7,
    ring: Annotated[int, Field(ge=0, le=64)] = 4,
    source_mask: np.ndarray | None = None,
    seed: Annotated[int, Field(ge=0)] = 0,
) -> np.ndarray:
    """Fill each hole with the method that suits it: diffusion when thin, exemplar when wide.

    Every connected hole whose mean depth (the mean distance of its pixels to
    its border, about a quarter of a stroke's width) is below ``threshold``
    pixels is filled by diffusion (the mean of :func:`telea` and
    :func:`navier_stokes`), where its blur cannot be seen, the others by
    :func:`patchmatch`, whose texture is copied from the photo. Pixels outside
    the mask are untouched.

    Parameters
    ----------
    image : ndarray
        ``H x W`` grey, ``H x W x 3`` RGB or ``H x W x 4`` RGBA; uint8, uint16
        or float32 in [0, 1].
    mask : ndarray of bool
        ``H x W``, True where to fill.
    threshold : float
        Mean depth in pixels (see :func:`hole_depths`) from which a hole is
        filled by exemplar (:func:`patchmatch`) instead of diffusion.
    patch_size : int
        Patch side of the exemplar fill (odd).
    ring : int
        Pixels this close to a wide hole that the exemplar fill does not copy
        from (see :func:`patchmatch`); 0 for holes in a regular pattern.
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
    The rule comes from ``benchmarks/inpaint_quality.py`` on the 68 CBSD68
    photos. Per hole, diffusion is the more faithful fill (PSNR inside the
    hole) at every inscribed radius, by 1 to 1.6 dB below 24 px, but its
    blur costs detail from a radius of about 4 px (detail ratio 0.3 to 0.45
    from 6 px up, against 0.67 to 0.93 for the exemplar fill). On thin masks
    the best diffusion score is the bar, and no thin-mask hole has a mean
    depth of 6 px (the largest is 5.7, though crossing scratches reach an
    inscribed radius of 25 px): with a threshold of 6 px the thin masks are
    all diffusion (19.56 dB, Telea 19.54). On medium and thick masks the
    bar is 0.3 dB within the best method (Navier-Stokes) with a detail ratio
    of 0.85: sending the holes from a mean depth of 6 px (rather than only
    those of radius 24 px and more: 0.83 when replayed) to the exemplar fill
    lifts the detail ratio of medium masks to 0.86.

    Earlier versions blended the exemplar fill of the widest holes (inscribed
    radius of 72 px or more) toward the diffusion fill to cap their texture:
    it bought about 0.1 dB of hole PSNR on CBSD68's thick masks, and on real
    object removals it left the blurred, ghostly blotches that a blind judge
    ranked last, so it is gone: PSNR rewards blur, people do not.

    Thin holes are filled first and the result then serves as known context
    (never as a copy source) for the exemplar fill of the wide ones.

    References
    ----------
    A. Telea, "An Image Inpainting Technique Based on the Fast Marching
    Method", Journal of Graphics Tools 9(1), 2004. :DOI:`10.1080/10867651.2004.10487596`

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
    >>> mask[50:100, 50:100] = True    # a wide hole: exemplar
    >>> out = auto(image, mask)
    >>> out.shape, bool((out[~mask] == image[~mask]).all())
    ((128, 128, 3), True)
    """
    return fill(image, mask, _auto_core, crops=False, extras={"source_mask": source_mask},
                threshold=threshold, patch_size=patch_size, ring=ring, seed=seed)
