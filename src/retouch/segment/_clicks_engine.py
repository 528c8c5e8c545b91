"""The machinery behind :mod:`retouch.segment.clicks` (no checks here).

Two stages, both graph cuts:

1. **Superpixel graph cut** (topology). The working image is cut into SLIC
   superpixels once. Each click solves a min-cut on the superpixel graph whose
   unary terms combine colour histograms learnt from the current segmentation
   (re-estimated a few times, as GrabCut does), a geodesic prior (a superpixel
   that is geodesically nearer to a positive click than to a negative click or
   the image border leans to the object), and a stability term that keeps the
   previous mask away from the newest click. Clicked superpixels are hard.
   Solved exactly with :func:`scipy.sparse.csgraph.maximum_flow`.
2. **Pixel refinement** (boundary). OpenCV's GrabCut (GMM colour models and a
   contrast-sensitive pixel graph cut) runs in a thin band around the
   superpixel boundary, every click a hard seed, everything farther than the
   band from the boundary fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, connected_components, dijkstra, maximum_flow

_BINS = 16  # colour histogram bins per RGB channel


@dataclass
class Params:
    superpixel_size: int = 10
    color_weight: float = 1.0
    distance_weight: float = 1.0
    border_weight: float = 0.5
    smoothness: float = 2.0
    stability: float = 0.5
    iterations: int = 3
    band: int = 6
    refine: bool = True
    refine_iterations: int = 1
    geo_length: float = 2.0
    llr_clip: float = 2.0
    flood_weight: float = 2.0
    flood_threshold: float = 15.0
    proposal_weight: float = 1.0
    proposal_border: float = 0.0
    proposal_length: float = 0.5
    proposal_edge: float = 20.0
    proposal_ratio: float = 0.25
    sample_weight: float = 0.5


class Engine:
    """Per-image precomputation and one solve per set of clicks (work resolution)."""

    def __init__(self, rgb8: np.ndarray, params: Params):
        self.p = params
        self.rgb = rgb8
        h, w = rgb8.shape[:2]
        self.h, self.w = h, w
        self.bgr = np.ascontiguousarray(rgb8[..., ::-1])
        lab = cv2.cvtColor(rgb8, cv2.COLOR_RGB2Lab)
        self.labf = cv2.cvtColor(rgb8.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)
        # superpixels
        size = max(4, int(params.superpixel_size))
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
        self.mean_lab = np.stack([np.bincount(flat, lab2[:, c], n) for c in range(3)], 1) / self.size[:, None]
        ys, xs = np.mgrid[0:h, 0:w]
        self.cx = np.bincount(flat, xs.ravel(), n) / self.size
        self.cy = np.bincount(flat, ys.ravel(), n) / self.size
        # colour bins and the superpixel x bin matrix (rows sum to one)
        q = (rgb8 >> (8 - int(np.log2(_BINS)))).astype(np.int32)
        self.bins = (q[..., 0] * _BINS + q[..., 1]) * _BINS + q[..., 2]
        nb = _BINS**3
        m = sp.coo_matrix((np.ones(h * w), (flat, self.bins.ravel())), shape=(n, nb)).tocsr()
        self.sp_hist = sp.diags(1.0 / self.size) @ m
        # pixel edges -> superpixel adjacency with contrast-sensitive weights
        d_h = np.sum((self.labf[:, 1:] - self.labf[:, :-1]) ** 2, axis=2)
        d_v = np.sum((self.labf[1:] - self.labf[:-1]) ** 2, axis=2)
        beta = 1.0 / (2.0 * max(1e-6, float(np.mean(np.concatenate([d_h.ravel(), d_v.ravel()])))))
        a = np.concatenate([self.labels[:, :-1].ravel(), self.labels[:-1].ravel()])
        b = np.concatenate([self.labels[:, 1:].ravel(), self.labels[1:].ravel()])
        wgt = np.exp(-beta * np.concatenate([d_h.ravel(), d_v.ravel()]))
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
        self.step = float(np.median(dxy))
        self.dcol = dcol
        self.colgraph = sp.csr_matrix((dcol + 1e-3, (i, j)), shape=(n, n))
        self.dxy = dxy / self.step
        self.set_geo(params.geo_length)
        edge = 1.0 - self.pair.data / np.maximum(self.pair_len, 1e-9)
        self.pgeo = sp.csr_matrix((self.dcol + params.proposal_length * self.dxy + params.proposal_edge * edge + 1e-3,
                                   (self.pair.row, self.pair.col)), shape=(n, n))
        border = np.unique(np.concatenate([self.labels[0], self.labels[-1], self.labels[:, 0], self.labels[:, -1]]))
        self.border = border
        self.diag = float(np.hypot(h, w))

    def set_geo(self, length: float) -> None:
        """Geodesic edge costs: colour jump plus ``length`` per superpixel step."""
        pw = self.pair
        self.geo = sp.csr_matrix((self.dcol + length * self.dxy + 1e-3, (pw.row, pw.col)), shape=(self.n, self.n))

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

    def _cut(self, unary: np.ndarray, hard_fg: np.ndarray, hard_bg: np.ndarray) -> np.ndarray:
        """Min-cut: unary > 0 favours the object (per unit area)."""
        n = self.n
        pw = self.pair
        lam = self.p.smoothness
        inf = float(lam * pw.data.sum() + np.abs(unary * self.size).sum() + 1.0)
        src = np.maximum(unary, 0) * self.size
        snk = np.maximum(-unary, 0) * self.size
        src[hard_fg] = inf
        snk[hard_bg] = inf
        src[hard_bg] = 0
        snk[hard_fg] = 0
        total = src.sum() + snk.sum() + lam * pw.data.sum()
        scale = 1.5e9 / max(total, 1e-9)
        s, t = n, n + 1
        nodes = np.arange(n)
        rows = np.concatenate([pw.row, np.full(n, s), nodes])
        cols = np.concatenate([pw.col, nodes, np.full(n, t)])
        cap = np.concatenate([lam * pw.data, src, snk]) * scale
        cap = np.maximum(np.rint(cap), 0).astype(np.int32)
        # reverse entries (zero capacity) so the residual graph has them
        rows2 = np.concatenate([rows, nodes, np.full(n, t)])
        cols2 = np.concatenate([cols, np.full(n, s), nodes])
        cap2 = np.concatenate([cap, np.zeros(2 * n, np.int32)])
        g = sp.csr_matrix((cap2, (rows2, cols2)), shape=(n + 2, n + 2))
        g.sum_duplicates()
        res = maximum_flow(g, s, t)
        resid = g - res.flow
        resid.data = (resid.data > 0).astype(np.int8)
        resid.eliminate_zeros()
        reach = breadth_first_order(resid, s, directed=True, return_predecessors=False)
        fg = np.zeros(n + 2, bool)
        fg[reach] = True
        return fg[:n]

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
        p = self.p
        pos = np.array([self.labels[y, x] for x, y, q in clicks if q], np.int64)
        neg = np.array([self.labels[y, x] for x, y, q in clicks if not q], np.int64)
        hard_fg = np.zeros(self.n, bool)
        hard_bg = np.zeros(self.n, bool)
        hard_fg[pos] = True
        hard_bg[neg] = True
        hard_fg &= ~hard_bg  # a superpixel clicked both ways: the pixel stage decides
        hard_bg &= ~np.isin(np.arange(self.n), pos)
        if len(pos) == 0:
            return np.zeros(self.n, bool)
        d_pos = self._geodesic(pos)
        d_neg = self._geodesic(neg)
        d_bor = self._geodesic(self.border)
        # scale of geodesic distances: the typical distance from the positive clicks
        scale = float(np.median(d_pos[np.isfinite(d_pos)])) + 1e-6
        d_bg = np.minimum(d_neg, d_bor + scale * (1.0 / max(p.border_weight, 1e-6) - 1.0) if p.border_weight > 0 else np.inf)
        d_bg = np.minimum(d_bg, 1e6)
        prior = (d_bg - d_pos) / (d_bg + d_pos + 1e-6)  # in [-1, 1]: nearer the object or the background
        prior = p.distance_weight * prior - p.distance_weight * 0.5 * d_pos / scale  # compact around the clicks
        # flood: the region around each click that is reachable along a path of
        # little colour change (geodesic, colour only) leans hard to its label
        samples = {1.0: np.zeros(self.n), -1.0: np.zeros(self.n)}
        t = p.flood_threshold
        for lab_i, sign in ((pos, 1.0), (neg, -1.0)):
            for node in np.unique(lab_i):
                d = dijkstra(self.colgraph, directed=False, indices=int(node), limit=t)
                near = np.isfinite(d)
                prior[near] += sign * p.flood_weight * (1.0 - d[near] / t)
                samples[sign][near] = np.maximum(samples[sign][near], 1.0 - d[near] / t)
        # colour samples the user gave: the flood regions of the clicks, a
        # fixed share of each colour model (they never drift with the mask)
        a = p.sample_weight
        h_pos = self._hist(samples[1.0]) if a > 0 and samples[1.0].any() else None
        h_neg = self._hist(samples[-1.0]) if a > 0 and samples[-1.0].any() else None
        # stability: keep the previous labels away from the newest click
        stab = np.zeros(self.n)
        if prev_sp is not None and newest is not None and p.stability > 0:
            d_new = self._geodesic(np.array([self.labels[newest[1], newest[0]]]))
            keep = 1.0 - np.exp(-d_new / (0.5 * scale))
            stab = p.stability * keep * (2.0 * prev_sp - 1.0)
        # proposal: the newest click takes the part of the wrongly labelled
        # region that is geodesically nearer to it than to any click of the
        # other label (Bai & Sapiro's geodesic segmentation, restricted to
        # the region the click corrects)
        if prev_sp is not None and newest is not None and p.proposal_weight > 0:
            before = prev_sp > 0.5
            flip = self.proposal(before, clicks, newest)
            if flip.any():
                prev_sp = np.where(flip, (~before).astype(np.float64), prev_sp)
                stab = np.where(flip, p.proposal_weight * (1.0 - 2.0 * before), stab)
        # initial segmentation for the colour models
        if prev_sp is not None:
            seg = prev_sp > 0.5
            seg = seg | hard_fg
            seg &= ~hard_bg
        else:
            seg = prior > 0
            seg |= hard_fg
        for _ in range(max(1, p.iterations)):
            wf = seg.astype(np.float64)
            hf = self._hist(wf)
            hb = self._hist(1.0 - wf)
            if h_pos is not None:
                hf = (1.0 - a) * hf + a * h_pos
            if h_neg is not None:
                hb = (1.0 - a) * hb + a * h_neg
            llr_bins = np.log(hf + 1e-5) - np.log(hb + 1e-5)
            llr = self.sp_hist @ llr_bins
            llr = np.clip(llr / 3.0, -p.llr_clip, p.llr_clip)
            unary = p.color_weight * llr + prior + stab
            new = self._connected(self._cut(unary, hard_fg, hard_bg), hard_fg)
            if np.array_equal(new, seg):
                break
            seg = new
        return seg

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
                d_b = dijkstra(sub, directed=False, indices=np.unique(bor), min_only=True) + self.p.proposal_border
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
        """Pixel mask from the superpixel mask: GrabCut in a band around its boundary.

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
        if not self.p.refine or not m.any() or m.all():
            return self._stamp(m, clicks)
        m8 = m.astype(np.uint8)
        d_in = cv2.distanceTransform(m8, cv2.DIST_L2, 3)
        d_out = cv2.distanceTransform(1 - m8, cv2.DIST_L2, 3)
        tri = np.where(m, np.where(d_in > band, cv2.GC_FGD, cv2.GC_PR_FGD),
                       np.where(d_out > band, cv2.GC_BGD, cv2.GC_PR_BGD)).astype(np.uint8)
        if region is not None:
            tri[~region] = np.where(prev_work[~region], cv2.GC_FGD, cv2.GC_BGD)
        for x, y, q in clicks:
            cv2.circle(tri, (x, y), 3, cv2.GC_FGD if q else cv2.GC_BGD, -1)
        pr = (tri == cv2.GC_PR_FGD) | (tri == cv2.GC_PR_BGD)
        ys, xs = np.nonzero(pr)
        if len(ys) == 0:
            return tri_to_mask(tri)
        mg = 3 * band
        y0, y1 = max(0, ys.min() - mg), min(self.h, ys.max() + mg + 1)
        x0, x1 = max(0, xs.min() - mg), min(self.w, xs.max() + mg + 1)
        sub = np.ascontiguousarray(tri[y0:y1, x0:x1])
        isfg = (sub == cv2.GC_FGD) | (sub == cv2.GC_PR_FGD)
        if isfg.sum() < 10 or (~isfg).sum() < 10:
            return tri_to_mask(tri)
        bgd, fgd = np.zeros((1, 65)), np.zeros((1, 65))
        try:
            cv2.grabCut(np.ascontiguousarray(self.bgr[y0:y1, x0:x1]), sub, None, bgd, fgd,
                        int(self.p.refine_iterations), cv2.GC_INIT_WITH_MASK)
        except cv2.error:
            return tri_to_mask(tri)
        tri[y0:y1, x0:x1] = sub
        return tri_to_mask(tri)

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


