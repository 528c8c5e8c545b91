"""Exemplar-based fill: copy real texture from the rest of the photo (PatchMatch).

A coarse-to-fine fill in the manner of Wexler, Shechtman & Irani (2007): on
each level of an image pyramid it alternates a nearest-neighbour search for
every patch that overlaps the hole (PatchMatch, Barnes et al. 2009) and a
re-estimation of each hole pixel as the weighted vote of the patches over it.
The hot loops are numba kernels in :mod:`._patchmatch_kernels` (compiled once
per machine and cached on disk); :mod:`._patchmatch_reference` holds the plain
NumPy versions the tests check them against.

What the fill does, level by level (the choices were measured with
``benchmarks/inpaint_quality.py`` on CBSD68 with LaMa-style masks):

1. **Pyramid that shrinks the hole.** Each level halves the image with a
   6 x 6 binomial filter over the *known* pixels only, so a coarse pixel is a
   hole only when its whole footprint is; the hole shrinks faster than the
   image and the coarsest level holds a hole a few pixels wide, filled by a
   diffusion (Telea) start. The pixels that may be copied (``source_mask``,
   ``context``) shrink with their own mask, never growing.
2. **Matches carried up.** A level starts from the coarser level's matches,
   scaled up and voted at the finer resolution (Wexler's trick: the finer
   level is built from finer source pixels, not from an upsampled image).
3. **EM iterations.** PatchMatch search (propagation and random search over
   the whole allowed area) alternates with voting; the two finest levels, the
   costly ones, get one round each, and the finest one propagates the
   carried-up matches without a random search (together 1.3 to 1.5 x faster
   than full rounds with whole-image search there, same hole PSNR). A patch's vote is weighted
   by its similarity ``exp(-d / 2 sigma^2)`` (sigma^2 the median of the
   distances) times Wexler's confidence ``1.3 ** -depth``, its centre's distance
   into the hole, so patches that see more of the real border count more.
4. **Texture features.** Patches are compared on colour and on two texture
   channels, the local mean of ``|dI/dx|`` and ``|dI/dy|`` (Newson et al.
   2014); these are voted into the hole like colour, and stop the search from
   settling on flat patches, the classic way Wexler-type fills turn to blur.
5. **Detail kept in the last vote.** The finest vote averages the smooth part
   of the sources (a normalised Gaussian of sigma 32 px over the allowed
   pixels) and adds the detail of the one source pixel each hole pixel is
   matched to, so the mean does not wash out grain and texture: each hole
   pixel is its match's pixel, moved to the voted local mean.
6. **Structure from diffusion.** The coarse shading of the fill (what a
   Gaussian of sigma 16 px keeps) is taken from a diffusion fill (the mean of
   Telea and Navier-Stokes, run on the quarter-scale level of the allowed
   pixels and scaled up): ``fill + G * (diffusion - fill)``. This is the
   structure / texture split of Bertalmio, Vese, Sapiro & Osher (2003): the
   smooth interpolation is the more faithful guess of the large scale, the
   exemplar of the texture.

Steps 5 and 6 were measured on all 68 CBSD68 photos (medium / thick masks,
hole PSNR in dB, detail ratio): before them (sigma 2.5 px, no structure
step) 15.80 / 14.85 dB, 0.79 / 0.93; structure step alone (sigma 24 px)
16.20 / 15.27 dB, 0.79 / 0.92; with both 16.10 / 15.20 dB, 0.88 / 1.00
(PyPatchMatch 15.90 / 14.79 dB, 0.87 / 0.99). With the structure step, a
detail sigma of 4, 8, 16, 32 px gave a detail ratio of 0.81, 0.83, 0.86,
0.88 on medium masks for 0.02 to 0.12 dB; then a structure sigma of 8, 12,
16, 24, 32 px gave 16.06, 16.09, 16.10, 16.08, 16.05 dB on medium masks.
Tried without gain, before steps 5 and 6 changed: a sharper vote weighting
(sigma^2 the 25th percentile of the distances, 0.08 dB lower on medium
masks), a random search of radius 8 or a second search-and-vote round on the
finest level (within 0.02 dB, 1.3 to 1.4 x slower).

Every pixel written into the hole is computed from pixels where copying is
allowed: the votes read only allowed sources, the smooth/detail split of
step 5 is taken over the allowed pixels alone, and the diffusion of step 6
fills everything that is not allowed, from the allowed pixels.
"""

