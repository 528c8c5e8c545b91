"""Exemplar-based fill: copy real texture from the rest of the photo (PatchMatch).

A coarse-to-fine fill in the manner of Wexler, Shechtman & Irani (2007): on
each level of an image pyramid it alternates a nearest-neighbour search for
every patch that overlaps the hole (PatchMatch, Barnes et al. 2009) and a
re-estimation of each hole pixel as the weighted vote of the patches over it.
The hot loops are numba kernels in :mod:`._patchmatch_kernels` (compiled once
per machine and cached on disk); :mod:`._patchmatch_reference` holds the plain
NumPy versions the tests check them against.

What the fill does, level by level:

0. **Straight lines first.** Before any of the below, straight edges that
   cross the hole are continued through it (:mod:`._structure`): a long
   straight segment that meets the hole and a collinear one that meets it
   from the far side are joined by a band 5 px wide, filled by carrying the
   pixels beyond the two ends along the line (Sun et al. 2005's structure
   propagation, straight lines only); the band is then known, and the rest
   of the hole is filled around it. The exemplar fill alone bent and broke
   poles, kerbs and rails that ran behind a removed object. Where no such
   pair is found nothing changes (``lines=False`` turns it off). Blind, on
   DAVIS tuning removals where it changed the fill: ranked above the fill
   without it 9-6 (``tune_t34``, a first version that dropped segments
   drawn across the hole instead of cutting them) and 8-7, 1 tie
   (``tune_t35``, as shipped); on 24 moved tuning masks hole PSNR 20.07
   against 19.97 dB, structure 26.63 against 26.44, detail 0.766 against
   0.743, seam 0.988 against 0.995.
1. **Pyramid that keeps the hole's shape.** Each level halves the image with a
   6 x 6 binomial filter over the *known* pixels only; a coarse pixel is known
   only when at least ``_KNOWN_FRACTION`` (0.1) of its footprint's weight is
   known. (The earlier rule, "known when any pixel of the footprint is", let
   the ring just outside the hole -- often the removed object's shadow or
   fringe -- grow inward at every level, so that at the coarse levels, where
   the layout of the fill is decided, that ring filled much of the hole: a
   car's shadow became a dark band that the search then matched with trees.
   At 0.5 and 0.25 thin, tall holes -- the demo's rocket -- kept a coarse hole
   that the search filled with a stray piece of a tower; 0.1 does neither.) The pyramid goes down
   until a further level would be under ``_COARSEST_SIDE`` (30) px on its
   shorter side (or under four patches).
2. **Two starts, the closer matches go on.** The coarse levels, from the
   coarsest down to level ``_CHAINS_TO`` (3), are filled twice: once from a
   priority-ordered patch fill of the coarsest hole (Criminisi, Pérez &
   Toyama 2004, :func:`._patchmatch_kernels.priority_fill`: whole patches are
   copied in from the border inward, first where a line or edge meets the
   hole, so horizons, kerbs and rails are continued), once from a diffusion
   (Telea) fill; each start is then refined by the search and vote below, and
   the chain whose patches match closer (mean distance on its last level)
   is the one the finer levels refine. The patch start alone paints structure
   where the diffusion start leaves a smooth, object-shaped haze (blind, on 20
   DAVIS tuning removals each: ranked above the fill without it 10-6, 8-6 and
   14-5), but on large random holes it copies whole objects -- a bird's head,
   a tiger's face -- into the hole (hole PSNR 13.4 against 14.1 dB on thick
   masks of 12 CBSD68 photos); keeping the closer chain was ranked level with
   the patch start alone (6-6, 8 ties) and above the fill without it (13-7),
   and on those thick masks scores 14.7 dB. Picking on level 3 rather than 2
   (level 2 then runs once) was ranked above picking on level 2 in 4 and
   below in 1 of the 20 (15 ties: mostly the same pick), with the same
   figures on moved tuning masks and 9 % less time. It costs the coarse
   levels twice. Coarsest levels with no whole
   patch outside the hole start from diffusion only.
3. **Matches carried up.** A level starts from the coarser level's matches,
   scaled up and voted at the finer resolution (Wexler's trick: the finer
   level is built from finer source pixels, not from an upsampled image).
4. **EM iterations, many where they are cheap.** PatchMatch search
   (propagation and random search over the whole allowed area) alternates
   with voting; as in PyPatchMatch (Philippeau's schedule), level ``k`` gets
   ``1 + 2k`` rounds (at most ``iterations``) of ``1 + k`` passes (at most 4),
   so the coarse levels, where the layout is chosen, converge; the two finest
   levels, the costly ones, get one round each, and the finest one refines
   the carried-up matches by propagation alone (a coarsest level, whichever
   it is, gets at least the rounds of level 2 and the random search).
   A patch's vote is weighted by its similarity ``exp(-d / 2 sigma^2)``
   (sigma^2 the median of the distances).
5. **Texture features.** Patches are compared on colour and on two texture
   channels, the local mean of ``|dI/dx|`` and ``|dI/dy|`` (Newson et al.
   2014); these are voted into the hole like colour, and stop the search from
   settling on flat patches, the classic way Wexler-type fills turn to blur.

6. **Sources near the target's own stretch of border preferred.** In the
   search, copying from a pixel costs, on top of the patch distance,
   ``_ANCHOR_LOCALITY`` (50) per compared value at one hole size (the square
   root of the hole's area) from the target's anchor -- the known pixel
   nearest the target (:func:`_anchors`) -- growing with the square of the
   distance. Each part of the hole so prefers the texture beside its own
   part of the border: where a removed elephant stood between trees and a
   rock pile, the trees' side of the hole is filled with trees; with the
   earlier prior (the same cost by the source's distance from the hole as a
   whole, which the priority fill still uses: ``_LOCALITY``) the texture that
   dominated the hole's surroundings spread over the coarsest level and the
   finer levels refined a pale haze in the object's shape. Blind, on DAVIS
   tuning removals, two rounds: above the hole-distance prior in 16 of 24
   (7 below) and 11 of 20 (8 below); both priors together 15 to 8 in the
   first; against PyPatchMatch 15-9 and 7-13 where the fill before it
   scored 12-12 and 6-14. On 24 moved tuning
   masks 19.97 against 19.88 dB, structure 26.44 against 26.35, SSIM 0.423
   against 0.416, detail 0.743 against 0.761, seam 0.995 against 0.975
   (PyPatchMatch 1.217). (The hole-distance prior replaced none before it,
   ranked above it in 11 of 16.)
7. **Not from right next to the hole.** Patches reaching within ``ring``
   (4) px of the hole are not copied (unless nothing else is left): that ring
   often holds the removed object's fringe, shadow or stray parts, which were
   copied inward as object-coloured blotches. A first blind round ranked it
   above copying from anywhere 13 to 6 on 20 tuning removals, but there the
   two ran with different random seeds; compared with the same seed, the
   judges could not tell them apart (7 to 8, 5 ties). On 24 moved tuning
   masks (the same seed) it raised hole PSNR from 19.80 to 19.84 dB and the
   detail ratio from 0.74 to 0.79, structure PSNR fell from 26.28 to 26.18.
   An 8 px ring was not told apart from 4 (9 to 7, 4 ties). It costs
   exactness where the nearest texture is the best continuation: a hole in a
   brick wall is filled with bricks a little out of line (``ring=0`` for such
   holes).
8. **Gradient-domain fusion.** The finished fill is a patchwork of pieces
   copied from different places; :func:`_fuse` solves for the hole pixels
   whose differences to their neighbours are the ones their sources show,
   tied to the voted fill by a small weight, so that the tint steps between
   pieces and at the hole's border fade within about 14 px while the texture
   and layout stay. Where two neighbouring hole pixels were copied from
   different places, the edge takes the source difference of the pixel whose
   patch matched better. On 20 DAVIS tuning removals two blind judges ranked
   the fusion above the seam blend it replaced (an offset measured along the
   border only) in 9, below in 6 (5 ties), and again 9 to 6 (5 ties) when
   both ran with the same seed; the mean over the larger of the
   two differences 14 to 3. The better-matched pixel's difference was ranked
   over the mean 10 to 7 (3 ties) in a round where the two ran with
   different seeds; with the same seed the judges could not tell them apart
   (20 ties), nor do the moved masks (19.84 / 19.85 dB, detail 0.786 /
   0.779). On 24 moved masks of tuning frames the
   seam figure fell from 1.25 to 0.97 (the truth's: 1.01; PyPatchMatch
   1.22), hole PSNR rose from 19.70 to 19.81 dB and structure PSNR from
   26.07 to 26.28; the detail ratio fell from 0.77 to 0.73 (0.76 with the
   better-matched difference).
   The fusion sets the finest level's hole pixels from the matches' source
   differences and ties them to the fill only at the lowest frequencies, so
   the finest level's last search is not voted: the vote of the matches
   carried up from the coarser level holds those frequencies. (The detail
   vote that stood there, the voted mean plus the matched pixel's detail
   finer than 2.5 px, changed almost nothing after the fusion: on 24 moved
   DAVIS tuning masks 19.88 dB, detail 0.762, seam 0.976 with it; 19.88 dB,
   0.761, 0.975 without the last vote.)

Removed after blind judging on real object removals (DAVIS 345 tuning frames,
``benchmarks/remove_objects.py``): a structure step that took the coarse
shading of the fill from a diffusion fill (it imprinted the hole's shape and
carried colours across horizons), a detail step that added each hole pixel's
match's fine detail to the voted mean (blocky), and Wexler's border
confidence weighting (no visible gain); a seam blend that moved the fill by
an offset measured only along the hole's border (replaced by the fusion). See
``docs/`` and the README for the figures.

Every pixel written into the hole is computed from pixels where copying is
allowed: the votes read only allowed sources.
"""