def tri_to_mask(tri: np.ndarray) -> np.ndarray:
    return (tri == cv2.GC_FGD) | (tri == cv2.GC_PR_FGD)


def _first_candidates(self, click, scales=(0.2, 0.3, 0.42), lam=None, div=3.0, clip=2.0):
    x, y = click
    node = self.labels[y, x]
    out = []
    pw = self.pair
    for s in scales:
        hw, hh = s * self.w, s * self.h
        inside = (np.abs(self.cx - x) <= hw) & (np.abs(self.cy - y) <= hh)
        hard_fg = np.zeros(self.n, bool); hard_fg[node] = True
        hard_bg = ~inside
        seg = inside.copy()
        for _ in range(5):
            wf = seg.astype(np.float64)
            hf = self._hist(wf) + 1e-5
            hb = self._hist(1.0 - wf) + 1e-5
            llr = self.sp_hist @ (np.log(hf) - np.log(hb))
            llr = np.clip(llr / div, -clip, clip)
            old = self.p.smoothness
            if lam is not None:
                self.p.smoothness = lam
            new = self._connected(self._cut(llr, hard_fg, hard_bg), hard_fg)
            self.p.smoothness = old
            if np.array_equal(new, seg):
                break
            seg = new
        # scores
        rim = inside & np.isin(np.arange(self.n), pw.row[~inside[pw.col]])
        touch = seg[rim].sum() / max(1, rim.sum())
        cut = seg[pw.row] & ~seg[pw.col]
        contrast = 1 - (pw.data[cut].sum() / max(1e-9, (self.pair_len[cut]).sum()))
        m = seg[self.labels].astype(np.uint8)
        d = cv2.distanceTransform(m, cv2.DIST_L2, 3)
        cen = d[y, x] / max(1e-6, d.max())
        out.append((seg, dict(s=s, touch=touch, con=contrast, cen=cen, area=m.mean())))
    return out


Engine.first_candidates = _first_candidates