from __future__ import annotations

import math
from typing import Annotated

import cv2
import numpy as np
from pydantic import Field

from .. import registry
from ..convert import from_float, to_float
from ..validate import RetouchError, check_odd
from . import _patchmatch_kernels as K
from ._base import fill

__all__ = ["patchmatch"]

# Settings found with benchmarks/inpaint_quality.py (see the module docstring).
_CONFIDENCE = 1.3  # Wexler's alpha: a patch centred d px inside the hole weighs 1.3 ** -d
_SIGMA_PERCENTILE = 50  # sigma^2 of the similarity weights: this percentile of the distances (median)
_FEATURE_WEIGHT = 4.0  # weight of the two texture channels against colour (0..255 units)
_DETAIL_SIGMA = 32.0  # px: finer detail than this comes from the matched pixel, not the mean
_FINE_RADIUS = 0  # px: random search radius on the finest level (0: propagation only; its matches come from the coarser one)
_KERNEL = np.array([1, 5, 10, 10, 5, 1], np.float32) / 32.0  # pyramid filter
_STRUCTURE_SIGMA = 16.0  # px: coarser than this, the fill takes the diffusion's structure (0: off)
_STRUCTURE_LEVEL = 2  # pyramid level (1/4 scale) on which that diffusion runs


# ----------------------------------------------------------------------------- pyramid


def _down_known(img: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Halve an image averaging known pixels only (normalised 6 x 6 binomial filter).

    Returns the coarse image and its known mask: a coarse pixel is known when
    its footprint holds a known pixel, so a hole shrinks a little at every level.
    """
    wk = known.astype(np.float32)
    num = cv2.sepFilter2D(img * wk[..., None], -1, _KERNEL, _KERNEL, anchor=(2, 2), borderType=cv2.BORDER_CONSTANT)
    den = cv2.sepFilter2D(wk, -1, _KERNEL, _KERNEL, anchor=(2, 2), borderType=cv2.BORDER_CONSTANT)
    if num.ndim == 2:
        num = num[..., None]
    num, den = num[::2, ::2], den[::2, ::2]
    ok = den > 1e-6
    out = np.zeros_like(num)
    out[ok] = num[ok] / den[ok][:, None]
    return out, ok


def _down_all(mask: np.ndarray) -> np.ndarray:
    """Halve a bool mask: a coarse pixel is True only if its whole 2 x 2 block is."""
    h, w = mask.shape
    if h % 2 or w % 2:
        mask = np.pad(mask, ((0, h % 2), (0, w % 2)), mode="edge")
    return mask.reshape(mask.shape[0] // 2, 2, mask.shape[1] // 2, 2).all(axis=(1, 3))


def _pyramid(f: np.ndarray, hole: np.ndarray, allowed: np.ndarray, r: int, levels: int | None):
    """Images, holes and allowed masks from fine (index 0) to coarse."""
    imgs, holes, alloweds = [f], [hole], [allowed]
    limit = levels if levels is not None else 64
    while len(imgs) < limit:
        h, w = holes[-1].shape
        if min(h, w) < 2 or (levels is None and (min(h, w) < 4 * r + 2 or not holes[-1].any())):
            break
        img, known = _down_known(imgs[-1], ~holes[-1])
        imgs.append(img)
        holes.append(~known)
        alloweds.append(_down_all(alloweds[-1]) & known)
    while len(imgs) > 1 and not holes[-1].any():  # a level without hole adds nothing
        imgs.pop(), holes.pop(), alloweds.pop()
    return imgs, holes, alloweds


def _valid_centres(allowed: np.ndarray, r: int) -> np.ndarray:
    """Centres whose whole patch lies in ``allowed``, at least ``r`` px inside the image."""
    h, w = allowed.shape
    valid = np.zeros((h, w), bool)
    if h < 2 * r + 1 or w < 2 * r + 1:
        return valid
    k = np.ones((2 * r + 1, 2 * r + 1), np.uint8)
    er = cv2.erode(allowed.view(np.uint8), k, borderType=cv2.BORDER_CONSTANT, borderValue=0).astype(bool)
    valid[r : h - r, r : w - r] = er[r : h - r, r : w - r]
    return valid


def _targets(hole: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centres of the patches that cover hole pixels (kept ``r`` px inside the image)."""
    h, w = hole.shape
    ys, xs = np.nonzero(hole)
    k = np.ones((2 * r + 1, 2 * r + 1), np.uint8)
    near = cv2.dilate(hole.view(np.uint8), k).astype(bool)
    near[:r], near[h - r :], near[:, :r], near[:, w - r :] = False, False, False, False
    # a hole pixel at the border is covered by the patch at its clamped position
    near[np.clip(ys, r, h - r - 1), np.clip(xs, r, w - r - 1)] = True
    ty, tx = np.nonzero(near)
    tindex = np.full((h, w), -1, np.int32)
    tindex[ty, tx] = np.arange(ty.size, dtype=np.int32)
    return ty.astype(np.int64), tx.astype(np.int64), tindex


# ----------------------------------------------------------------------------- helpers


def _features(img: np.ndarray) -> np.ndarray:
    """Texture channels (Newson et al. 2014): local mean of |dI/dx| and |dI/dy| of the luma."""
    g = img.mean(axis=2)
    s = np.float32(_FEATURE_WEIGHT / 8.0)
    gx = np.abs(cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)) * s
    gy = np.abs(cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)) * s
    return np.dstack([cv2.blur(gx, (3, 3)), cv2.blur(gy, (3, 3))])