from __future__ import annotations

import math
import os
from typing import Annotated

import cv2
import numba
import numpy as np
from pydantic import Field

from .. import registry
from ..convert import from_float, to_float
from ..validate import RetouchError, check_odd
from . import _patchmatch_kernels as K
from . import _structure
from ._base import fill

__all__ = ["patchmatch"]

# Settings chosen by eye on DAVIS 345 tuning frames (see the module docstring).
_SIGMA_PERCENTILE = 50  # sigma^2 of the similarity weights: this percentile of the distances (median)
_FEATURE_WEIGHT = 2.0  # weight of the two texture channels against colour (0..255 units): 4 over-textured (detail ratio 1.3 on chelsea), 1 blurred grass
_FINE_RADIUS = 0  # px: random search radius on the finest level (0: propagation only; its matches come from the coarser one)
_KERNEL = np.array([1, 5, 10, 10, 5, 1], np.float32) / 32.0  # pyramid filter
_KNOWN_FRACTION = 0.1  # a coarse pixel is known when this share of its footprint's weight is (0.5 copied stray structure into thin tall holes)
_MAX_PASSES = 4  # PatchMatch passes per round on the coarsest levels
_COARSEST_SIDE = 30  # px: the pyramid stops before a level whose shorter side would be under this
_STARTS = ("patches", "diffusion")
_CHAINS_TO = 3  # the levels from the coarsest down to this one run from both starts (patches, diffusion)
_LOCALITY = 50.0  # the priority fill's: cost per value, in squared 0..255 units, of a source one hole-size from the hole (grows with the square)
_ANCHOR_LOCALITY = 50.0  # the search's: the same, of a source one hole-size from the target's nearest known pixel
_FUSE_MU = 0.005  # weight that ties the fused fill to the voted one (its square root: 1 / the px over which a seam fades)
_FUSE_RTOL = 1e-3  # the fusion's solver stops at this relative residual (1e-4: twice the iterations; the fills differed by at most 4 levels of 255, mean under 0.1, on four DAVIS tuning frames)
_SEARCH_CHUNKS = 8  # the search runs on this many runs of targets in parallel (at most)
_MIN_CHUNK = 512  # targets per run at least


