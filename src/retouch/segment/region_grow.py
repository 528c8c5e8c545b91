"""Region growing from seed points on Lab colour (a magic wand)."""

from __future__ import annotations

from typing import Annotated, Literal

import cv2
import numpy as np
from pydantic import Field

from .. import registry
from ..convert import to_lab
from ..validate import RetouchError, check_image, check_number, check_points
from ._region_grow_kernels import NEIGHBOURS_4, NEIGHBOURS_8, grow

__all__ = ["region_grow"]


@registry.register("segment")
def region_grow(
    image: np.ndarray,
    *,
    seeds: list[tuple[float, float]],
    tolerance: Annotated[float, Field(ge=0)] = 10.0,
    reference: Literal["mean", "seed"] = "mean",
    connectivity: Literal[4, 8] = 4,
    max_size: Annotated[int, Field(ge=1)] | None = None,
    sigma: Annotated[float, Field(ge=0, le=20)] = 0.0,
) -> np.ndarray:
    """Grow a region from seed points over pixels of similar Lab colour.

    Parameters
    ----------
    image : ndarray
        ``H x W`` grey, ``H x W x 3`` RGB or ``H x W x 4`` RGBA (alpha is
        ignored); uint8, uint16 or float32 in [0, 1].
    seeds : list of (x, y)
        One or more seed pixels; each starts its own region.
    tolerance : float
        Largest CIE Lab colour difference (ΔE, Euclidean) between a pixel and
        its region's reference for the pixel to join; about 2.3 is just
        noticeable.
    reference : {'mean', 'seed'}
        Compare with the running mean colour of the region grown so far
        (follows slow shading) or with the seed pixel's colour (a classic
        flood fill with tolerance).
    connectivity : {4, 8}
        Neighbours of a pixel: the 4 sharing a side, or all 8.
    max_size : int, optional
        Stop growing once the regions hold this many pixels in all
        (the seeds always count); None grows until no pixel joins.
    sigma : float
        Standard deviation in pixels of a Gaussian blur applied to the image
        before growing, to ignore noise and fine texture; 0 uses the pixels
        as they are.

    Returns
    -------
    ndarray of bool
        ``H x W`` mask of the grown regions (always contains the seeds).

    Raises
    ------
    RetouchError
        If a seed is outside the image, there are no seeds, or ``tolerance``
        is negative.

    Notes
    -----
    The growth order is a breadth-first search from all seeds at once,
    defined precisely in :mod:`retouch.segment._region_grow_kernels`; with
    ``reference='mean'`` the result depends on that order, and it is
    deterministic. A pixel taken by one seed's region is not taken by
    another. The loop is compiled with numba (the first call in a fresh
    installation compiles it, about a second, then it is cached).

    References
    ----------
    R. Adams, L. Bischof, "Seeded Region Growing", IEEE TPAMI 16(6), 1994.
    :DOI:`10.1109/34.295913`

    Examples
    --------
    >>> import numpy as np
    >>> from retouch.segment.region_grow import region_grow
    >>> image = np.zeros((4, 5), np.uint8)
    >>> image[:, 3:] = 200; image[0, 0] = 20
    >>> region_grow(image, seeds=[(1, 1)], tolerance=5).astype(int)
    array([[0, 1, 1, 0, 0],
           [1, 1, 1, 0, 0],
           [1, 1, 1, 0, 0],
           [1, 1, 1, 0, 0]])
    """
    image = check_image(image)
    pts = check_points(seeds, image.shape, "seeds")
    tol = check_number(tolerance, "tolerance", low=0)
    if reference not in ("mean", "seed"):
        raise RetouchError(f"reference must be one of mean, seed; got {reference!r}")
    if connectivity not in (4, 8):
        raise RetouchError(f"connectivity must be 4 or 8, got {connectivity!r}")
    limit = 0 if max_size is None else int(check_number(max_size, "max_size", low=1, integer=True))
    sig = check_number(sigma, "sigma", low=0)

    lab = to_lab(image)
    if sig > 0:
        lab = cv2.GaussianBlur(lab, (0, 0), sig, borderType=cv2.BORDER_REFLECT)
    lab = np.ascontiguousarray(lab, np.float32)
    yx = np.ascontiguousarray(pts[:, ::-1], np.int64)
    neighbours = NEIGHBOURS_4 if connectivity == 4 else NEIGHBOURS_8
    return grow(lab, yx, float(tol), reference == "mean", neighbours, limit)