def _weights(d: np.ndarray, npix: int, confidence: np.ndarray) -> np.ndarray:
    """Wexler's vote weights: similarity exp(-d / 2 sigma^2) times the border confidence."""
    dn = d.astype(np.float64) / npix
    s2 = max(float(np.percentile(dn, _SIGMA_PERCENTILE)), 1e-6)
    return np.maximum(np.exp(-dn / (2.0 * s2)) * confidence, 1e-30)


def _random_sources(n: int, valid: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    vy, vx = np.nonzero(valid)
    pick = rng.integers(0, vy.size, n)
    return vy[pick].astype(np.int64), vx[pick].astype(np.int64)


def _smooth_over(img: np.ndarray, where: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of ``img`` that averages only the pixels in ``where``.

    A wide blur (sigma over 4 px) runs at a quarter of the resolution and is
    scaled back up.
    """
    w = where.astype(np.float32)
    num = img * w[..., None]
    h, wd = where.shape
    if sigma > 4 and min(h, wd) >= 16:
        size = (max(1, wd // 4), max(1, h // 4))
        num = cv2.resize(num, size, interpolation=cv2.INTER_AREA)
        w = cv2.resize(w, size, interpolation=cv2.INTER_AREA)
        sigma = sigma * size[0] / wd
    num = cv2.GaussianBlur(num, (0, 0), sigma).reshape(num.shape[:2] + (img.shape[2],))
    den = cv2.GaussianBlur(w, (0, 0), sigma)
    out = num / np.maximum(den, 1e-6)[..., None]
    if out.shape[:2] != (h, wd):
        out = cv2.resize(out, (wd, h), interpolation=cv2.INTER_LINEAR).reshape(h, wd, img.shape[2])
    return np.ascontiguousarray(out, dtype=np.float32)


def _schedule(level: int, iterations: int) -> tuple[int, int]:
    """(EM iterations, PatchMatch passes) at ``level`` (0 = finest).

    The two finest levels, the costly ones, get one search-and-vote round
    each: their matches come from the coarser level and are already close.
    """
    return (1 if level <= 1 else min(level + 1, iterations)), min(1 + level // 2, 3)


def _structure(f: np.ndarray, hole: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Diffusion fill (mean of Telea and Navier-Stokes) of everything not allowed, on a coarse level, scaled up."""
    img, known = f, allowed
    for _ in range(_STRUCTURE_LEVEL):
        if min(known.shape) < 16:
            break
        img, known = _down_known(img, known)
    u8 = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    unknown = (~known).view(np.uint8)
    # grey or RGB: fill() has split any alpha off
    fills = [cv2.inpaint(u8, unknown, 3, m).reshape(u8.shape) for m in (cv2.INPAINT_TELEA, cv2.INPAINT_NS)]
    s = 0.5 * (fills[0].astype(np.float32) + fills[1])
    h, w = hole.shape
    return cv2.resize(s, (w, h), interpolation=cv2.INTER_LINEAR).reshape(h, w, -1)


def _with_structure(out: np.ndarray, f: np.ndarray, hole: np.ndarray, allowed: np.ndarray, sigma: float) -> np.ndarray:
    """``out + G_sigma * (structure - out)`` in the hole: the diffusion's coarse shading, the exemplar's texture.

    The difference is zero outside the hole; it is blurred at a quarter of the
    resolution (sigma / 4) and scaled back up, as smooth as it is.
    """
    ys, xs = np.nonzero(hole)
    m = int(np.ceil(3 * sigma)) + 1
    h, w = hole.shape
    sl = (slice(max(0, ys.min() - m), min(h, ys.max() + m + 1)), slice(max(0, xs.min() - m), min(w, xs.max() + m + 1)))
    s = _structure(f, hole, allowed)
    hs = hole[sl][..., None]
    diff = np.where(hs, s[sl] - out[sl], np.float32(0.0)).astype(np.float32)
    dh, dw = diff.shape[:2]
    small = cv2.resize(diff, (max(1, dw // 4), max(1, dh // 4)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma * small.shape[1] / dw, borderType=cv2.BORDER_REFLECT)
    corr = cv2.resize(small, (dw, dh), interpolation=cv2.INTER_LINEAR).reshape(diff.shape)
    out = out.copy()
    out[sl] += np.where(hs, corr, np.float32(0.0))
    return out


def _match_image(a: np.ndarray) -> np.ndarray:
    """The ``H x (W * C)`` int16 image the distance kernel reads."""
    return np.rint(a).astype(np.int16).reshape(a.shape[0], -1)


# ----------------------------------------------------------------------------- core


def _core(
    color: np.ndarray,
    hole: np.ndarray,
    source_mask: np.ndarray | None = None,
    *,
    patch_size: int,
    levels: int | None,
    iterations: int,
    context: int | None,
    seed: int,
) -> np.ndarray:
    f = to_float(color)
    if f.ndim == 2:
        f = f[..., None]
    f = np.ascontiguousarray(f * np.float32(255.0))
    f[hole] = 0.0  # never read what is under the hole
    c = f.shape[2]
    r = patch_size // 2
    allowed = ~hole
    if source_mask is not None:
        allowed &= source_mask
    if context is not None:
        allowed &= cv2.distanceTransform((~hole).view(np.uint8), cv2.DIST_L2, 3) <= context
    valid0 = _valid_centres(allowed, r)
    if not valid0.any():
        raise RetouchError(
            f"no {patch_size}x{patch_size} patch outside the hole is left to copy from; "
            "allow more of the image (source_mask, context) or use a smaller patch_size"
        )

    imgs, holes, alloweds = _pyramid(f, hole, allowed, r, levels)
    n = len(imgs)
    npix = (2 * r + 1) ** 2 * c
    rng = np.random.default_rng(seed)
    prev = None  # (tindex, sy, sx, filled image with feature channels) of the coarser level
    for lvl in range(n - 1, -1, -1):
        img = imgs[lvl]  # zero in the hole, and not read again
        hl = holes[lvl]
        hh, ww = hl.shape
        valid = valid0 if lvl == 0 else _valid_centres(alloweds[lvl], r)
        hy, hx = (a.astype(np.int64) for a in np.nonzero(hl))
        ty, tx, tindex = _targets(hl, r)
        depth = cv2.distanceTransform(hl.view(np.uint8), cv2.DIST_L2, 3)[ty, tx]
        confidence = _CONFIDENCE ** (-depth.astype(np.float64))
        have_sources = bool(valid.any())
        if prev is None:
            # coarsest level: the hole is a few pixels wide; start from a diffusion fill
            u8 = np.clip(np.rint(img), 0, 255).astype(np.uint8)
            init = cv2.inpaint(u8, hl.view(np.uint8), 3, cv2.INPAINT_TELEA)
            img[hl] = init.reshape(hh, ww, c)[hl]
            img = np.dstack([img, _features(img)])
            if have_sources:
                sy, sx = _random_sources(ty.size, valid, rng)
        else:
            ptindex, psy, psx, pimg = prev
            up = cv2.resize(pimg, (ww, hh), interpolation=cv2.INTER_LINEAR).reshape(hh, ww, -1)
            img[hl] = up[hl][:, :c]
            img = np.dstack([img, _features(img)])
            img[hl] = up[hl]
            if have_sources:
                # the coarser matches, scaled up, voted at this resolution
                sy = np.full(ty.size, -1, np.int64)
                sx = np.full(ty.size, -1, np.int64)
                ok = np.zeros(ty.size, bool)
                if ptindex is not None:
                    cy = np.minimum(ty // 2, ptindex.shape[0] - 1)
                    cx = np.minimum(tx // 2, ptindex.shape[1] - 1)
                    k = ptindex[cy, cx]
                    ok = k >= 0
                    sy[ok] = 2 * psy[k[ok]] + (ty - 2 * cy)[ok]
                    sx[ok] = 2 * psx[k[ok]] + (tx - 2 * cx)[ok]
                    ok &= (sy >= r) & (sy < hh - r) & (sx >= r) & (sx < ww - r)
                    ok[ok] = valid[sy[ok], sx[ok]]
                ry, rx = _random_sources(int((~ok).sum()), valid, rng)
                sy[~ok], sx[~ok] = ry, rx
                if ok.any():
                    d = K.patch_distances(_match_image(img), img.shape[2], ty, tx, sy, sx, r)
                    vals = np.empty((hy.size, img.shape[2]), np.float32)
                    K.vote(img, hy, hx, tindex, sy, sx, _weights(d, npix, 1.0), r, r, vals)
                    img[hy, hx] = vals
        if not have_sources:
            prev = (None, None, None, img)
            continue
        n_em, n_pm = _schedule(lvl, iterations)
        # random search over the whole image, except on the finest level, where
        # the matches carried up from the coarser one are only propagated
        radius = _FINE_RADIUS if lvl == 0 else max(hh, ww)
        for em in range(n_em):
            m = _match_image(img)
            d = K.patch_distances(m, img.shape[2], ty, tx, sy, sx, r)
            K.nnf_search(m, img.shape[2], valid, ty, tx, tindex, sy, sx, d, r, n_pm, radius, int(rng.integers(1, 2**31)))
            wts = _weights(d, npix, confidence)
            if lvl == 0 and em == n_em - 1:
                # last vote, colour only: mean of the smooth part + the matched pixel's fine detail
                colour = np.ascontiguousarray(img[..., :c])
                base = _smooth_over(colour, alloweds[0], _DETAIL_SIGMA)
                vals = np.empty((hy.size, c), np.float32)
                K.vote(base, hy, hx, tindex, sy, sx, wts, r, r, vals)
                k = tindex[hy, hx]
                vals += colour[sy[k], sx[k]] - base[sy[k], sx[k]]
                img[hy, hx, :c] = vals
            else:
                vals = np.empty((hy.size, img.shape[2]), np.float32)
                K.vote(img, hy, hx, tindex, sy, sx, wts, r, r, vals)
                img[hy, hx] = vals
        prev = (tindex, sy, sx, img)

    out = prev[3][..., :c]
    if _STRUCTURE_SIGMA > 0:
        out = _with_structure(out, f, hole, allowed, _STRUCTURE_SIGMA)
    out = out / np.float32(255.0)
    if color.ndim == 2:
        out = out[..., 0]
    return from_float(out, color.dtype)


def _margin(patch_size: int, context: int | None):
    """Context kept around a hole on crops: as wide as the hole (or ``context``)."""
    if context is not None:
        return lambda h, w: int(context) + patch_size
    return lambda h, w: int(max(8 * patch_size, 64, max(h, w)))


@registry.register("inpaint")
def patchmatch(
    image: np.ndarray,
    mask: np.ndarray,
    *,
    patch_size: Annotated[int, Field(ge=3, le=31)] = 7,
    levels: Annotated[int, Field(ge=1, le=16)] | None = None,
    iterations: Annotated[int, Field(ge=1, le=50)] = 5,
    source_mask: np.ndarray | None = None,
    context: Annotated[int, Field(ge=1)] | None = None,
    seed: Annotated[int, Field(ge=0)] = 0,
) -> np.ndarray:
    """Exemplar fill that copies real texture from the rest of the photo (PatchMatch).

    A multi-scale fill in the manner of Wexler, Shechtman & Irani (2007) with
    the PatchMatch search of Barnes et al. (2009): on each level of a pyramid
    it alternates a nearest-neighbour search for every patch over the hole and
    a weighted vote of those patches into the hole pixels, starting from the
    coarser level's matches; the coarse shading of the fill then comes from
    a diffusion fill (structure / texture split, Bertalmio et al. 2003). Use
    it for holes wider than a few pixels, where diffusion fills
    (:func:`telea`) blur; :func:`auto` picks per hole.

    Parameters
    ----------
    image : ndarray
        ``H x W`` grey, ``H x W x 3`` RGB or ``H x W x 4`` RGBA; uint8, uint16
        or float32 in [0, 1].
    mask : ndarray of bool
        ``H x W``, True where to fill.
    patch_size : int
        Side in pixels of the square patches compared and copied (odd). Larger
        patches keep larger structures and cost more.
    levels : int or None
        Number of pyramid levels; None picks enough that the coarsest hole is
        a few pixels wide.
    iterations : int
        Most search-and-vote rounds on one level: the coarsest levels get this
        many, each finer level one fewer, the two finest one each.
    source_mask : ndarray of bool, optional
        ``H x W``, True where pixels may be copied from (default: everywhere
        outside the hole). Use it to keep, say, a second person from being
        copied into the hole.
    context : int or None
        Copy only from pixels at most this many pixels from the hole (like
        Resynthesizer's context width); None: the whole image.
    seed : int
        Seed of the random search: the same input and seed give the same output.

    Returns
    -------
    ndarray
        The filled image, same shape and dtype; pixels outside the mask are
        bit-identical to ``image``.

    Raises
    ------
    RetouchError
        When no whole patch outside the hole is left to copy from (hole,
        ``source_mask`` and ``context`` leave nothing), or ``patch_size`` is even.

    Notes
    -----
    The numba kernels are compiled on the first call on a machine and cached
    on disk (``cache=True``); later processes load them in well under a second.
    Large images are filled on crops around each group of holes with context
    as wide as the hole, so the cost grows with the holes, not the photo.

    References
    ----------
    Y. Wexler, E. Shechtman, M. Irani, "Space-Time Completion of Video", IEEE
    TPAMI 29(3), 2007. :DOI:`10.1109/TPAMI.2007.60`

    C. Barnes, E. Shechtman, A. Finkelstein, D. B. Goldman, "PatchMatch: A
    Randomized Correspondence Algorithm for Structural Image Editing", ACM
    TOG 28(3) (SIGGRAPH), 2009. :DOI:`10.1145/1531326.1531330`

    A. Newson, A. Almansa, M. Fradet, Y. Gousseau, P. Pérez, "Video Inpainting
    of Complex Scenes", SIAM J. Imaging Sciences 7(4), 2014.
    :DOI:`10.1137/140954933`

    M. Bertalmio, L. Vese, G. Sapiro, S. Osher, "Simultaneous Structure and
    Texture Image Inpainting", IEEE TIP 12(8), 2003.
    :DOI:`10.1109/TIP.2003.815261`

    Examples
    --------
    >>> import numpy as np
    >>> from skimage import data
    >>> from retouch.inpaint import patchmatch
    >>> image = data.brick()[:96, :96]
    >>> mask = np.zeros(image.shape, bool); mask[40:56, 40:56] = True
    >>> out = patchmatch(image, mask, seed=1)
    >>> out.shape, out.dtype, bool((out[~mask] == image[~mask]).all())
    ((96, 96), dtype('uint8'), True)
    """
    check_odd(patch_size, "patch_size")
    return fill(
        image,
        mask,
        _core,
        margin=_margin(patch_size, context),
        extras={"source_mask": source_mask},
        patch_size=patch_size,
        levels=levels,
        iterations=iterations,
        context=context,
        seed=seed,
    )
