"""The click engine's numba kernels against their SciPy / NumPy references."""

import numpy as np
import pytest
from skimage import data

from retouch.segment._clicks_engine import Engine, Params, _min_cut, _source_side
from retouch.segment._clicks_kernels import source_side


def _scipy_cut(n, eu, ev, w, src, snk):
    nodes = np.arange(n)
    rows = np.concatenate([eu, ev, np.full(n, n), nodes, nodes, np.full(n, n + 1)])
    cols = np.concatenate([ev, eu, nodes, np.full(n, n + 1), np.full(n, n), nodes])
    cap = np.concatenate([w, w, src, snk, np.zeros(2 * n)]).astype(np.float64)
    return _source_side(cap, rows, cols, n)


@pytest.mark.parametrize("seed", range(6))
def test_boykov_kolmogorov_cut_is_scipys_smallest_min_cut(seed):
    # grids with extra long edges and parallel edges, integer capacities; the
    # source side reachable in the residual graph is unique, so the sets must be equal
    rng = np.random.default_rng(seed)
    for _ in range(40):
        h, w = rng.integers(2, 25, 2)
        n = int(h * w)
        idx = np.arange(n).reshape(h, w)
        eu = np.concatenate([idx[:, :-1].ravel(), idx[:-1].ravel(), rng.integers(0, n, n // 3)])
        ev = np.concatenate([idx[:, 1:].ravel(), idx[1:].ravel(), rng.integers(0, n, n // 3)])
        keep = eu != ev
        eu, ev = eu[keep].astype(np.int64), ev[keep].astype(np.int64)
        wq = rng.integers(0, 40, len(eu)).astype(np.int64)
        u = rng.integers(-50, 50, n)
        src = np.maximum(u, 0).astype(np.int64) + rng.integers(0, 3, n)
        snk = np.maximum(-u, 0).astype(np.int64)
        got = source_side(n, eu, ev, wq, wq, src, snk)
        want = _scipy_cut(n, eu, ev, wq, src, snk)
        assert np.array_equal(got, want)


def test_min_cut_without_edges_follows_the_terminals():
    n = 4
    e = np.zeros(0, np.int64)
    got = _min_cut(n, e, e, np.zeros(0), np.array([1.0, 0, 2, 0]), np.array([0.0, 1, 1, 0]))
    assert got.tolist() == [True, False, True, False]  # a tie (node 3) goes to the sink


def test_numba_colour_model_matches_the_numpy_reference():
    rgb = np.ascontiguousarray(data.coffee()[::2, ::2])
    e = Engine(rgb, Params())
    rng = np.random.default_rng(0)
    for weights in ((rng.random(e.n) > 0.5) * e.size, rng.random(e.n), np.where(e.cx < 40, 1.0, 0.0)):
        comps, ll = e._gmm_fit(weights)
        comps_ref, ll_ref = e._gmm_fit_reference(weights)
        assert len(comps) == len(comps_ref)
        assert np.array_equal(np.isfinite(ll), np.isfinite(ll_ref))
        fin = np.isfinite(ll_ref)
        np.testing.assert_allclose(ll[fin], ll_ref[fin], rtol=1e-9, atol=1e-9)
        for (lw, m, inv, ld), (lw2, m2, inv2, ld2) in zip(comps, comps_ref):
            np.testing.assert_allclose([lw, ld], [lw2, ld2], rtol=1e-9)
            np.testing.assert_allclose(m, m2, rtol=1e-9)
            np.testing.assert_allclose(inv, inv2, rtol=1e-7, atol=1e-12)
    assert e._gmm_fit(np.zeros(e.n)) is None
