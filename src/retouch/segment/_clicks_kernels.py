"""Hot loop of :mod:`retouch.segment._clicks_engine`, in numba: GrabCut's colour model on superpixels.

:func:`gmm_rounds` runs the hard-assignment rounds of
``Engine._gmm_fit`` (the NumPy reference, ``Engine._gmm_fit_reference``,
does the same arithmetic; the tests compare them): from a start assignment
of the weighted superpixels to ``k`` components, each round fits every
component's weight, mean and full covariance (plus a noise floor) on the
superpixels' exact colour moments, scores every superpixel's expected
log-likelihood under each component, and moves it to the best one. The
first-click solve fits 42 models, which took 0.3 s in NumPy at 1 MP.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["gmm_rounds", "gmm_start", "logsumexp_rows", "source_side", "warm_up"]

_LOG2PI3 = 3.0 * np.log(2.0 * np.pi)


@njit(cache=True, nogil=True)
def gmm_start(w, mu, axis, m0, k):  # pragma: no cover - compiled
    """Start components: ``k`` slices of equal weight along ``axis`` (the weighted colours' principal axis)."""
    n = mu.shape[0]
    proj = np.empty(n)
    for i in range(n):
        proj[i] = (mu[i, 0] - m0[0]) * axis[0] + (mu[i, 1] - m0[1]) * axis[1] + (mu[i, 2] - m0[2]) * axis[2]
    order = np.argsort(proj, kind="mergesort")
    tot = 0.0
    for i in range(n):
        tot += w[i]
    assign = np.empty(n, np.int64)
    cum = 0.0
    for t in range(n):
        i = order[t]
        cum += w[i]
        a = int(cum / tot * k)
        assign[i] = a if a < k - 1 else k - 1
    return assign


@njit(cache=True, nogil=True)
def gmm_rounds(w, mu, sec9, cov9, assign, k, rounds, floor):  # pragma: no cover - compiled
    """Fit ``k`` Gaussians to weighted superpixel moments by ``rounds`` hard-assignment rounds.

    Parameters: ``w`` (n,) weights >= 0; ``mu`` (n, 3) means; ``sec9`` (n, 9)
    second moments E[x x^T]; ``cov9`` (n, 9) covariances; ``assign`` (n,)
    start components (changed in place); ``floor`` added to each covariance's
    diagonal.

    Returns ``ll`` (n, k), each superpixel's expected log-likelihood under
    each component of the last round's fit (-inf for an empty component),
    and ``comps`` (k, 14): log weight, mean (3), inverse covariance (9), log
    determinant per component, with ``valid`` (k,) False for empty ones.
    """
    n = mu.shape[0]
    tot = 0.0
    for i in range(n):
        tot += w[i]
    ll = np.empty((n, k))
    comps = np.zeros((k, 14))
    valid = np.zeros(k, np.bool_)
    for _ in range(rounds):
        sk = np.zeros(k)
        s1 = np.zeros((k, 3))
        s2 = np.zeros((k, 9))
        for i in range(n):
            wi = w[i]
            if wi <= 0.0:
                continue
            j = assign[i]
            sk[j] += wi
            for c in range(3):
                s1[j, c] += wi * mu[i, c]
            for c in range(9):
                s2[j, c] += wi * sec9[i, c]
        for j in range(k):
            valid[j] = sk[j] > 1e-9
            if not valid[j]:
                continue
            m0 = s1[j, 0] / sk[j]
            m1 = s1[j, 1] / sk[j]
            m2 = s1[j, 2] / sk[j]
            a = s2[j, 0] / sk[j] - m0 * m0 + floor
            b = s2[j, 1] / sk[j] - m0 * m1
            c_ = s2[j, 2] / sk[j] - m0 * m2
            d = s2[j, 4] / sk[j] - m1 * m1 + floor
            e = s2[j, 5] / sk[j] - m1 * m2
            f = s2[j, 8] / sk[j] - m2 * m2 + floor
            # symmetric 3 x 3 inverse by cofactors
            A = d * f - e * e
            B = c_ * e - b * f
            C = b * e - c_ * d
            det = a * A + b * B + c_ * C
            comps[j, 0] = np.log(sk[j] / tot)
            comps[j, 1] = m0
            comps[j, 2] = m1
            comps[j, 3] = m2
            comps[j, 4] = A / det
            comps[j, 5] = B / det
            comps[j, 6] = C / det
            comps[j, 7] = B / det
            comps[j, 8] = (a * f - c_ * c_) / det
            comps[j, 9] = (b * c_ - a * e) / det
            comps[j, 10] = C / det
            comps[j, 11] = (b * c_ - a * e) / det
            comps[j, 12] = (a * d - b * b) / det
            comps[j, 13] = np.log(det)
        for j in range(k):
            if not valid[j]:
                for i in range(n):
                    ll[i, j] = -np.inf
                continue
            lw = comps[j, 0] - 0.5 * (comps[j, 13] + _LOG2PI3)
            c0, c1, c2 = comps[j, 1], comps[j, 2], comps[j, 3]
            i00, i01, i02 = comps[j, 4], comps[j, 5], comps[j, 6]
            i11, i12, i22 = comps[j, 8], comps[j, 9], comps[j, 12]
            for i in range(n):
                d0 = mu[i, 0] - c0
                d1 = mu[i, 1] - c1
                d2 = mu[i, 2] - c2
                maha = (i00 * d0 * d0 + i11 * d1 * d1 + i22 * d2 * d2
                        + 2.0 * (i01 * d0 * d1 + i02 * d0 * d2 + i12 * d1 * d2))
                # the superpixel's own spread: trace(cov_i inv)
                maha += (cov9[i, 0] * i00 + cov9[i, 4] * i11 + cov9[i, 8] * i22
                         + 2.0 * (cov9[i, 1] * i01 + cov9[i, 2] * i02 + cov9[i, 5] * i12))
                ll[i, j] = lw - 0.5 * maha
        for i in range(n):
            best = -np.inf
            arg = 0
            for j in range(k):
                if ll[i, j] > best:
                    best = ll[i, j]
                    arg = j
            assign[i] = arg
    return ll, comps, valid


@njit(cache=True, nogil=True)
def logsumexp_rows(ll):  # pragma: no cover - compiled
    """``log(sum(exp(ll), axis=1))`` without overflow (a row of -inf gives -inf)."""
    n, k = ll.shape
    out = np.empty(n)
    for i in range(n):
        top = -np.inf
        for j in range(k):
            if ll[i, j] > top:
                top = ll[i, j]
        if top == -np.inf:
            out[i] = -np.inf
            continue
        s = 0.0
        for j in range(k):
            s += np.exp(ll[i, j] - top)
        out[i] = top + np.log(s)
    return out


@njit(cache=True, nogil=True)
def source_side(n, eu, ev, cap_uv, cap_vu, t_src, t_snk):  # pragma: no cover - compiled
    """Minimum s-t cut by Boykov & Kolmogorov's augmenting-path algorithm; True on the source side.

    Nodes ``0..n-1``; edge ``e`` joins ``eu[e]`` and ``ev[e]`` with capacity
    ``cap_uv[e]`` one way and ``cap_vu[e]`` the other; ``t_src`` and ``t_snk``
    are each node's capacities from the source and to the sink. Capacities
    are integers (int64), so the flow is exact. The source side returned is
    the set of nodes reachable from the source in the residual graph of the
    maximum flow, the smallest minimum cut (the same set for every maximum
    flow, so the same as ``scipy.sparse.csgraph.maximum_flow`` gives).

    Y. Boykov, V. Kolmogorov, "An experimental comparison of min-cut/max-flow
    algorithms for energy minimization in vision", IEEE TPAMI 26(9), 2004.
    """
    m = len(eu)
    first = np.zeros(n + 1, np.int64)
    for e in range(m):
        first[eu[e] + 1] += 1
        first[ev[e] + 1] += 1
    for i in range(n):
        first[i + 1] += first[i]
    fill = first[:n].copy()
    head = np.empty(2 * m, np.int64)
    rev = np.empty(2 * m, np.int64)
    rcap = np.empty(2 * m, np.int64)
    for e in range(m):
        u = eu[e]
        v = ev[e]
        a = fill[u]
        fill[u] += 1
        b = fill[v]
        fill[v] += 1
        head[a] = v
        rcap[a] = cap_uv[e]
        head[b] = u
        rcap[b] = cap_vu[e]
        rev[a] = b
        rev[b] = a
    tr = t_src - t_snk  # the flow s -> i -> t through both terminals is taken at once
    tree = np.zeros(n, np.int8)  # 0 free, 1 source tree, 2 sink tree
    parent = np.full(n, -2, np.int64)  # arc to the parent; -1: a terminal; -2: none
    queue = np.empty(n + 1, np.int64)
    inq = np.zeros(n, np.bool_)
    qh = 0
    qt = 0
    for i in range(n):
        if tr[i] != 0:
            tree[i] = 1 if tr[i] > 0 else 2
            parent[i] = -1
            queue[qt] = i
            qt = (qt + 1) % (n + 1)
            inq[i] = True
    orphans = np.empty(n, np.int64)
    no = 0
    while True:
        # growth: the trees grow from their active nodes until they touch
        mid = -1
        while qh != qt:
            p = queue[qh]
            if tree[p] != 0:
                tp = tree[p]
                for a in range(first[p], first[p + 1]):
                    if (rcap[a] if tp == 1 else rcap[rev[a]]) <= 0:
                        continue
                    q = head[a]
                    if tree[q] == 0:
                        tree[q] = tp
                        parent[q] = rev[a]
                        if not inq[q]:
                            queue[qt] = q
                            qt = (qt + 1) % (n + 1)
                            inq[q] = True
                    elif tree[q] != tp:
                        mid = a if tp == 1 else rev[a]
                        break
            if mid >= 0:
                break  # p stays active
            inq[p] = False
            qh = (qh + 1) % (n + 1)
        if mid < 0:
            break
        # augmentation along source -> x -> y -> sink
        x = head[rev[mid]]
        y = head[mid]
        flow = rcap[mid]
        node = x
        while parent[node] != -1:
            pa = parent[node]
            if rcap[rev[pa]] < flow:
                flow = rcap[rev[pa]]
            node = head[pa]
        if tr[node] < flow:
            flow = tr[node]
        node = y
        while parent[node] != -1:
            pa = parent[node]
            if rcap[pa] < flow:
                flow = rcap[pa]
            node = head[pa]
        if -tr[node] < flow:
            flow = -tr[node]
        rcap[mid] -= flow
        rcap[rev[mid]] += flow
        node = x
        while parent[node] != -1:
            pa = parent[node]
            rcap[rev[pa]] -= flow
            rcap[pa] += flow
            nxt = head[pa]
            if rcap[rev[pa]] == 0:
                parent[node] = -2
                orphans[no] = node
                no += 1
            node = nxt
        tr[node] -= flow
        if tr[node] == 0:
            parent[node] = -2
            orphans[no] = node
            no += 1
        node = y
        while parent[node] != -1:
            pa = parent[node]
            rcap[pa] -= flow
            rcap[rev[pa]] += flow
            nxt = head[pa]
            if rcap[pa] == 0:
                parent[node] = -2
                orphans[no] = node
                no += 1
            node = nxt
        tr[node] += flow
        if tr[node] == 0:
            parent[node] = -2
            orphans[no] = node
            no += 1
        # adoption: each orphan finds a parent in its tree still rooted at a terminal, or is freed
        while no > 0:
            no -= 1
            o = orphans[no]
            to = tree[o]
            found = -1
            for a in range(first[o], first[o + 1]):
                q = head[a]
                if tree[q] != to or (rcap[rev[a]] if to == 1 else rcap[a]) <= 0:
                    continue
                z = q
                ok = True
                while parent[z] != -1:
                    if parent[z] == -2:
                        ok = False
                        break
                    z = head[parent[z]]
                if ok:
                    found = a
                    break
            if found >= 0:
                parent[o] = found
                continue
            for a in range(first[o], first[o + 1]):
                q = head[a]
                if tree[q] != to:
                    continue
                if (rcap[rev[a]] if to == 1 else rcap[a]) > 0 and not inq[q]:
                    queue[qt] = q
                    qt = (qt + 1) % (n + 1)
                    inq[q] = True
                if parent[q] >= 0 and head[parent[q]] == o:
                    parent[q] = -2
                    orphans[no] = q
                    no += 1
            tree[o] = 0
    return tree == 1


_warm = False


def warm_up() -> None:
    """Load the compiled kernels (numba's first call in a process costs about 0.2 s), once per process.

    ``Engine`` calls it while it prepares an image, so that the cost is part of
    opening the photo, not of the first click.
    """
    global _warm
    if _warm:
        return
    one = np.ones(1, np.int64)
    source_side(2, np.zeros(1, np.int64), one, one, one, np.array([1, 0], np.int64), np.array([0, 1], np.int64))
    start = gmm_start(np.ones(2), np.zeros((2, 3)), np.ones(3), np.zeros(3), 1)
    ll, _, _ = gmm_rounds(np.ones(2), np.zeros((2, 3)), np.zeros((2, 9)), np.zeros((2, 9)), start, 1, 1, 4.0)
    logsumexp_rows(ll)
    _warm = True
