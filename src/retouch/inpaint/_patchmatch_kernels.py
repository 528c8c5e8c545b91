"""numba kernels of :func:`retouch.inpaint.patchmatch`: patch distances, NNF search, voting, fusion, the priority-ordered start.

Every kernel is compiled once and cached on disk (``cache=True``), so only the
first call on a machine pays the compile time. The search splits its targets
into a fixed number of runs, each searched in its own thread with its own
seeded xorshift stream (see :func:`nnf_search`); the distances and the vote,
where every output element is computed on its own, run in parallel threads.
Either way a given seed gives the same result whatever the number of threads. :mod:`._patchmatch_reference` holds
plain NumPy / Python versions that the tests compare them with.

Conventions shared by the kernels:

- the search reads the *matching image*, ``H x (W * C)`` int16 (the ``C``
  channels of a pixel side by side, values in about [0, 255]), so a patch row
  is one contiguous run and integer sums are exact; the vote reads and writes
  ``H x W x C`` float32;
- a patch is the ``(2r + 1) x (2r + 1)`` square around its centre, and every
  centre (target or source) lies at least ``r`` pixels inside the image, so a
  patch never needs a bounds check;
- ``ty, tx`` list the target centres (patches that overlap the hole) in raster
  order and ``tindex`` maps a pixel to its position in that list (-1 if none);
- ``sy, sx`` hold the nearest-neighbour field: the source centre matched to
  each target, always one where ``valid`` is True; ``d`` is its distance.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

__all__ = ["xorshift", "patch_distance", "patch_distances", "nnf_search", "vote", "fusion_system", "solve_fusion", "priority_fill"]

_MASK32 = 0xFFFFFFFF


@njit(cache=True, nogil=True)
def xorshift(state: int) -> int:
    """One step of Marsaglia's 32-bit xorshift (state kept in an int64, never 0)."""
    state ^= (state << 13) & _MASK32
    state ^= state >> 17
    state ^= (state << 5) & _MASK32
    return state


@njit(cache=True, nogil=True, inline="always")
def patch_distance(img, c, ay, ax, by, bx, r, limit):
    """Sum of squared differences between the patches at (ay, ax) and (by, bx).

    ``img`` is the ``H x (W * C)`` integer matching image. Stops early and
    returns a partial sum (>= ``limit``) once it reaches ``limit``.
    """
    n = (2 * r + 1) * c
    oa = (ax - r) * c
    ob = (bx - r) * c
    acc = np.int64(0)
    for dy in range(-r, r + 1):
        ra = img[ay + dy]
        rb = img[by + dy]
        s = np.int32(0)
        for k in range(n):
            t = np.int32(ra[oa + k]) - np.int32(rb[ob + k])
            s += t * t
        acc += s
        if acc >= limit:
            return acc
    return acc


@njit(cache=True, nogil=True, parallel=True)
def patch_distances(img, c, ty, tx, sy, sx, r, cost, ay, ax, wloc):
    """Distance of every target patch to its current match, plus what copying from there costs.

    The cost (:func:`copy_cost`) is the source's ``cost`` plus ``wloc`` times
    the squared distance of the source from the target's anchor ``(ay, ax)``.

    Each distance is independent of the others, so they are computed in
    parallel threads; the result does not depend on the number of threads.
    """
    n = ty.shape[0]
    d = np.empty(n, np.int64)
    big = np.int64(1) << 62
    for i in prange(n):
        d[i] = patch_distance(img, c, ty[i], tx[i], sy[i], sx[i], r, big) + copy_cost(cost, ay, ax, wloc, i, sy[i], sx[i])
    return d


@njit(cache=True, nogil=True, inline="always")
def copy_cost(cost, ay, ax, wloc, i, y, x):
    """What copying source ``(y, x)`` into target ``i`` costs on top of the patch distance.

    ``cost[y, x]`` (a prior on the source alone) plus ``wloc`` times the
    squared distance from the target's anchor ``(ay[i], ax[i])``, truncated
    to an integer.
    """
    dy = y - ay[i]
    dx = x - ax[i]
    return cost[y, x] + np.int64(wloc * (dy * dy + dx * dx))


