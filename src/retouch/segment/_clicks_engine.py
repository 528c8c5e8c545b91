"""The machinery behind :mod:`retouch.segment.clicks` (no checks here).

Two stages, both exact min-cuts (Boykov & Kolmogorov's algorithm on integer
capacities, a numba kernel in :mod:`._clicks_kernels`; the hard-labelled
superpixels leave the graph as terminal capacities of their neighbours):

1. **Superpixel graph cut** (topology). The working image is cut into SLIC
   superpixels once. Each click solves a min-cut on the superpixel graph whose
   unary terms combine

   - GrabCut's colour models (five full-covariance RGB Gaussians each for
     object and background, fitted on the superpixels' exact colour moments)
     learnt from the current segmentation (re-estimated a few times, as
     GrabCut does; the background model from the background around the
     object: superpixels beyond the object's bounding box grown by
     ``bg_context`` of its size weigh only ``bg_far``), each fitted with a fixed share
     (``sample_weight``) of the colours the user pointed at: the homogeneous
     region around every click, so a negative click on one part of a
     wrongly-taken surface teaches the background model that colour
     everywhere, and the model cannot drift away from what was clicked;
   - a geodesic prior (a superpixel geodesically nearer to a positive click
     than to a negative click or the image border leans to the object) and
     a compactness term around the positive clicks;
   - a flood term: the homogeneous region around each click leans to its label;
   - a proposal for the newest click: the part of the region it corrects that
     is geodesically (colour + edge metric) much nearer to it than to any
     click of the other label leans to its label;
   - a thin strip: a click inside a strip of the wrong label no wider than
     about its distance to the other label (a rail the mask ran along, a
     missed leg) leans the whole strip to its label, and the guards below
     let it flip (DAVIS tune frames, every 2nd: NoC@90 11.05 -> 10.87);
   - a stability term that keeps the previous mask away from the newest click,
     and two guards: a solution that changes much of the mask geodesically far
     from the click, or that changes far more than the click's error region
     can hold (a click is given inside what is wrong, so that region is about
     as wide as the click's distance ``r`` to the other label: a change above
     ``area_factor * r**2`` is a leak through a weak edge), is solved again
     with the far labels held harder.

   The first solve (no previous mask) is made at several scales: the
   object held inside discs of ``scales`` (image diagonals) around the
   positive clicks, everything beyond a disc background as beyond GrabCut's
   box, and once without a disc; the candidate with the highest boundary
   contrast, less ``scale_size_penalty`` x its area fraction and
   ``scale_touch_penalty`` x the share of its boundary on the disc's rim, is
   kept. When the size guard fires, the labels beyond ``2 r`` are held hard
   (``guard_hard``): a click near a weak edge once turned a 1 % object into
   8 % of the frame, held only softly. From the ``budget_after``-th click on, a click that changes more
   than ``budget`` / sqrt(clicks - budget_after + 1) of the mask's area is
   solved again with the labels held beyond the disc of that area around it
   (a late click on a thin thing, a hockey stick or a kite line, whose
   superpixel is mostly background, took the ground or the sea: DAVIS tune
   frames every 4th: clicks that dropped IoU by more than 0.2, 7 -> 2).

   Clicked superpixels are hard; object parts not connected to a positive
   click are dropped.
2. **Pixel refinement** (boundary). A contrast-sensitive pixel min-cut in a
   band of ``band`` pixels either side of the superpixel boundary, with local
   GMM colour models learnt from the object and background rings along the
   boundary; the pixels beyond the band are fixed and pull their neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, connected_components, dijkstra, maximum_flow

from ._clicks_kernels import gmm_rounds, gmm_start, logsumexp_rows, source_side, warm_up

_BINS = 16  # colour histogram bins per RGB channel


def _logsumexp(ll: np.ndarray) -> np.ndarray:
    """``log(sum(exp(ll), axis=1))`` without overflow."""
    top = ll.max(1, keepdims=True)
    return (top + np.log(np.exp(ll - top).sum(1, keepdims=True))).ravel()


def _source_side(cap: np.ndarray, rows: np.ndarray, cols: np.ndarray, n: int) -> np.ndarray:
    """Min s-t cut of nodes ``0..n-1`` (source ``n``, sink ``n + 1``) by SciPy: True on the source side.

    The reference the tests hold :func:`_min_cut` to.

    ``cap`` (float, already scaled to fit int32) holds every edge and a
    zero-capacity reverse entry for each, so the residual graph has them.
    """
    cap = np.maximum(np.rint(cap), 0).astype(np.int32)
    g = sp.csr_matrix((cap, (rows, cols)), shape=(n + 2, n + 2))
    g.sum_duplicates()
    res = maximum_flow(g, n, n + 1)
    resid = g - res.flow
    resid.data = (resid.data > 0).astype(np.int8)
    resid.eliminate_zeros()
    reach = breadth_first_order(resid, n, directed=True, return_predecessors=False)
    fg = np.zeros(n + 2, bool)
    fg[reach] = True
    return fg[:n]


def _min_cut(n: int, eu: np.ndarray, ev: np.ndarray, w: np.ndarray, src: np.ndarray, snk: np.ndarray) -> np.ndarray:
    """Min s-t cut of nodes ``0..n-1``: True on the source side.

    ``eu``, ``ev``: each undirected edge once, capacity ``w`` both ways;
    ``src``, ``snk``: terminal capacities. The float capacities are scaled to
    integers (their total to 2^50) and cut exactly by the numba
    Boykov-Kolmogorov kernel (:func:`._clicks_kernels.source_side`).
    """
    total = float(src.sum() + snk.sum() + 2.0 * w.sum())
    scale = 2.0**50 / max(total, 1e-9)
    q = lambda c: np.maximum(np.rint(np.asarray(c, np.float64) * scale), 0).astype(np.int64)  # noqa: E731
    wq = q(w)
    return source_side(int(n), np.ascontiguousarray(eu, np.int64), np.ascontiguousarray(ev, np.int64),
                       wq, wq, q(src), q(snk))


@dataclass
class Params:
    """Settings of :func:`retouch.segment.clicks` (the first nine) and internal weights."""

    superpixel_size: int = 8
    color_weight: float = 1.0
    distance_weight: float = 1.0
    border_weight: float = 0.5
    smoothness: float = 2.0
    stability: float = 0.25
    iterations: int = 3
    band: int = 6
    refine: bool = True
    geo_length: float = 2.0
    llr_clip: float = 2.0
    flood_weight: float = 2.0
    flood_threshold: float = 15.0
    proposal_weight: float = 1.0
    proposal_length: float = 0.5
    proposal_edge: float = 20.0
    proposal_ratio: float = 0.25
    sample_weight: float = 0.5
    compact: float = 0.5
    guard_frac: float = 0.1
    band_smooth: float = 20.0
    band_clip: float = 3.0
    guard_boost: float = 4.0
    gmm_components: int = 5
    area_factor: float = 40.0
    grey_geodesic: bool = True  # a grey photo's geodesic distances use its texture planes too
    scales: tuple = (0.06, 0.08, 0.11, 0.15, 0.2, 0.27, 0.0)  # first solve: disc radii (image diagonals; 0: none)
    guard_hard: bool = True  # the size guard holds the far labels hard
    scale_touch_penalty: float = 0.2  # ... and this x the share of its boundary on the disc's rim
    scale_size_penalty: float = 0.5  # candidates ranked by boundary contrast minus this x area fraction
    bg_context: float = 0.2  # background superpixels beyond the object's box grown by this much ...
    bg_far: float = 0.02  # ... weigh this much in the background colour model (0 context: all alike)
    neg_stability: float = 0.6  # a negative click holds the previous mask with this share of ``stability``
    # a click in a thin strip of the wrong label (what an opening by a disc of ``tube`` x r removes,
    # r the click's distance to the other label, at most ``tube_max_r`` px) leans the whole strip to
    # the click's label with ``tube_weight``, and the guards let it flip (0: off)
    tube: float = 1.5
    tube_weight: float = 1.0
    tube_max_r: float = 12.0
    # a grey photo's colour models (luminance and texture) tell object from background less
    # surely: they weigh this share of ``color_weight`` (DAVIS tune frames in grey, every 2nd:
    # NoC@90 15.47 -> 14.83, IoU@3 0.633 -> 0.634, IoU@1 0.441 -> 0.395)
    grey_color: float = 0.6
    # from the ``budget_after``-th click on, one click may change at most ``budget`` /
    # (clicks - budget_after + 1) ** ``budget_decay`` of the mask's area; beyond that it is re-solved
    # with the labels held outside the disc of that area around it (0: off). DAVIS tune frames,
    # every 4th: IoU lost to clicks that made the mask worse 4.12 -> 1.83, NoC@90 10.88 -> 10.77
    budget: float = 0.5
    budget_after: int = 6
    budget_decay: float = 0.5


class Engine:
    """Per-image precomputation and one solve per set of clicks (work resolution)."""

    def __init__(self, rgb8: np.ndarray, params: Params, model: np.ndarray | None = None):
        """``model``: the 8-bit 3-channel values the colour models learn from (default ``rgb8``;
        luminance and texture for a grey photo, see ``_grey.grey_features``)."""
        self.p = params
        warm_up()
        self.rgb = rgb8 if model is None else model
        self.color_weight = params.color_weight * (1.0 if model is None else params.grey_color)
        h, w = rgb8.shape[:2]
        self.h, self.w = h, w
        lab = cv2.cvtColor(rgb8, cv2.COLOR_RGB2Lab)
        self.labf = cv2.cvtColor(rgb8.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)
        # superpixels
        # OpenCV's SLIC crashes (segfault) when a superpixel is wider than a thin image's short side
        size = min(max(4, int(params.superpixel_size)), h, w)
        slic = cv2.ximgproc.createSuperpixelSLIC(cv2.GaussianBlur(lab, (3, 3), 0), cv2.ximgproc.SLICO, size)
        slic.iterate(6)
        slic.enforceLabelConnectivity(25)
        labels = slic.getLabels()
        _, labels = np.unique(labels, return_inverse=True)
        self.labels = labels.reshape(h, w).astype(np.int32)
        n = int(self.labels.max()) + 1
        self.n = n
        flat = self.labels.ravel()
        self.size = np.bincount(flat, minlength=n).astype(np.float64)
        lab2 = self.labf.reshape(-1, 3)
        if model is not None and params.grey_geodesic:
            # a grey photo: the geodesic and flood distances see texture too (the planes in L's units)
            lab2 = model.reshape(-1, 3).astype(np.float32) * np.float32(100.0 / 255.0)
        self.mean_lab = np.stack([np.bincount(flat, lab2[:, c], n) for c in range(3)], 1) / self.size[:, None]
        # per-superpixel RGB mean and covariance, for GMM colour models fitted on superpixels
        rgbf = self.rgb.reshape(-1, 3).astype(np.float64)
        self.mu = np.stack([np.bincount(flat, rgbf[:, c], n) for c in range(3)], 1) / self.size[:, None]
        second = np.empty((n, 3, 3))
        for i in range(3):
            for j in range(i, 3):
                v = np.bincount(flat, rgbf[:, i] * rgbf[:, j], n) / self.size
                second[:, i, j] = second[:, j, i] = v
        self.sec9 = second.reshape(n, 9)  # E[x x^T] per superpixel
        self.cov9 = (second - self.mu[:, :, None] * self.mu[:, None, :]).reshape(n, 9)
        ys, xs = np.mgrid[0:h, 0:w]
        self.cx = np.bincount(flat, xs.ravel(), n) / self.size
        self.cy = np.bincount(flat, ys.ravel(), n) / self.size
        # colour bins and the superpixel x bin matrix (rows sum to one)
        q = (self.rgb >> (8 - int(np.log2(_BINS)))).astype(np.int32)
        self.bins = (q[..., 0] * _BINS + q[..., 1]) * _BINS + q[..., 2]
        nb = _BINS**3
        m = sp.coo_matrix((np.ones(h * w), (flat, self.bins.ravel())), shape=(n, nb)).tocsr()
        self.sp_hist = sp.diags(1.0 / self.size) @ m
        # pixel edges -> superpixel adjacency with contrast-sensitive weights
        d_h = np.sum((self.labf[:, 1:] - self.labf[:, :-1]) ** 2, axis=2)
        d_v = np.sum((self.labf[1:] - self.labf[:-1]) ** 2, axis=2)
        beta = 1.0 / (2.0 * max(1e-6, float(np.mean(np.concatenate([d_h.ravel(), d_v.ravel()])))))
        # pixel edge weights for the band cut (contrast-sensitive, Boykov & Jolly)
        self.w_h = np.exp(-beta * d_h).astype(np.float32)
        self.w_v = np.exp(-beta * d_v).astype(np.float32)
        self.llr_bins = None  # histogram colour model of the last solve, the band cut's fallback
        a = np.concatenate([self.labels[:, :-1].ravel(), self.labels[:-1].ravel()])
        b = np.concatenate([self.labels[:, 1:].ravel(), self.labels[1:].ravel()])
        wgt = np.concatenate([self.w_h.ravel(), self.w_v.ravel()])
        keep = a != b
        a, b, wgt = a[keep], b[keep], wgt[keep]
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        pw = sp.coo_matrix((wgt, (lo, hi)), shape=(n, n)).tocsr()
        pw = pw + pw.T
        self.pair = pw.tocoo()  # symmetric, sum of exp(-beta dI^2) along the shared border
        pl = sp.coo_matrix((np.ones(len(lo)), (lo, hi)), shape=(n, n)).tocsr()
        pl = (pl + pl.T).tocsr()
        self.pair_len = np.asarray(pl[self.pair.row, self.pair.col]).ravel()  # pixel edges per pair
        # geodesic graph: colour difference of superpixel means + a length term
        i, j = self.pair.row, self.pair.col
        dcol = np.linalg.norm(self.mean_lab[i] - self.mean_lab[j], axis=1)
        dxy = np.hypot(self.cx[i] - self.cx[j], self.cy[i] - self.cy[j])
        step = float(np.median(dxy))
        self.colgraph = sp.csr_matrix((dcol + 1e-3, (i, j)), shape=(n, n))
        dxy = dxy / step
        # geodesic edge costs: colour jump plus ``geo_length`` per superpixel step
        self.geo = sp.csr_matrix((dcol + params.geo_length * dxy + 1e-3, (i, j)), shape=(n, n))
        edge = 1.0 - self.pair.data / np.maximum(self.pair_len, 1e-9)
        self.pgeo = sp.csr_matrix((dcol + params.proposal_length * dxy + params.proposal_edge * edge + 1e-3,
                                   (i, j)), shape=(n, n))
        self.border = np.unique(np.concatenate([self.labels[0], self.labels[-1], self.labels[:, 0], self.labels[:, -1]]))
        self.d_border = self._geodesic(self.border)  # the same for every click

    # ------------------------------------------------------------ stage 1
    def _geodesic(self, nodes: np.ndarray) -> np.ndarray:
        if len(nodes) == 0:
            return np.full(self.n, np.inf)
        d = dijkstra(self.geo, directed=False, indices=np.unique(nodes), min_only=True)
        return d

    def _hist(self, weights: np.ndarray) -> np.ndarray:
        h = self.sp_hist.T @ (weights * self.size)
        h = h.reshape(_BINS, _BINS, _BINS).astype(np.float32)
        h = cv2.GaussianBlur(h.reshape(_BINS, -1), (0, 0), 0.8)  # smooth two axes at a time
        h = h.reshape(_BINS, _BINS, _BINS)
        h = cv2.GaussianBlur(np.ascontiguousarray(h.transpose(1, 2, 0)).reshape(_BINS, -1), (0, 0), 0.8)
        h = h.reshape(_BINS, _BINS, _BINS).transpose(2, 0, 1).astype(np.float64).ravel()
        return h / max(h.sum(), 1e-12)

    def _gmm_start(self, w: np.ndarray, tot: float) -> np.ndarray:
        """Start assignment: equal-weight slices along the weighted colours' principal axis."""
        k = int(self.p.gmm_components)
        m0 = w @ self.mu / tot
        c0 = (w @ self.sec9).reshape(3, 3) / tot - np.outer(m0, m0)
        axis = np.linalg.eigh(c0 + 1e-6 * np.eye(3))[1][:, -1]
        return gmm_start(w, self.mu, np.ascontiguousarray(axis), m0, k)

    def _gmm_fit(self, weights: np.ndarray) -> tuple[list[tuple[float, np.ndarray, np.ndarray, float]], np.ndarray] | None:
        """GrabCut's colour model fitted to weighted superpixels (see :meth:`_gmm_fit_reference`), in numba."""
        w = np.maximum(weights, 0).astype(np.float64)
        tot = float(w.sum())
        if tot <= 0:
            return None
        assign = self._gmm_start(w, tot)
        ll, par, valid = gmm_rounds(w, self.mu, self.sec9, self.cov9, assign, int(self.p.gmm_components), 3, 4.0)
        comps = [(float(c[0]), c[1:4].copy(), c[4:13].reshape(3, 3).copy(), float(c[13])) for c, v in zip(par, valid) if v]
        return comps, ll

    def _gmm_fit_reference(self, weights: np.ndarray) -> tuple[list[tuple[float, np.ndarray, np.ndarray, float]], np.ndarray] | None:
        """GrabCut's colour model (Rother et al. 2004) fitted to weighted superpixels (NumPy).

        ``gmm_components`` full-covariance Gaussians in RGB, fitted on the
        superpixels' exact colour moments by a few hard-assignment rounds from
        a deterministic split along the principal axis. Returns
        ``(log weight, mean, inverse covariance, log det)`` per component and
        the superpixels' expected log-likelihoods under each (``n x k``), or
        None when ``weights`` are all zero.
        """
        k = int(self.p.gmm_components)
        w = np.maximum(weights, 0)
        tot = w.sum()
        if tot <= 0:
            return None
        mu, sec9, cov9 = self.mu, self.sec9, self.cov9
        assign = self._gmm_start(w, float(tot))
        floor = 4.0 * np.eye(3)  # colour noise floor (8-bit quantisation and JPEG)
        ll = np.empty((self.n, k))
        for _ in range(3):
            onehot = np.zeros((self.n, k))
            onehot[np.arange(self.n), assign] = 1.0
            wk = onehot * w[:, None]
            sk = wk.sum(0)
            ll[:] = -np.inf
            comps = []
            for j in range(k):
                if sk[j] <= 1e-9:
                    continue
                mj = wk[:, j] @ mu / sk[j]
                cj = (wk[:, j] @ sec9).reshape(3, 3) / sk[j] - np.outer(mj, mj) + floor
                inv = np.linalg.inv(cj)
                _, logdet = np.linalg.slogdet(cj)
                comps.append((float(np.log(sk[j] / tot)), mj, inv, float(logdet)))
                d = mu - mj
                maha = ((d @ inv) * d).sum(1) + cov9 @ inv.ravel()
                ll[:, j] = comps[-1][0] - 0.5 * (logdet + maha + 3 * np.log(2 * np.pi))
            assign = np.argmax(ll, 1)
        return comps, ll

    def _gmm_loglik(self, weights: np.ndarray) -> np.ndarray:
        """Expected log-likelihood of each superpixel's pixels under the GMM fitted to ``weights``."""
        fit = self._gmm_fit(weights)
        return np.zeros(self.n) if fit is None else logsumexp_rows(fit[1])

    @staticmethod
    def _gmm_pixels(comps, x: np.ndarray) -> np.ndarray:
        """Log-likelihood of RGB pixels ``x`` (N x 3) under ``comps``."""
        ll = np.empty((len(x), len(comps)))
        for j, (lw, mj, inv, logdet) in enumerate(comps):
            d = x - mj
            ll[:, j] = lw - 0.5 * (logdet + ((d @ inv) * d).sum(1) + 3 * np.log(2 * np.pi))
        return _logsumexp(ll)

    def _cut(self, unary: np.ndarray, hard_fg: np.ndarray, hard_bg: np.ndarray) -> np.ndarray:
        """Min-cut: unary > 0 favours the object (per unit area)."""
        pw = self.pair
        lam = self.p.smoothness
        src = np.maximum(unary, 0) * self.size
        snk = np.maximum(-unary, 0) * self.size
        # the hard-labelled superpixels leave the graph: an edge from a free
        # superpixel to a held one becomes a terminal capacity of the free one
        # (the same minimum cut; the first click's disc candidates hold most
        # of the photo as background, so their graphs are small)
        held = hard_fg | hard_bg
        free = ~held
        edge = lam * pw.data
        to_fg = free[pw.row] & hard_fg[pw.col]
        to_bg = free[pw.row] & hard_bg[pw.col]
        src += np.bincount(pw.row[to_fg], edge[to_fg], self.n)
        snk += np.bincount(pw.row[to_bg], edge[to_bg], self.n)
        out = hard_fg & ~hard_bg
        idx = np.nonzero(free)[0]
        n = len(idx)
        if n == 0:
            return out
        sub = -np.ones(self.n, np.int64)
        sub[idx] = np.arange(n)
        both = free[pw.row] & free[pw.col] & (pw.row < pw.col)  # each edge once (the pairs are symmetric)
        out[idx] = _min_cut(n, sub[pw.row[both]], sub[pw.col[both]], edge[both], src[idx], snk[idx])
        return out

    def _connected(self, seg: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        """The superpixels of ``seg`` connected to a seed superpixel."""
        pw = self.pair
        keep = seg[pw.row] & seg[pw.col]
        g = sp.csr_matrix((np.ones(int(keep.sum())), (pw.row[keep], pw.col[keep])), shape=(self.n, self.n))
        _, comp = connected_components(g, directed=False)
        good = np.zeros(comp.max() + 1, bool)
        good[comp[seeds & seg]] = True
        return seg & good[comp]

    def superpixel_mask(self, clicks: list[tuple[int, int, bool]], prev_sp: np.ndarray | None,
                        prev_px: np.ndarray | None, newest: tuple[int, int] | None) -> np.ndarray:
        """The superpixels of the object the clicks mark (a graph cut over colour models and distance priors)."""
        p = self.p
        pos, neg, hard_fg, hard_bg = self._hard_labels(clicks)
        if len(pos) == 0:
            return np.zeros(self.n, bool)
        prior, scale = self._distance_prior(pos, neg)
        samples = self._flood(pos, neg, prior)
        # colour samples the user gave: the flood regions of the clicks, a
        # fixed share of each colour model (they never drift with the mask)
        a = p.sample_weight
        fixed = {sign: a * w * self.size / max((w * self.size).sum(), 1e-9) if a > 0 and w.any() else None
                 for sign, w in samples.items()}  # superpixel weights, a share ``a`` of each model
        # stability: keep the previous labels away from the newest click
        stab = np.zeros(self.n)
        keep = None
        # (held less after a negative click: on the GrabCut set, stability
        # 0.25 with 0.15 after negative clicks gave NoC@90 2.68, 0.15 for
        # both 2.78, 0.5 for both 3.00)
        stability = p.stability * (1.0 if clicks[-1][2] else p.neg_stability)
        if prev_sp is not None and newest is not None and stability > 0:
            d_new = self._geodesic(np.array([self.labels[newest[1], newest[0]]]))
            keep = 1.0 - np.exp(-d_new / (0.5 * scale))
            stab = stability * keep * (2.0 * prev_sp - 1.0)
        prev_lab = prev_sp > 0.5 if prev_sp is not None else None
        # proposal: the newest click takes the part of the wrongly labelled
        # region that is geodesically nearer to it than to any click of the
        # other label (Bai & Sapiro's geodesic segmentation, restricted to
        # the region the click corrects)
        if prev_sp is not None and newest is not None and p.proposal_weight > 0:
            flip = self.proposal(prev_lab, clicks, newest)
            if flip.any():
                prev_sp = np.where(flip, (~prev_lab).astype(np.float64), prev_sp)
                stab = np.where(flip, p.proposal_weight * (1.0 - 2.0 * prev_lab), stab)
        # a click in a thin strip (a rail the mask ran along, a missed leg):
        # the whole strip leans to the click's label and may flip past the guards
        tube = self._tube(prev_px, newest) if prev_px is not None and newest is not None and p.tube > 0 else None
        if tube is not None:
            t = tube & (prev_lab != bool(clicks[-1][2]))
            stab = np.where(t, p.tube_weight * (1.0 - 2.0 * prev_lab), stab)
            if keep is not None:
                keep = np.where(t, 0.0, keep)
        # initial segmentation for the colour models
        if prev_sp is not None:
            seg = prev_sp > 0.5
            seg = seg | hard_fg
            seg &= ~hard_bg
        else:
            seg = prior > 0
            seg |= hard_fg
        def solve(seg, stab, hard_bg=hard_bg, hard_fg=hard_fg):
            """The cut and the object weights of the colour models it was made with."""
            for _ in range(max(1, p.iterations)):
                wf = seg.astype(np.float64)
                wfg = wf * self.size
                wbg = (1.0 - wf) * self.size
                if p.bg_context > 0 and seg.any():
                    # the background model learns mostly the background around the object
                    x0, x1 = self.cx[seg].min(), self.cx[seg].max()
                    y0, y1 = self.cy[seg].min(), self.cy[seg].max()
                    mx = p.bg_context * (x1 - x0) + 2 * p.superpixel_size
                    my = p.bg_context * (y1 - y0) + 2 * p.superpixel_size
                    near = (self.cx >= x0 - mx) & (self.cx <= x1 + mx) & (self.cy >= y0 - my) & (self.cy <= y1 + my)
                    wbg = wbg * np.where(near, 1.0, p.bg_far)
                if fixed[1.0] is not None:
                    wfg = (1 - a) * wfg / max(wfg.sum(), 1e-9) + fixed[1.0]
                if fixed[-1.0] is not None:
                    wbg = (1 - a) * wbg / max(wbg.sum(), 1e-9) + fixed[-1.0]
                llr = self._gmm_loglik(wfg) - self._gmm_loglik(wbg)
                llr = np.clip(llr / 3.0, -p.llr_clip, p.llr_clip)
                unary = self.color_weight * llr + prior + stab
                new = self._connected(self._cut(unary, hard_fg, hard_bg), hard_fg)
                if np.array_equal(new, seg):
                    break
                seg = new
            return seg, wf

        if prev_sp is None and p.scales:
            out, wf = self._select_scale(solve, seg, stab, pos, hard_fg, hard_bg)
        else:
            out, wf = solve(seg, stab)
        out, wf = self._guards(out, wf, solve, seg, stab, keep, prev_lab, prev_px, newest, stability, hard_fg, hard_bg, tube,
                               n_clicks=len(clicks))
        self.llr_bins = self._histogram_llr(wf, samples, fixed)
        return out

    def boundary_contrast(self, seg: np.ndarray) -> float:
        """Mean contrast (0 flat .. 1 strong edge) along the boundary of the superpixel set ``seg``."""
        pw = self.pair
        cut = seg[pw.row] & ~seg[pw.col]
        length = float(self.pair_len[cut].sum())
        if length <= 0:
            return 0.0
        return 1.0 - float(pw.data[cut].sum()) / length

    def _select_scale(self, solve, seg, stab, pos, hard_fg, hard_bg):
        """Solve with the object held inside discs of several radii around the positive clicks
        (everything beyond a disc is background, as beyond GrabCut's box) and keep the
        candidate whose boundary follows the strongest edges (constrained parametric
        min-cuts, Carreira & Sminchisescu 2012, ranked by boundary contrast)."""
        p = self.p
        px = np.array([self.cx[pos], self.cy[pos]])
        d = np.min(np.hypot(self.cx[:, None] - px[0][None], self.cy[:, None] - px[1][None]), axis=1)
        diag = float(np.hypot(self.h, self.w))
        best = None
        self.last_candidates = []
        for r in p.scales:
            out_r = d > r * diag if r > 0 else np.zeros(self.n, bool)
            hb = (hard_bg | out_r) & ~hard_fg
            res = solve((seg & ~hb) | hard_fg, stab, hb)
            seg_r = res[0]
            pw = self.pair
            cut = seg_r[pw.row] & ~seg_r[pw.col]
            length = max(float(self.pair_len[cut].sum()), 1e-9)
            touch = float(self.pair_len[cut & out_r[pw.col]].sum()) / length  # boundary on the disc's rim
            area = float(self.size[seg_r].sum()) / (self.h * self.w)
            contrast = self.boundary_contrast(seg_r)
            score = contrast - p.scale_size_penalty * area - p.scale_touch_penalty * touch
            self.last_candidates.append((r, score, seg_r, dict(contrast=contrast, area=area, touch=touch)))
            if best is None or score > best[0]:
                best = (score, res)
        return best[1]

    def _hard_labels(self, clicks: list[tuple[int, int, bool]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The clicked superpixels, positive and negative, and those held to each label."""
        pos = np.array([self.labels[y, x] for x, y, q in clicks if q], np.int64)
        neg = np.array([self.labels[y, x] for x, y, q in clicks if not q], np.int64)
        hard_fg = np.zeros(self.n, bool)
        hard_bg = np.zeros(self.n, bool)
        hard_fg[pos] = True
        hard_bg[neg] = True
        hard_fg &= ~hard_bg  # a superpixel clicked both ways: the pixel stage decides
        hard_bg &= ~np.isin(np.arange(self.n), pos)
        return pos, neg, hard_fg, hard_bg

    def _distance_prior(self, pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, float]:
        """Each superpixel's lean to the object from its geodesic distances to the clicks and the border,
        and the scale of those distances (the typical distance from the positive clicks)."""
        p = self.p
        d_pos = self._geodesic(pos)
        d_neg = self._geodesic(neg)
        d_bor = self.d_border
        scale = float(np.median(d_pos[np.isfinite(d_pos)])) + 1e-6
        d_bg = np.minimum(d_neg, d_bor + scale * (1.0 / max(p.border_weight, 1e-6) - 1.0) if p.border_weight > 0 else np.inf)
        d_bg = np.minimum(d_bg, 1e6)
        prior = (d_bg - d_pos) / (d_bg + d_pos + 1e-6)  # in [-1, 1]: nearer the object or the background
        prior = p.distance_weight * prior - p.distance_weight * p.compact * d_pos / scale  # compact around the clicks
        return prior, scale

    def _flood(self, pos: np.ndarray, neg: np.ndarray, prior: np.ndarray) -> dict[float, np.ndarray]:
        """Flood: the region around each click reachable along a path of little colour change (geodesic,
        colour only) leans hard to its label (added to ``prior`` in place); those regions' weights per label."""
        p = self.p
        samples = {1.0: np.zeros(self.n), -1.0: np.zeros(self.n)}
        t = p.flood_threshold
        for lab_i, sign in ((pos, 1.0), (neg, -1.0)):
            for node in np.unique(lab_i):
                d = dijkstra(self.colgraph, directed=False, indices=int(node), limit=t)
                near = np.isfinite(d)
                prior[near] += sign * p.flood_weight * (1.0 - d[near] / t)
                samples[sign][near] = np.maximum(samples[sign][near], 1.0 - d[near] / t)
        return samples

    def _tube(self, prev_px: np.ndarray, newest: tuple[int, int]) -> np.ndarray | None:
        """The superpixels of the thin strip of the previous mask's label that the newest click is in.

        The strip is the connected part, through the click, of what a
        morphological opening by a disc of ``tube`` x r removes from the
        click's label (r: the click's distance to the other label), so a click
        in the middle of a rail the mask ran along, or of a missed leg, reaches
        its whole length; None when the click is not in such a strip.
        """
        p = self.p
        x, y = newest
        same = (prev_px == prev_px[y, x]).astype(np.uint8)
        r = max(float(cv2.distanceTransform(same, cv2.DIST_L2, 3)[y, x]), 1.0)
        if r > p.tube_max_r:
            return None
        k = 2 * int(np.ceil(p.tube * r)) + 1
        opened = cv2.morphologyEx(same, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
        thin = (same > 0) & (opened == 0)
        if not thin[y, x]:
            return None
        _, cc = cv2.connectedComponents(thin.view(np.uint8), connectivity=8)
        comp = cc == cc[y, x]
        frac = np.bincount(self.labels.ravel(), comp.ravel().astype(np.float64), self.n) / self.size
        return frac > 0.5

    def _guards(self, out, wf, solve, seg, stab, keep, prev_lab, prev_px, newest, stability, hard_fg, hard_bg, tube=None,
                n_clicks=1):
        """Re-solve a click that moved too much of the mask: far from where it was given, far more than its reach,
        or more than the mask's age allows."""
        p = self.p
        # guard: a click that changes much of the mask far from where it was
        # given (geodesically) is re-solved with the far labels held harder
        if keep is not None and p.guard_frac > 0:
            far = keep > 0.9
            moved = float(self.size[(out != prev_lab) & far].sum())
            if moved > p.guard_frac * max(float(self.size[prev_lab].sum()), 1.0):
                boost = np.where(far, p.guard_boost, 1.0)
                out, wf = solve(seg, stab * boost)
        # size guard: a click is given inside what is wrong, so the region it
        # corrects is about as wide as the click's distance r to the other
        # label; a change far larger than area_factor * r^2 (a leak through a
        # weak edge) is re-solved with the labels beyond 2 r held hard
        if prev_px is not None and newest is not None and p.area_factor > 0:
            x, y = newest
            same = (prev_px == prev_px[y, x]).astype(np.uint8)
            r = max(float(cv2.distanceTransform(same, cv2.DIST_L2, 3)[y, x]), 2.0)
            tube = np.zeros(self.n, bool) if tube is None else tube  # a thin strip's flip is not a leak
            moved = float(self.size[(out != prev_lab) & ~tube].sum())
            if moved > p.area_factor * r * r:
                far2 = (np.hypot(self.cx - x, self.cy - y) > 2.0 * r) & ~tube
                if p.guard_hard:
                    # the labels beyond 2 r are held as they were
                    hf = (hard_fg | (far2 & prev_lab)) & ~hard_bg
                    hb = (hard_bg | (far2 & ~prev_lab)) & ~hf
                    out, wf = solve(seg, stab, hb, hf)
                else:
                    stab2 = np.where(far2, p.guard_boost * max(stability, 0.25) * (2.0 * prev_lab - 1.0), stab)
                    out, wf = solve(seg, stab2)
        # budget: the more clicks a mask has had, the less of it one click may change;
        # a click that changes more is re-solved with the labels held beyond the disc
        # of the allowed area around it (a thin strip's flip does not count)
        if prev_px is not None and newest is not None and p.budget > 0 and n_clicks >= p.budget_after:
            x, y = newest
            tube = np.zeros(self.n, bool) if tube is None else tube
            area = max(float(self.size[prev_lab].sum()), 1.0)
            allowed = p.budget * area / max(1.0, n_clicks - p.budget_after + 1) ** p.budget_decay
            moved = float(self.size[(out != prev_lab) & ~tube].sum())
            if moved > allowed:
                rho = max(np.sqrt(allowed / np.pi), 2.0 * p.superpixel_size)
                far3 = (np.hypot(self.cx - x, self.cy - y) > rho) & ~tube
                hf = (hard_fg | (far3 & prev_lab)) & ~hard_bg
                hb = (hard_bg | (far3 & ~prev_lab)) & ~hf
                out, wf = solve(seg, stab, hb, hf)
        return out, wf

    def _histogram_llr(self, wf: np.ndarray, samples: dict[float, np.ndarray], fixed: dict[float, Any]) -> np.ndarray:
        """The same colour model as smoothed histograms (object against background log-ratio), the band cut's fallback."""
        a = self.p.sample_weight
        hf = self._hist(wf)
        hb = self._hist(1.0 - wf)
        if fixed[1.0] is not None:
            hf = (1.0 - a) * hf + a * self._hist(samples[1.0])
        if fixed[-1.0] is not None:
            hb = (1.0 - a) * hb + a * self._hist(samples[-1.0])
        return np.log(hf + 1e-5) - np.log(hb + 1e-5)

    def proposal(self, before: np.ndarray, clicks, newest) -> np.ndarray:
        """Superpixels the newest click flips: its geodesic Voronoi cell in the region it corrects."""
        lab = bool(clicks[-1][2])
        c = int(self.labels[newest[1], newest[0]])
        region = before != lab
        region[c] = True
        idx = np.nonzero(region)[0]
        sub = self.pgeo[idx][:, idx]
        pos_in = -np.ones(self.n, np.int64)
        pos_in[idx] = np.arange(len(idx))
        d_c = dijkstra(sub, directed=False, indices=int(pos_in[c]))
        others = [int(self.labels[y, x]) for x, y, q in clicks[:-1] if q != lab]
        others = [pos_in[o] for o in others if pos_in[o] >= 0 and o != c]
        d_o = np.full(len(idx), np.inf)
        if others:
            d_o = dijkstra(sub, directed=False, indices=np.unique(others), min_only=True)
        if lab:
            bor = pos_in[self.border]
            bor = bor[bor >= 0]
            if len(bor):
                d_b = dijkstra(sub, directed=False, indices=np.unique(bor), min_only=True)
                d_o = np.minimum(d_o, d_b)
        take = np.isfinite(d_c) & (d_c < self.p.proposal_ratio * d_o)
        flip = np.zeros(self.n, bool)
        flip[idx[take]] = True
        flip[c] = before[c] != lab
        return flip

    # ------------------------------------------------------------ stage 2
    def refine(self, sp_mask: np.ndarray, clicks: list[tuple[int, int, bool]],
               prev_work: np.ndarray | None = None, prev_sp: np.ndarray | None = None,
               newest: tuple[int, int] | None = None) -> np.ndarray:
        """Pixel mask from the superpixel mask: a pixel min-cut in a band around its boundary.

        With ``prev_work`` (the previous pixel mask) only the neighbourhood of
        the superpixels that changed and of the newest click is re-decided.
        """
        m = sp_mask[self.labels]
        band = int(self.p.band)
        region = None
        if prev_work is not None and prev_sp is not None:
            changed = (sp_mask != prev_sp)[self.labels].astype(np.uint8)
            if newest is not None:
                cv2.circle(changed, newest, 3 * int(self.p.superpixel_size), 1, -1)
            k = 2 * band + 3
            region = cv2.dilate(changed, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))) > 0
            m = np.where(region, m, prev_work)
        if not self.p.refine or self.llr_bins is None or not m.any() or m.all():
            return self._stamp(m, clicks)
        out = self._band_cut(m, region, clicks)
        if region is not None:
            out = np.where(region, out, prev_work)
        return self._stamp(out, clicks)

    def _band_cut(self, m: np.ndarray, region: np.ndarray | None, clicks) -> np.ndarray:
        """Exact min-cut on the pixels within ``band`` of the boundary of ``m`` (the rest fixed)."""
        band = int(self.p.band)
        m8 = m.astype(np.uint8)
        d_in = cv2.distanceTransform(m8, cv2.DIST_L2, 3)
        d_out = cv2.distanceTransform(1 - m8, cv2.DIST_L2, 3)
        unk = np.where(m, d_in <= band, d_out <= band)
        if region is not None:
            unk &= region
        hard = np.zeros(m.shape, np.uint8)
        for x, y, q in clicks:
            cv2.circle(hard, (x, y), 3, 1, -1)
        m = m.copy()
        for x, y, q in clicks:
            cv2.circle(m.view(np.uint8), (x, y), 3, int(q), -1)
        unk &= hard == 0
        nn = int(unk.sum())
        if nn == 0:
            return m
        idx = np.full(m.shape, -1, np.int64)
        idx[unk] = np.arange(nn)
        # local colour models: the object and background rings either side of
        # the boundary (the last solve's global histograms when a ring is too small)
        ring = 3 * band
        fin = m & (d_in <= ring)
        bout = ~m & (d_out <= ring)
        if region is not None:
            near = cv2.dilate(region.astype(np.uint8), np.ones((2 * ring + 1, 2 * ring + 1), np.uint8)) > 0
            fin &= near
            bout &= near
        if fin.sum() > 50 and bout.sum() > 50:
            cf, _ = self._gmm_fit(np.bincount(self.labels[fin], minlength=self.n).astype(np.float64))
            cb, _ = self._gmm_fit(np.bincount(self.labels[bout], minlength=self.n).astype(np.float64))
            x = self.rgb[unk].astype(np.float64)
            llr_px = self._gmm_pixels(cf, x) - self._gmm_pixels(cb, x)
        else:
            llr_px = self.llr_bins[self.bins[unk]]
        llr = np.clip(llr_px, -self.p.band_clip, self.p.band_clip)
        src = np.maximum(llr, 0).astype(np.float64)
        snk = np.maximum(-llr, 0).astype(np.float64)
        lam = self.p.band_smooth
        # the graph only needs the bounding box of the band, one pixel wider
        ys, xs = np.nonzero(unk)
        y0, y1 = max(0, ys.min() - 1), min(self.h, ys.max() + 2)
        x0, x1 = max(0, xs.min() - 1), min(self.w, xs.max() + 2)
        ic, mc = idx[y0:y1, x0:x1], m[y0:y1, x0:x1]
        rows, cols, caps = [], [], []
        for a_idx, b_idx, a_m, b_m, wgt in (
            (ic[:, :-1], ic[:, 1:], mc[:, :-1], mc[:, 1:], self.w_h[y0:y1, x0:x1 - 1]),
            (ic[:-1], ic[1:], mc[:-1], mc[1:], self.w_v[y0:y1 - 1, x0:x1]),
        ):
            wl = lam * wgt
            both = (a_idx >= 0) & (b_idx >= 0)
            rows.append(a_idx[both]); cols.append(b_idx[both]); caps.append(wl[both])
            # a unknown pixel next to a fixed one: the fixed label pulls it
            for u_idx, f_m, sel in ((a_idx, b_m, (a_idx >= 0) & (b_idx < 0)), (b_idx, a_m, (b_idx >= 0) & (a_idx < 0))):
                u = u_idx[sel]
                w_ = wl[sel]
                fm = f_m[sel]
                src += np.bincount(u[fm], w_[fm], nn)
                snk += np.bincount(u[~fm], w_[~fm], nn)
        r = np.concatenate(rows); c = np.concatenate(cols); w_ = np.concatenate(caps).astype(np.float64)
        out = m.copy()
        out[unk] = _min_cut(nn, r, c, w_, src, snk)
        return out

    def keep_clicked(self, m: np.ndarray, clicks: list[tuple[int, int, bool]]) -> np.ndarray:
        """Only the connected parts of ``m`` that hold a positive click."""
        n, cc = cv2.connectedComponents(m.astype(np.uint8), connectivity=8)
        if n <= 2:
            return m
        keep = np.zeros(n, bool)
        for x, y, q in clicks:
            if q:
                keep[cc[y, x]] = True
        keep[0] = False
        return keep[cc]

    def _stamp(self, m: np.ndarray, clicks: list[tuple[int, int, bool]]) -> np.ndarray:
        m = m.copy()
        for x, y, q in clicks:
            m[y, x] = q
        return m