# ----------------------------------------------------------------------------- pyramid


def _down_known(img: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Halve an image averaging known pixels only (normalised 6 x 6 binomial filter).

    Returns the coarse image and its known mask: a coarse pixel is known when
    at least ``_KNOWN_FRACTION`` of its footprint's weight is, so the hole
    keeps its shape and the ring around it does not grow into it.
    """
    wk = known.astype(np.float32)
    num = cv2.sepFilter2D(img * wk[..., None], -1, _KERNEL, _KERNEL, anchor=(2, 2), borderType=cv2.BORDER_CONSTANT)
    den = cv2.sepFilter2D(wk, -1, _KERNEL, _KERNEL, anchor=(2, 2), borderType=cv2.BORDER_CONSTANT)
    if num.ndim == 2:
        num = num[..., None]
    num, den = num[::2, ::2], den[::2, ::2]
    ok = den >= _KNOWN_FRACTION
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
        if min(h, w) < 2 or (levels is None and (min(h, w) < 4 * r + 2 or (min(h, w) + 1) // 2 < _COARSEST_SIDE or not holes[-1].any())):
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


def _weights(d: np.ndarray, npix: int) -> np.ndarray:
    """Wexler's vote weights: similarity exp(-d / 2 sigma^2), sigma^2 the median distance."""
    dn = d.astype(np.float64) / npix
    s2 = max(float(np.percentile(dn, _SIGMA_PERCENTILE)), 1e-6)
    return np.maximum(np.exp(-dn / (2.0 * s2)), 1e-30)


def _random_sources(n: int, valid: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    vy, vx = np.nonzero(valid)
    pick = rng.integers(0, vy.size, n)
    return vy[pick].astype(np.int64), vx[pick].astype(np.int64)


def _schedule(level: int, iterations: int) -> tuple[int, int]:
    """(EM rounds, PatchMatch passes per round) at ``level`` (0 = finest).

    PyPatchMatch's schedule on the coarse levels: ``1 + 2 level`` rounds of
    ``1 + level`` passes, at most ``iterations`` rounds and ``_MAX_PASSES``
    passes; they are cheap, and the layout of the fill is chosen there. The
    two finest levels, which cost most, get one round: their matches come from
    the coarser level (three rounds on the second finest cost 20 to 50 % more
    time and changed nothing visible on DAVIS tuning frames).
    """
    rounds = 1 if level <= 1 else min(1 + 2 * level, iterations)
    return rounds, min(1 + level, _MAX_PASSES)


def _chunks(n: int) -> int:
    """Runs of targets the search splits into (parallel threads): ``_SEARCH_CHUNKS``, fewer for few targets.

    A fixed number, not the machine's thread count, so that a seed gives the
    same fill on every machine.
    """
    return int(max(1, min(_SEARCH_CHUNKS, n // _MIN_CHUNK)))


def _free_threads() -> int:
    """Threads the kernels use: the cores other processes leave free (by the 1-minute load average), at least 1.

    The results do not depend on it (see :mod:`._patchmatch_kernels`); the
    time does. On 2 cores with nothing else running, two threads filled four
    DAVIS tune frames 17-19 % faster than the serial kernels did before (one
    thread: 5-7 % slower, the cost of the split search), but with another
    process keeping a core busy two threads were 2.3x slower than one: a
    parallel loop waits for its slowest thread. Batch workers already get one
    thread per core they own (``retouch.batch``).
    """
    most = numba.get_num_threads()
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average (Windows)
        return most
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    # one unit of load is most likely this process itself (a fill that has run for a while)
    return int(max(1, min(most, math.floor(cores - busy + 1.0))))


def _match_image(a: np.ndarray) -> np.ndarray:
    """The ``H x (W * C)`` int16 image the distance kernel reads."""
    return np.rint(a).astype(np.int16).reshape(a.shape[0], -1)


# ----------------------------------------------------------------------------- core


def _start_level(img: np.ndarray, hl: np.ndarray, prev, valid: np.ndarray, r: int, start: str) -> np.ndarray:
    """A level's image with its hole first guessed, plus the texture channels.

    The coarsest level starts (``start``) from a priority-ordered patch fill
    of its hole (``"patches"``: :func:`._patchmatch_kernels.priority_fill`,
    Criminisi et al. 2004) or from a Telea fill (``"diffusion"``, and
    whenever no whole patch is left to copy from); the others from the
    coarser level's result, scaled up (its texture channels too).
    """
    hh, ww = hl.shape
    c = img.shape[2]
    if prev is None and start == "patches" and valid.any():
        img = np.ascontiguousarray(img, dtype=np.float32)
        K.priority_fill(img, hl, valid, _source_cost(hl, c, r).astype(np.float64), r)
        return np.dstack([img, _features(img)])
    if prev is None:
        u8 = np.clip(np.rint(img), 0, 255).astype(np.uint8)
        init = cv2.inpaint(u8, hl.view(np.uint8), 3, cv2.INPAINT_TELEA)
        img[hl] = init.reshape(hh, ww, c)[hl]
        return np.dstack([img, _features(img)])
    up = cv2.resize(prev[3], (ww, hh), interpolation=cv2.INTER_LINEAR).reshape(hh, ww, -1)
    img[hl] = up[hl][:, :c]
    img = np.dstack([img, _features(img)])
    img[hl] = up[hl]
    return img


def _carried_up(prev, ty, tx, valid, r, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Initial matches at this level: the coarser level's, scaled up; random where none fits.

    Returns ``(sy, sx, ok)``; ``ok`` marks the targets whose match was carried up.
    """
    hh, ww = valid.shape
    sy = np.full(ty.size, -1, np.int64)
    sx = np.full(ty.size, -1, np.int64)
    ok = np.zeros(ty.size, bool)
    if prev is not None and prev[0] is not None:
        ptindex, psy, psx = prev[0], prev[1], prev[2]
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
    return sy, sx, ok


def _fuse(
    out: np.ndarray, hole: np.ndarray, tindex: np.ndarray, sy: np.ndarray, sx: np.ndarray, src: np.ndarray, allowed: np.ndarray,
    d: np.ndarray | None = None,
) -> np.ndarray:
    """Gradient-domain fusion: take the seams out of a fill, at its border and between its pieces.

    The fill is a patchwork: neighbouring hole pixels were copied from
    different places, which may differ in brightness or tint, so the pieces
    show as tinted segments with straight edges, and the whole fill may not
    match its surroundings. Here the hole pixels ``u`` are solved for, in the
    least-squares sense, so that

    - the difference across every edge to a neighbour (in the hole, or a known
      pixel that may be copied from, ``allowed``) is the one the sources show:
      pixel ``p`` copied from ``s(p)`` should differ from its neighbour
      ``p + e`` as ``s(p)`` differs from ``s(p) + e`` (the mean of the two
      pixels' views where both are in the hole);
    - and ``u`` stays near the voted fill with weight ``_FUSE_MU``, which keeps
      the layout and lets a mismatch fade within about ``1 / sqrt(_FUSE_MU)``
      (14) px instead of spreading over the whole hole.

    The idea of Perez et al. (2003) and of the gradient-domain fusion of
    Photomontage (Agarwala et al. 2004) and Image Melding (Darabi et al.
    2012), with the guidance taken from each pixel's own source. The system
    is symmetric positive definite; :func:`._patchmatch_kernels.solve_fusion`
    solves it by preconditioned conjugate gradients from the fill.
    """
    hy, hx = np.nonzero(hole)
    k = tindex[hy, hx]
    has = k >= 0
    psy = np.where(has, sy[np.maximum(k, 0)], -1).astype(np.int64)
    psx = np.where(has, sx[np.maximum(k, 0)], -1).astype(np.int64)
    dq = np.where(has, d[np.maximum(k, 0)], -1).astype(np.float64) if d is not None else np.full(hy.size, -1.0)
    nbr, diag, b = K.fusion_system(
        hole, allowed, hy.astype(np.int64), hx.astype(np.int64), psy, psx,
        np.ascontiguousarray(src, dtype=np.float32), np.ascontiguousarray(out, dtype=np.float32), _FUSE_MU, dq,
    )
    x = out[hy, hx].astype(np.float64)
    K.solve_fusion(nbr, diag, b, x, _FUSE_RTOL, 1000)
    res = out.copy()
    res[hy, hx] = x
    return res


def _source_cost(hl: np.ndarray, channels: int, r: int) -> np.ndarray:
    """What copying from each pixel costs on top of the patch distance: a locality prior.

    ``_LOCALITY`` per compared value at one hole size (the square root of the
    hole's area) from the hole, growing with the square of the distance, so
    that of two equally good sources the nearer one wins.
    """
    if _LOCALITY <= 0:
        return np.zeros(hl.shape, np.int64)
    dist = cv2.distanceTransform((~hl).view(np.uint8), cv2.DIST_L2, 3)
    size = max(1.0, math.sqrt(float(hl.sum())))
    per = _LOCALITY * (2 * r + 1) ** 2 * channels
    return np.rint(per * (dist / size) ** 2).astype(np.int64)


def _anchors(hl: np.ndarray, ty: np.ndarray, tx: np.ndarray, channels: int, r: int):
    """Each target's anchor, the known pixel nearest its centre, and the weight of a source's distance from it.

    Returns ``(ay, ax, wloc)``: copying from a source costs ``wloc`` times its
    squared distance from the target's anchor, ``_ANCHOR_LOCALITY`` per
    compared value at one hole size (the square root of the hole's area), so
    that each part of the hole prefers the texture beside its own stretch of
    border -- the trees on one side of a removed animal, the rocks on the
    other -- rather than the texture that dominates the hole's surroundings.
    """
    known = (~hl).view(np.uint8)
    _, lab = cv2.distanceTransformWithLabels(1 - known, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
    ky, kx = np.nonzero(known)  # label k (from 1) is the k-th known pixel in raster order
    ly = np.zeros(ky.size + 1, np.int64)
    lx = np.zeros(kx.size + 1, np.int64)
    ly[1:], lx[1:] = ky, kx
    lab = np.minimum(lab[ty, tx], ky.size)
    size = max(1.0, math.sqrt(float(hl.sum())))
    wloc = _ANCHOR_LOCALITY * (2 * r + 1) ** 2 * channels / size**2
    return ly[lab], lx[lab], float(wloc)


def _vote_into(img, hy, hx, tindex, sy, sx, wts, r) -> None:
    """Replace the hole pixels of ``img`` (all channels) by the weighted vote of their patches."""
    vals = np.empty((hy.size, img.shape[2]), np.float32)
    K.vote(img, hy, hx, tindex, sy, sx, wts, r, r, vals)
    img[hy, hx] = vals


def _level(img, hl, valid, prev, lvl, r, npix, iterations, rng, fused=False, start="patches"):
    """Fill the hole of one pyramid level; returns what the next finer level starts from.

    ``fused``: the finest level, whose hole pixels the gradient-domain fusion
    sets from the matches; its last search is not voted (the fusion ties its
    result only to the lowest frequencies of the fill, which the vote of the
    carried-up matches already holds).
    """
    img = _start_level(img, hl, prev, valid, r, start)
    if not valid.any():
        return (None, None, None, img, None)
    hh, ww = hl.shape
    hy, hx = (a.astype(np.int64) for a in np.nonzero(hl))
    ty, tx, tindex = _targets(hl, r)
    sy, sx, ok = _carried_up(prev, ty, tx, valid, r, rng)
    cost = np.zeros(hl.shape, np.int64)  # no prior on the source alone: the anchors carry the locality
    ay, ax, wloc = _anchors(hl, ty, tx, img.shape[2], r)
    if ok.any():
        # the coarser matches, scaled up, voted at this resolution
        d = K.patch_distances(_match_image(img), img.shape[2], ty, tx, sy, sx, r, cost, ay, ax, wloc)
        _vote_into(img, hy, hx, tindex, sy, sx, _weights(d, npix), r)
    # the coarsest level (whichever it is) gets the coarse levels' rounds; random
    # search over the whole image, except on a finest level that has a coarser
    # one, whose matches carried up are only propagated
    n_em, n_pm = _schedule(lvl if prev is not None else max(lvl, 2), iterations)
    radius = _FINE_RADIUS if lvl == 0 and prev is not None else max(hh, ww)
    for em in range(n_em):
        m = _match_image(img)
        d = K.patch_distances(m, img.shape[2], ty, tx, sy, sx, r, cost, ay, ax, wloc)
        K.nnf_search(m, img.shape[2], valid, cost, ty, tx, tindex, sy, sx, d, r, n_pm, radius, int(rng.integers(1, 2**31)), _chunks(ty.size), ay, ax, wloc)
        if not (fused and em == n_em - 1):
            _vote_into(img, hy, hx, tindex, sy, sx, _weights(d, npix), r)
    return (tindex, sy, sx, img, d)


def _chain_score(prev) -> float:
    """How far a coarse chain's fill is from the photo: the mean distance of its patches' matches (lower is closer)."""
    return float(prev[4].mean()) if prev[4] is not None and prev[4].size else math.inf


def _core(
    color: np.ndarray,
    hole: np.ndarray,
    source_mask: np.ndarray | None = None,
    *,
    patch_size: int,
    levels: int | None,
    iterations: int,
    context: int | None,
    ring: int,
    seed: int,
    lines: bool = True,
) -> np.ndarray:
    f = to_float(color)
    if f.ndim == 2:
        f = f[..., None]
    f = np.ascontiguousarray(f * np.float32(255.0))
    f[hole] = 0.0  # never read what is under the hole
    c = f.shape[2]
    r = patch_size // 2
    if lines:  # straight edges that cross the hole go first (see _structure)
        f, hole = _structure.continue_lines(f, hole, ~hole if source_mask is None else ~hole & source_mask)
        if not hole.any():
            return from_float((f / np.float32(255.0)).reshape(color.shape), color.dtype)
    allowed = ~hole
    if source_mask is not None:
        allowed &= source_mask
    if context is not None:
        allowed &= cv2.distanceTransform((~hole).view(np.uint8), cv2.DIST_L2, 3) <= context
    seam_ok = allowed  # known pixels the fill's border is fused with
    if ring > 0:  # not copied from unless nothing else is left
        ring_ok = allowed & (cv2.distanceTransform((~hole).view(np.uint8), cv2.DIST_L2, 3) > ring)
        if _valid_centres(ring_ok, r).any():
            allowed = ring_ok
    valid0 = _valid_centres(allowed, r)
    if not valid0.any():
        raise RetouchError(
            f"no {patch_size}x{patch_size} patch outside the hole is left to copy from; "
            "allow more of the image (source_mask, context) or use a smaller patch_size"
        )

    imgs, holes, alloweds = _pyramid(f, hole, allowed, r, levels)
    npix = (2 * r + 1) ** 2 * c
    top = len(imgs) - 1
    split = min(_CHAINS_TO, top)
    valids = [valid0 if lvl == 0 else _valid_centres(alloweds[lvl], r) for lvl in range(top + 1)]

    def run(lvl, prev, rng, img, start="patches"):
        return _level(img, holes[lvl], valids[lvl], prev, lvl, r, npix, iterations, rng, lvl == 0, start)

    before = numba.get_num_threads()
    numba.set_num_threads(_free_threads())
    try:
        # the coarse levels twice, from the two starts; the chain whose matches are closer goes on
        best = None
        for start in _STARTS if valids[top].any() else ("diffusion",):
            rng = np.random.default_rng([seed, ("patches", "diffusion").index(start)])
            prev = None  # (tindex, sy, sx, filled image with feature channels, distances) of the coarser level
            for lvl in range(top, split - 1, -1):
                prev = run(lvl, prev, rng, imgs[lvl].copy(), start)
            energy = _chain_score(prev)
            if best is None or energy < best[0]:
                best = (energy, prev, rng)
        _, prev, rng = best
        for lvl in range(split - 1, -1, -1):
            prev = run(lvl, prev, rng, imgs[lvl])
    finally:
        numba.set_num_threads(before)

    out = prev[3][..., :c]
    if prev[0] is not None:
        out = _fuse(out, hole, prev[0], prev[1], prev[2], f, seam_ok, prev[4])
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
    iterations: Annotated[int, Field(ge=1, le=50)] = 9,
    source_mask: np.ndarray | None = None,
    context: Annotated[int, Field(ge=1)] | None = None,
    ring: Annotated[int, Field(ge=0, le=64)] = 4,
    lines: bool = True,
    seed: Annotated[int, Field(ge=0)] = 0,
) -> np.ndarray:
    """Exemplar fill that copies real texture from the rest of the photo (PatchMatch).

    A multi-scale fill in the manner of Wexler, Shechtman & Irani (2007) with
    the PatchMatch search of Barnes et al. (2009): on each level of a pyramid
    it alternates a nearest-neighbour search for every patch over the hole and
    a weighted vote of those patches into the hole pixels, starting from the
    coarser level's matches, preferring sources near each target's nearest
    stretch of the hole's border. The coarse
    levels run from two starts, a priority-ordered patch fill (Criminisi et
    al. 2004, which continues lines into the hole) and a diffusion fill, and
    the one whose patches match closer goes on to the finer levels; the seams
    between the copied pieces and at the hole's border are then fused away in
    the gradient domain. Use it for holes wider than a few pixels, where diffusion fills
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
        Most search-and-vote rounds on one level: level ``k`` (0 the finest)
        gets ``1 + 2k`` rounds, at most this many; the two finest get one.
    source_mask : ndarray of bool, optional
        ``H x W``, True where pixels may be copied from (default: everywhere
        outside the hole). Use it to keep, say, a second person from being
        copied into the hole.
    context : int or None
        Copy only from pixels at most this many pixels from the hole (like
        Resynthesizer's context width); None: the whole image.
    ring : int
        Pixels this close to the hole are not copied from (unless nothing
        else is left), though the fill's border is still fused with them: next
        to a removed object they often hold its fringe, shadow or stray parts,
        which were copied inward as object-coloured blotches. On DAVIS
        removals blind judges could not tell 4 px from 0; on moved masks 4 px
        kept more detail (0.79 against 0.74). 0 copies from right next to the
        hole, which continues a regular pattern (bricks, tiles) more exactly.
    lines : bool
        Continue straight edges that cross the hole before the fill: a long
        straight segment that meets the hole, and a collinear one that meets
        it from the far side, are joined by a narrow band filled along the
        line (a pole behind a removed dog, a kerb behind a scooter); the fill
        then fills the rest around it. Nothing changes where no such pair is
        found. False: the exemplar fill alone.
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

    A. Criminisi, P. Pérez, K. Toyama, "Region Filling and Object Removal by
    Exemplar-Based Image Inpainting", IEEE TIP 13(9), 2004.
    :DOI:`10.1109/TIP.2004.833105`

    P. Pérez, M. Gangnet, A. Blake, "Poisson Image Editing", ACM TOG 22(3)
    (SIGGRAPH), 2003. :DOI:`10.1145/882262.882269`

    A. Agarwala, M. Dontcheva, M. Agrawala, S. Drucker, A. Colburn, B.
    Curless, D. Salesin, M. Cohen, "Interactive Digital Photomontage", ACM TOG
    23(3) (SIGGRAPH), 2004. :DOI:`10.1145/1015706.1015718`

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
        ring=ring,
        lines=lines,
        seed=seed,
    )