@njit(cache=True, nogil=True, inline="always")
def _try(img, c, valid, cost, i, cy, cx, ty, tx, sy, sx, d, r, ay, ax, wloc):
    """Take source (cy, cx) for target i when it is valid and closer (distance plus the copy cost)."""
    if cy == sy[i] and cx == sx[i]:
        return False
    if not valid[cy, cx]:
        return False
    extra = copy_cost(cost, ay, ax, wloc, i, cy, cx)
    if extra >= d[i]:
        return False
    dist = patch_distance(img, c, ty[i], tx[i], cy, cx, r, d[i] - extra) + extra
    if dist < d[i]:
        d[i] = dist
        sy[i] = cy
        sx[i] = cx
        return True
    return False


@njit(cache=True, nogil=True, inline="always")
def _chunk_bounds(n, chunks, j, it):
    """Targets ``[lo, hi)`` of chunk ``j`` in pass ``it``: odd passes shift the cuts by half a chunk."""
    shift = (it % 2) * (n // (2 * chunks))
    lo = 0 if j == 0 else min(n, j * n // chunks + shift)
    hi = n if j == chunks - 1 else min(n, (j + 1) * n // chunks + shift)
    return lo, hi


@njit(cache=True, nogil=True, parallel=True)
def nnf_search(img, c, valid, cost, ty, tx, tindex, sy, sx, d, r, iterations, max_radius, seed, chunks, ay, ax, wloc):
    """PatchMatch (Barnes et al. 2009): propagation and random search, in place.

    Odd passes scan in raster order and propagate from the left and upper
    neighbours; even passes scan backwards from the right and lower ones. After
    the propagation step each target samples sources at exponentially
    shrinking distances (``max_radius``, half of it, ... 1) around its best
    match. What copying a source costs (:func:`copy_cost`: its ``cost``, an
    ``H x W`` int64 prior, plus ``wloc`` times its squared distance from the
    target's anchor ``(ay, ax)``) is added to its distance.

    The targets (in raster order) are cut into ``chunks`` runs searched in
    parallel threads, each with its own xorshift stream seeded from ``seed``
    and the chunk's number; a target propagates only from neighbours of its
    own run, and every other pass moves the cuts by half a run so that matches
    flow across them. A chunk reads and writes only its own targets' matches,
    so the result depends on ``seed`` and ``chunks``, never on the number of
    threads. Returns the XOR of the chunks' generator states after their last
    draws.
    """
    h, w = valid.shape
    n = ty.shape[0]
    lo_y, hi_y = r, h - r - 1
    lo_x, hi_x = r, w - r - 1
    states = np.empty(chunks, np.int64)
    for j in range(chunks):
        st = (np.int64(seed) + np.int64(j) * np.int64(0x9E3779B9)) & _MASK32
        if st == 0:
            st = 0x9E3779B9
        states[j] = st
    for it in range(iterations):
        forward = it % 2 == 0
        step = 1 if forward else -1
        for j in prange(chunks):
            lo, hi = _chunk_bounds(n, chunks, j, it)
            state = states[j]
            for jj in range(hi - lo):
                i = lo + jj if forward else hi - 1 - jj
                y = ty[i]
                x = tx[i]
                # propagation: the left / upper (or right / lower) neighbour's match, shifted by one pixel
                for dy, dx in ((0, step), (step, 0)):
                    ny = y - dy
                    nx = x - dx
                    if 0 <= ny < h and 0 <= nx < w:
                        k = tindex[ny, nx]
                        if lo <= k < hi:
                            cy = sy[k] + dy
                            cx = sx[k] + dx
                            if lo_y <= cy <= hi_y and lo_x <= cx <= hi_x:
                                _try(img, c, valid, cost, i, cy, cx, ty, tx, sy, sx, d, r, ay, ax, wloc)
                # random search around the best match, radius halving down to 1
                rad = max_radius
                while rad >= 1:
                    state = xorshift(state)
                    cy = sy[i] + state % (2 * rad + 1) - rad
                    state = xorshift(state)
                    cx = sx[i] + state % (2 * rad + 1) - rad
                    cy = min(max(cy, lo_y), hi_y)
                    cx = min(max(cx, lo_x), hi_x)
                    _try(img, c, valid, cost, i, cy, cx, ty, tx, sy, sx, d, r, ay, ax, wloc)
                    rad //= 2
            states[j] = state
    out = np.int64(0)
    for j in range(chunks):
        out ^= states[j]
    return out


@njit(cache=True, nogil=True, parallel=True)
def vote(img, hy, hx, tindex, sy, sx, weight, r, vr, out):
    """Re-estimate each hole pixel as the weighted mean of the patches over it.

    For the hole pixel ``q = (hy[j], hx[j])`` every target patch centred at
    ``p`` with ``|p - q| <= r`` proposes the pixel of its source at the same
    offset, ``img[s(p) + q - p]``, with the weight ``weight[p]``
    (Wexler, Shechtman & Irani 2007). ``out[j]`` gets the weighted mean.
    Every hole pixel is computed on its own (in parallel threads, reading
    ``img`` and writing only ``out[j]``), so the result does not depend on the
    number of threads.
    """
    h, w = tindex.shape
    c = img.shape[2]
    for j in prange(hy.shape[0]):
        acc = np.zeros(c, np.float64)
        y = hy[j]
        x = hx[j]
        total = 0.0
        for dy in range(-vr, vr + 1):
            py = y - dy
            if py < 0 or py >= h:
                continue
            for dx in range(-vr, vr + 1):
                px = x - dx
                if px < 0 or px >= w:
                    continue
                k = tindex[py, px]
                if k < 0:
                    continue
                wk = weight[k]
                if wk <= 0.0:
                    continue
                qy = sy[k] + dy
                qx = sx[k] + dx
                for ch in range(c):
                    acc[ch] += wk * img[qy, qx, ch]
                total += wk
        if total > 0.0:
            for ch in range(c):
                out[j, ch] = acc[ch] / total
        else:
            for ch in range(c):
                out[j, ch] = img[y, x, ch]
    return out


@njit(cache=True, nogil=True)
def _apply(nbr, diag, x, out):
    n, c = x.shape
    for i in range(n):
        for ch in range(c):
            out[i, ch] = diag[i] * x[i, ch]
        for k in range(4):
            j = nbr[i, k]
            if j >= 0:
                for ch in range(c):
                    out[i, ch] -= x[j, ch]


@njit(cache=True, nogil=True)
def solve_fusion(nbr, diag, b, x, rtol, maxiter):
    """Solve ``A x = b`` for each column (Jacobi-preconditioned conjugate gradients), ``x`` the start, in place.

    ``A`` is symmetric positive definite: ``diag`` on the diagonal and -1
    towards each neighbour ``nbr[i, k]`` (-1: none). The columns
    (colour channels) are independent systems with the same matrix, iterated
    side by side until each residual is ``rtol`` times its ``b``. Returns the
    number of iterations.
    """
    n, c = b.shape
    r = np.empty((n, c))
    z = np.empty((n, c))
    p = np.empty((n, c))
    q = np.empty((n, c))
    bn = np.zeros(c)
    rz = np.zeros(c)
    done = np.zeros(c, np.bool_)
    _apply(nbr, diag, x, q)
    for i in range(n):
        for ch in range(c):
            r[i, ch] = b[i, ch] - q[i, ch]
            bn[ch] += b[i, ch] * b[i, ch]
            z[i, ch] = r[i, ch] / diag[i]
            p[i, ch] = z[i, ch]
            rz[ch] += r[i, ch] * z[i, ch]
    for ch in range(c):
        bn[ch] = max(np.sqrt(bn[ch]), 1e-30)
    it = 0
    while it < maxiter:
        rn = np.zeros(c)
        for i in range(n):
            for ch in range(c):
                rn[ch] += r[i, ch] * r[i, ch]
        left = 0
        for ch in range(c):
            done[ch] = done[ch] or np.sqrt(rn[ch]) <= rtol * bn[ch]
            left += 0 if done[ch] else 1
        if left == 0:
            break
        _apply(nbr, diag, p, q)
        pq = np.zeros(c)
        for i in range(n):
            for ch in range(c):
                pq[ch] += p[i, ch] * q[i, ch]
        a = np.zeros(c)
        for ch in range(c):
            if not done[ch] and pq[ch] > 0.0:
                a[ch] = rz[ch] / pq[ch]
            else:
                done[ch] = True
        rz2 = np.zeros(c)
        for i in range(n):
            for ch in range(c):
                x[i, ch] += a[ch] * p[i, ch]
                r[i, ch] -= a[ch] * q[i, ch]
                z[i, ch] = r[i, ch] / diag[i]
                rz2[ch] += r[i, ch] * z[i, ch]
        beta = np.zeros(c)
        for ch in range(c):
            beta[ch] = rz2[ch] / rz[ch] if rz[ch] > 0.0 else 0.0
            rz[ch] = rz2[ch]
        for i in range(n):
            for ch in range(c):
                p[i, ch] = z[i, ch] + beta[ch] * p[i, ch]
        it += 1
    return it


@njit(cache=True, nogil=True)
def fusion_system(hole, allowed, hy, hx, psy, psx, src, fill, mu, dq):
    """The least-squares system of the gradient-domain fusion (see ``patchmatch._fuse``).

    For hole pixel ``i`` at ``(hy[i], hx[i])`` with source centre ``(psy[i],
    psx[i])`` (-1: none) and each of its four neighbours ``q`` that is a hole
    pixel or an allowed known pixel: the guidance ``g`` for ``u_i - u_q`` is
    the mean of the source-side differences of the two pixels that have a
    source (the fill's own difference if neither has); each edge weighs 1,
    and ``mu`` ties ``u_i`` to ``fill``. A known neighbour's value moves to
    the right-hand side. Returns ``nbr, diag, b`` for :func:`solve_fusion`.
    """
    h, w = hole.shape
    n = hy.shape[0]
    c = fill.shape[2]
    idx = np.full((h, w), -1, np.int64)
    for i in range(n):
        idx[hy[i], hx[i]] = i
    nbr = np.full((n, 4), -1, np.int64)
    diag = np.full(n, mu)
    b = np.empty((n, c))
    g = np.empty(c)
    for i in range(n):
        y, x = hy[i], hx[i]
        for ch in range(c):
            b[i, ch] = mu * fill[y, x, ch]
        for k in range(4):
            dy = 0 if k % 2 == 0 else (1 if k == 1 else -1)
            dx = 0 if k % 2 == 1 else (1 if k == 0 else -1)
            qy, qx = y + dy, x + dx
            if qy < 0 or qy >= h or qx < 0 or qx >= w:
                continue
            inside = hole[qy, qx]
            if not inside and not allowed[qy, qx]:
                continue
            cnt = 0
            for ch in range(c):
                g[ch] = 0.0
            if psy[i] >= 0:
                for ch in range(c):
                    g[ch] += src[psy[i], psx[i], ch] - src[psy[i] + dy, psx[i] + dx, ch]
                cnt += 1
            j = idx[qy, qx] if inside else -1
            if j >= 0 and psy[j] >= 0:
                if cnt == 1 and dq[i] >= 0 and dq[j] >= 0 and dq[j] != dq[i]:
                    if dq[j] < dq[i]:  # the neighbour's match is the better one: its view alone
                        for ch in range(c):
                            g[ch] = src[psy[j] - dy, psx[j] - dx, ch] - src[psy[j], psx[j], ch]
                else:
                    for ch in range(c):
                        g[ch] += src[psy[j] - dy, psx[j] - dx, ch] - src[psy[j], psx[j], ch]
                    cnt += 1
            if cnt == 0:
                for ch in range(c):
                    g[ch] = fill[y, x, ch] - fill[qy, qx, ch]
                cnt = 1
            diag[i] += 1.0
            for ch in range(c):
                b[i, ch] += g[ch] / cnt
            if inside:
                nbr[i, k] = j
            else:
                for ch in range(c):
                    b[i, ch] += fill[qy, qx, ch]
    return nbr, diag, b


@njit(cache=True, nogil=True)
def priority_fill(img, hole, valid, cost, r):
    """Fill ``hole`` of ``img`` in place by copying whole patches, in Criminisi's priority order.

    Criminisi, Pérez & Toyama (2004): repeatedly take the pixel on the fill
    front (a hole pixel with a known 4-neighbour) of highest priority
    ``C(p) D(p)``, find the source centre (``valid``) whose patch best matches
    the known pixels of the patch at ``p`` (sum of squared differences over
    all channels, plus ``cost`` of the source), and copy that patch's pixels
    into the hole pixels of the patch at ``p``. ``C(p)``, the confidence, is
    the mean over the patch of the pixels' confidences (1 for known pixels, a
    filled pixel takes the confidence of the patch that filled it), so the
    front advances from where most is known; ``D(p) = |isophote . normal| /
    255 + 0.001``, with the isophote the strongest luminance gradient among
    the patch's known pixels turned by 90 degrees, so that a line (an edge, a
    horizon) that meets the front is continued along its direction first.

    ``img`` is ``H x W x C`` float32 (values about 0..255), ``hole`` bool,
    ``valid`` the centres whose whole patch may be copied (at least one),
    ``cost`` an ``H x W`` float64 cost of copying from each centre. A target
    patch is clamped to lie in the image. Deterministic: ties go to the
    first pixel in raster order and the first source. Returns the number of
    patches copied.
    """
    h, w, c = img.shape
    nc = min(c, 3)
    known = ~hole
    conf = np.zeros((h, w))
    lum = np.zeros((h, w))
    for y in range(h):
        for x in range(w):
            if known[y, x]:
                conf[y, x] = 1.0
            s = 0.0
            for ch in range(nc):
                s += img[y, x, ch]
            lum[y, x] = s / nc
    n = 0
    for y in range(h):
        for x in range(w):
            if valid[y, x]:
                n += 1
    cy = np.empty(n, np.int64)
    cx = np.empty(n, np.int64)
    k = 0
    for y in range(h):
        for x in range(w):
            if valid[y, x]:
                cy[k] = y
                cx[k] = x
                k += 1
    remaining = 0
    for y in range(h):
        for x in range(w):
            if hole[y, x]:
                remaining += 1
    copies = 0
    while remaining > 0:
        best = -1.0
        by = -1
        bx = -1
        for y in range(h):
            for x in range(w):
                if known[y, x]:
                    continue
                if not ((y > 0 and known[y - 1, x]) or (y < h - 1 and known[y + 1, x])
                        or (x > 0 and known[y, x - 1]) or (x < w - 1 and known[y, x + 1])):
                    continue
                cs = 0.0
                m = 0
                for yy in range(max(0, y - r), min(h, y + r + 1)):
                    for xx in range(max(0, x - r), min(w, x + r + 1)):
                        cs += conf[yy, xx]
                        m += 1
                # the front's normal: Sobel gradient of the known indicator
                ny = 0.0
                nx = 0.0
                for dy in range(-1, 2):
                    for dx in range(-1, 2):
                        if known[min(max(y + dy, 0), h - 1), min(max(x + dx, 0), w - 1)]:
                            nx += dx * (2.0 if dy == 0 else 1.0)
                            ny += dy * (2.0 if dx == 0 else 1.0)
                nn = math.sqrt(nx * nx + ny * ny) + 1e-9
                # the isophote: the strongest gradient among known pixels whose 4 neighbours are known, turned
                g2 = 0.0
                ix = 0.0
                iy = 0.0
                for yy in range(max(1, y - r), min(h - 1, y + r + 1)):
                    for xx in range(max(1, x - r), min(w - 1, x + r + 1)):
                        if not (known[yy, xx] and known[yy - 1, xx] and known[yy + 1, xx] and known[yy, xx - 1] and known[yy, xx + 1]):
                            continue
                        gx = 0.5 * (lum[yy, xx + 1] - lum[yy, xx - 1])
                        gy = 0.5 * (lum[yy + 1, xx] - lum[yy - 1, xx])
                        if gx * gx + gy * gy > g2:
                            g2 = gx * gx + gy * gy
                            ix = -gy
                            iy = gx
                p = (cs / m) * (abs(ix * nx + iy * ny) / nn / 255.0 + 0.001)
                if p > best:
                    best = p
                    by = y
                    bx = x
        ty = min(max(by, r), h - r - 1)
        tx = min(max(bx, r), w - r - 1)
        bd = np.inf
        bs = 0
        for k in range(n):
            sy = cy[k]
            sx = cx[k]
            d = cost[sy, sx]
            if d >= bd:
                continue
            for dy in range(-r, r + 1):
                for dx in range(-r, r + 1):
                    if known[ty + dy, tx + dx]:
                        for ch in range(c):
                            t = img[ty + dy, tx + dx, ch] - img[sy + dy, sx + dx, ch]
                            d += t * t
                if d >= bd:
                    break
            if d < bd:
                bd = d
                bs = k
        sy = cy[bs]
        sx = cx[bs]
        cp = 0.0
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                cp += conf[ty + dy, tx + dx]
        cp /= (2 * r + 1) * (2 * r + 1)
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                yy = ty + dy
                xx = tx + dx
                if known[yy, xx]:
                    continue
                s = 0.0
                for ch in range(c):
                    img[yy, xx, ch] = img[sy + dy, sx + dx, ch]
                for ch in range(nc):
                    s += img[yy, xx, ch]
                lum[yy, xx] = s / nc
                known[yy, xx] = True
                conf[yy, xx] = cp
                remaining -= 1
        copies += 1
    return copies
