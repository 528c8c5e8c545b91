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
from .._convert import from_float, to_float
from .._validate import check_mask
from ._base import fill
from .diffusion import navier_stokes, telea
from .patchmatch import patchmatch

__all__ = ["auto", "hole_radii"]

# Inscribed radius (px) from which the exemplar fill beats diffusion in PSNR
# inside the hole, per hole, on CBSD68 with LaMa masks (see auto's docstring).
RADIUS_THRESHOLD = 24.0
# Wide holes take their texture from patchmatch and their structure (what a
# Gaussian of this sigma keeps, px) from the diffusion fill (see auto's docstring).
STRUCTURE_SIGMA = 24.0


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


def _diffusion(color: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """Mean of the Telea and Navier-Stokes fills of the whole mask, float32 in [0, 1]."""
    return 0.5 * (to_float(telea(color, hole)) + to_float(navier_stokes(color, hole)))


def _blur(a: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(a, (0, 0), sigma, borderType=cv2.BORDER_REFLECT).reshape(a.shape)


def _structure_and_texture(texture: np.ndarray, structure: np.ndarray, where: np.ndarray, sigma: float) -> np.ndarray:
    """``texture + G_sigma * (structure - texture)``: the coarse part of one, the fine part of the other.

    Both are float arrays that differ only in ``where``; the blur runs on the
    box around ``where`` grown by 3 sigma (outside it the difference is 0).
    """
    ys, xs = np.nonzero(where)
    m = int(np.ceil(3 * sigma)) + 1
    h, w = where.shape
    sl = (slice(max(0, ys.min() - m), min(h, ys.max() + m + 1)), slice(max(0, xs.min() - m), min(w, xs.max() + m + 1)))
    out = texture.copy()
    diff = np.ascontiguousarray(structure[sl] - texture[sl], dtype=np.float32)
    out[sl] += _blur(diff, sigma)
    return out


def _auto_core(color, hole, source_mask=None, *, threshold, patch_size, seed):
    labels, radii = hole_radii(hole)
    big = np.flatnonzero(radii >= threshold)
    wide = np.isin(labels, big[big > 0])
    thin = hole & ~wide
    diffused = _diffusion(color, hole)  # with the whole mask, so that it never reads a pixel of a hole
    out = color.copy()
    if thin.any():
        out[thin] = from_float(diffused, color.dtype)[thin]
    if wide.any():
        allowed = ~hole if source_mask is None else (~hole & source_mask)
        filled = patchmatch(out, wide, patch_size=patch_size, seed=seed, source_mask=allowed)
        mixed = _structure_and_texture(to_float(filled), diffused, wide, STRUCTURE_SIGMA)
        out[wide] = from_float(mixed, color.dtype)[wide]
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
    part) is below ``threshold`` pixels is filled by diffusion (the mean of
    :func:`telea` and :func:`navier_stokes`), the others by :func:`patchmatch`
    with the coarse structure of the diffusion fill: ``pm + G * (diff - pm)``,
    ``G`` a Gaussian of sigma ``STRUCTURE_SIGMA`` (24 px), so the texture (and
    the detail ratio) is the exemplar's and the large-scale shading the
    diffusion's. Pixels outside the mask are untouched.

    Parameters
    ----------
    image : ndarray
        ``H x W`` grey, ``H x W x 3`` RGB or ``H x W x 4`` RGBA; uint8, uint16
        or float32 in [0, 1].
    mask : ndarray of bool
        ``H x W``, True where to fill.
    threshold : float
        Inscribed radius in pixels from which a hole is filled by exemplar
        (:func:`patchmatch`) instead of diffusion.
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
    The threshold comes from ``benchmarks/inpaint_quality.py``, which also
    scores each connected hole of the thin, medium and thick LaMa-style masks
    on its own, by inscribed radius. On 34 CBSD68 photos (every other one),
    PSNR inside the hole, pooled per radius band (dB):

    ========================  =====  =====  =====  =====  ======  =======  =======  =====
    radius (px)               2-3    3-4    4-5    5-6    6-8     8-12     12-24*   >= 24
    ========================  =====  =====  =====  =====  ======  =======  =======  =====
    Telea                     20.34  24.92  20.60  20.88  18.69   17.62    18.2     14.50
    Navier-Stokes             21.55  25.76  19.97  20.86  18.66   17.50    18.2     14.65
    patchmatch                20.59  22.68  18.67  19.24  17.66   16.46    17.3     13.86
    Telea detail ratio        0.94   0.77   0.66   0.56   0.48    0.46     0.43     0.23
    patchmatch detail ratio   0.95   1.01   0.86   0.79   0.73    0.74     0.72     0.88
    ========================  =====  =====  =====  =====  ======  =======  =======  =====

    (* the 12-16 and 16-24 bands averaged.) Diffusion is the more faithful
    fill at every radius, and cheaper; its blur costs detail from a radius of
    about 4 px, but in these masks such holes (strokes up to ~48 px wide) are
    where the exemplar fill loses the most (1 to 1.6 dB). Holes of radius 24 px and more are the blobs and boxes
    of the medium and thick masks, where diffusion leaves a flat smear (detail
    ratio 0.23) while patchmatch keeps the texture (0.88) for 0.6 to 0.8 dB.
    A sweep of the threshold on 17 of the other photos (0 to 24 px, and
    infinity) settled it: on thin masks 24 px reaches the all-diffusion score
    (no thin-mask hole is that wide; 0 px is 1.1 dB lower); on medium and thick
    masks the holes of 24 px and more carry almost all of the hole area, so any
    threshold up to 24 px scores within 0.07 dB, and only sending those blobs
    to diffusion as well raises PSNR (by 0.25 to 0.6 dB) at the cost of the
    detail ratio (0.75 to 0.32). (The table and sweep are from the version
    that filled thin holes with Telea alone and wide ones with patchmatch alone.)

    Two later changes, measured on CBSD68 in the same run as the single
    methods: the thin holes take the mean of Telea and Navier-Stokes (two
    errors that partly cancel: 19.55 dB on all 68 thin masks against 19.54
    for Telea and 19.46 for Navier-Stokes); the wide holes keep patchmatch's
    texture on the diffusion's structure (a Gaussian of 24 px scored better
    than 12, 16, 32 or 48 px on 17 photos). On all 68 photos, in one run:
    medium masks 16.24 dB (Navier-Stokes 16.33, patchmatch 15.80), detail
    ratio 0.76 (patchmatch 0.79); thick masks 15.23 dB (Navier-Stokes 15.56,
    patchmatch 14.85), detail ratio 0.91 (patchmatch 0.93).

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
    >>> mask[60:90, 60:90] = True      # a wide hole: exemplar
    >>> out = auto(image, mask)
    >>> out.shape, bool((out[~mask] == image[~mask]).all())
    ((128, 128, 3), True)
    """
    return fill(image, mask, _auto_core, crops=False, extras={"source_mask": source_mask},
                threshold=threshold, patch_size=patch_size, seed=seed)
