"""The numba kernels of patchmatch against the plain NumPy reference."""

from __future__ import annotations

import numpy as np
import pytest

from retouch.inpaint import _patchmatch_kernels as K
from retouch.inpaint import _patchmatch_reference as R
from retouch.inpaint.patchmatch import _targets, _valid_centres


def _setup(seed: int, h: int = 24, w: int = 28, c: int = 3, r: int = 2):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (h, w, c)).astype(np.float32)
    hole = np.zeros((h, w), bool)
    hole[8:15, 9:17] = True
    hole[0:3, 20:26] = True  # touches the border
    ty, tx, tindex = _targets(hole, r)
    valid = _valid_centres(~hole, r)
    vy, vx = np.nonzero(valid)
    pick = rng.integers(0, vy.size, ty.size)
    sy, sx = vy[pick].astype(np.int64), vx[pick].astype(np.int64)
    m = np.rint(img).astype(np.int16).reshape(h, -1)
    return img, m, hole, ty, tx, tindex, valid, sy, sx, r, c


def _cost(kind: str, shape: tuple[int, int]) -> np.ndarray:
    """A source cost: none, or one of the size of a patch distance, so that it changes matches."""
    if kind == "zero":
        return np.zeros(shape, np.int64)
    return np.random.default_rng(5).integers(0, 60_000, shape).astype(np.int64)


def _anchor(kind: str, ty: np.ndarray, shape: tuple[int, int]):
    """Targets' anchors and the weight of a source's squared distance from them: none, or enough to change matches."""
    rng = np.random.default_rng(9)
    ay = rng.integers(0, shape[0], ty.size).astype(np.int64)
    ax = rng.integers(0, shape[1], ty.size).astype(np.int64)
    return ay, ax, (0.0 if kind == "zero" else 137.5)


def test_xorshift_matches():
    s_k = s_r = 12345
    for _ in range(100):
        s_k, s_r = K.xorshift(s_k), R.xorshift(s_r)
        assert s_k == s_r
        assert 0 < s_k < 2**32


@pytest.mark.parametrize("c", [1, 3, 5])
@pytest.mark.parametrize("kind", ["zero", "random"])
def test_patch_distances_match(c, kind):
    img, m, hole, ty, tx, tindex, valid, sy, sx, r, c = _setup(0, c=c)
    cost = _cost(kind, hole.shape)
    ay, ax, wloc = _anchor(kind, ty, hole.shape)
    got = K.patch_distances(m, c, ty, tx, sy, sx, r, cost, ay, ax, wloc)
    want = R.patch_distances(m, c, ty, tx, sy, sx, r, cost, ay, ax, wloc)
    np.testing.assert_array_equal(got, want)
    # the costs are added once per match: the source's, and wloc times its squared distance from the anchor
    zero = K.patch_distances(m, c, ty, tx, sy, sx, r, _cost("zero", hole.shape), ay, ax, 0.0)
    np.testing.assert_array_equal(got - zero, cost[sy, sx] + (wloc * ((sy - ay) ** 2 + (sx - ax) ** 2)).astype(np.int64))


def test_patch_distance_hand_checked():
    img = np.zeros((5, 10), np.int16)  # 5 x 5 pixels, 2 channels
    img[:, 5:] = 2  # right half of the pixels is 2 in both channels
    # 3x3 patches at (2, 1) (all 0) and (2, 3) (columns 2..4: 0, 2, 2): 3 rows x 2 px x 2 ch x 4
    assert K.patch_distance(img, 2, 2, 1, 2, 3, 1, np.int64(10**9)) == 3 * 2 * 2 * 4
    assert R.patch_distance(img, 2, 2, 1, 2, 3, 1) == 48


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("iterations", [1, 2, 3])
@pytest.mark.parametrize("kind", ["zero", "random"])
@pytest.mark.parametrize("chunks", [1, 3])
def test_nnf_search_matches_reference(seed, iterations, kind, chunks):
    img, m, hole, ty, tx, tindex, valid, sy, sx, r, c = _setup(seed)
    cost = _cost(kind, hole.shape)
    A = _anchor(kind, ty, hole.shape)
    d = K.patch_distances(m, c, ty, tx, sy, sx, r, cost, *A)
    sy_k, sx_k, d_k = sy.copy(), sx.copy(), d.copy()
    sy_r, sx_r, d_r = sy.copy(), sx.copy(), d.copy()
    st_k = K.nnf_search(m, c, valid, cost, ty, tx, tindex, sy_k, sx_k, d_k, r, iterations, 27, seed + 7, chunks, *A)
    st_r = R.nnf_search(m, c, valid, cost, ty, tx, tindex, sy_r, sx_r, d_r, r, iterations, 27, seed + 7, chunks, *A)
    assert st_k == st_r
    np.testing.assert_array_equal(sy_k, sy_r)
    np.testing.assert_array_equal(sx_k, sx_r)
    np.testing.assert_array_equal(d_k, d_r)
    # the search only improves, and every match is an allowed source
    assert (d_k <= d).all() and (d_k < d).any()
    assert valid[sy_k, sx_k].all()
    np.testing.assert_array_equal(d_k, K.patch_distances(m, c, ty, tx, sy_k, sx_k, r, cost, *A))


def test_nnf_search_finds_exact_copy():
    # a periodic image: every target has an exact match elsewhere (distance 0)
    h, w, r = 32, 32, 2
    tile = np.random.default_rng(3).integers(0, 256, (8, 8)).astype(np.float32)
    img = np.tile(tile, (4, 4))[..., None]
    hole = np.zeros((h, w), bool)
    hole[12:18, 12:18] = True
    ty, tx, tindex = _targets(hole, r)
    valid = _valid_centres(~hole, r)
    vy, vx = np.nonzero(valid)
    sy = np.full(ty.size, vy[0], np.int64)
    sx = np.full(ty.size, vx[0], np.int64)
    m = np.rint(img).astype(np.int16).reshape(h, -1)
    cost = np.zeros((h, w), np.int64)
    A = _anchor("zero", ty, (h, w))
    d = K.patch_distances(m, 1, ty, tx, sy, sx, r, cost, *A)
    K.nnf_search(m, 1, valid, cost, ty, tx, tindex, sy, sx, d, r, 6, 32, 1, 2, *A)
    assert np.mean(d == 0) > 0.95


@pytest.mark.parametrize("vr", [0, 1, 2])
def test_vote_matches_reference(vr):
    img, m, hole, ty, tx, tindex, valid, sy, sx, r, c = _setup(4)
    w = np.random.default_rng(5).random(ty.size)
    w[::7] = 0.0  # some patches do not vote
    hy, hx = (a.astype(np.int64) for a in np.nonzero(hole))
    got = K.vote(img, hy, hx, tindex, sy, sx, w, r, vr, np.empty((hy.size, c), np.float32))
    want = R.vote(img, hy, hx, tindex, sy, sx, w, r, vr, np.empty((hy.size, c), np.float64))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-3)


def test_vote_hand_checked():
    # one hole pixel, covered by the patch centred on it only (vr = 0): copies the source centre
    img = np.arange(5 * 5 * 1, dtype=np.float32).reshape(5, 5, 1)
    tindex = np.full((5, 5), -1, np.int32)
    tindex[2, 2] = 0
    out = K.vote(img, np.array([2]), np.array([2]), tindex, np.array([1]), np.array([3]), np.array([1.0]), 1, 1, np.empty((1, 1), np.float32))
    assert out[0, 0] == img[1, 3, 0]


def test_parallel_kernels_do_not_depend_on_the_thread_count():
    # patch_distances, vote and the chunked search run in numba threads: one thread and all of them must agree exactly
    import numba

    img, m, hole, ty, tx, tindex, valid, sy, sx, r, c = _setup(6, h=60, w=70)
    hy, hx = (a.astype(np.int64) for a in np.nonzero(hole))
    cost = _cost("random", valid.shape)
    A = _anchor("random", ty, valid.shape)
    w = np.random.default_rng(2).random(ty.size)
    results = []
    before = numba.get_num_threads()
    try:
        for n in sorted({1, numba.config.NUMBA_NUM_THREADS}):
            numba.set_num_threads(n)
            d = K.patch_distances(m, c, ty, tx, sy, sx, r, cost, *A)
            v = K.vote(img, hy, hx, tindex, sy, sx, w, r, r, np.empty((hy.size, c), np.float32))
            s_y, s_x, dd = sy.copy(), sx.copy(), d.copy()
            K.nnf_search(m, c, valid, cost, ty, tx, tindex, s_y, s_x, dd, r, 3, 40, 11, 4, *A)
            results.append((d, v, s_y, s_x))
    finally:
        numba.set_num_threads(before)
    for got in results[1:]:
        for a, b in zip(got, results[0]):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(results[0][0], R.patch_distances(m, c, ty, tx, sy, sx, r, cost, *A))


def _dense(nbr, diag):
    n = diag.size
    a = np.diag(diag.astype(float))
    for i in range(n):
        for k in range(4):
            if nbr[i, k] >= 0:
                a[i, nbr[i, k]] -= 1.0
    return a


def test_fusion_reproduces_a_consistent_copy_and_solver_matches_numpy():
    # the hole holds an exact copy of the texture one period to the left: every guidance
    # difference is the truth's, so the fused fill is the truth whatever the start
    rng = np.random.default_rng(3)
    tile = rng.uniform(0, 200, (12, 12)).astype(np.float32)
    img = np.tile(tile, (3, 4))[..., None]  # 36 x 48
    hole = np.zeros(img.shape[:2], bool)
    hole[14:24, 28:40] = True
    hy, hx = (a.astype(np.int64) for a in np.nonzero(hole))
    psy, psx = hy.copy(), hx - 12
    start = img.copy()
    start[hole] += rng.normal(0, 20, (hy.size, 1)).astype(np.float32)  # a noisy voted fill
    nbr, diag, b = K.fusion_system(hole, ~hole, hy, hx, psy, psx, img, start, 1e-3, np.full(hy.size, -1.0))
    x = start[hy, hx].astype(np.float64)
    it = K.solve_fusion(nbr, diag, b, x, 1e-10, 2000)
    assert it > 0
    want = np.linalg.solve(_dense(nbr, diag), b)
    np.testing.assert_allclose(x, want, atol=1e-4)
    # the data term pulls a little towards the noisy start; the truth is within a grey level or so
    assert np.abs(x[:, 0] - img[hy, hx, 0]).mean() < 1.0


def test_fusion_system_hand_checked():
    # a ramp (10 per column, 1 per row); the hole is (2, 2) and (2, 3), copied from (1, 1) and (3, 4):
    # every source-side difference is the ramp's, so the truth (22, 32) satisfies every edge
    ramp = (10.0 * np.arange(6)[None, :] + np.arange(5)[:, None]).astype(np.float32)[..., None]
    hole = np.zeros((5, 6), bool)
    hole[2, 2:4] = True
    fill = ramp.copy()
    fill[2, 2, 0], fill[2, 3, 0] = 0.0, 100.0  # a bad voted fill
    hy, hx = np.array([2, 2]), np.array([2, 3])
    mu = 0.5
    nbr, diag, b = K.fusion_system(hole, ~hole, hy, hx, np.array([1, 3]), np.array([1, 4]), ramp, fill, mu, np.full(2, -1.0))
    np.testing.assert_allclose(diag, [4.5, 4.5])
    assert nbr[0].tolist() == [1, -1, -1, -1] and nbr[1].tolist() == [-1, -1, 0, -1]  # right of p0 is p1, left of p1 is p0
    # p0: 0.5 * 0 + (-10) [to p1] + (12 + 10) [left] + (23 - 1) [below] + (21 + 1) [above] = 56
    # p1: 0.5 * 100 + 10 [to p0] + (42 - 10) + (33 - 1) + (31 + 1) = 156
    np.testing.assert_allclose(b[:, 0], [56.0, 156.0])
    x = fill[hy, hx].astype(np.float64)
    K.solve_fusion(nbr, diag, b, x, 1e-12, 100)
    np.testing.assert_allclose(x[:, 0], np.linalg.solve([[4.5, -1.0], [-1.0, 4.5]], [56.0, 156.0]), atol=1e-9)
    # with mu -> 0 the bad fill is forgotten: the truth
    nbr, diag, b = K.fusion_system(hole, ~hole, hy, hx, np.array([1, 3]), np.array([1, 4]), ramp, fill, 1e-9, np.full(2, -1.0))
    x = fill[hy, hx].astype(np.float64)
    K.solve_fusion(nbr, diag, b, x, 1e-12, 100)
    np.testing.assert_allclose(x[:, 0], [22.0, 32.0], atol=1e-6)


def test_fusion_takes_the_better_matched_view_between_hole_pixels():
    # two hole pixels side by side with different sources: their views of the edge differ;
    # with match distances the better-matched pixel's view alone is the guidance, else the mean
    rng = np.random.default_rng(7)
    src = rng.uniform(0, 255, (8, 10, 1)).astype(np.float32)
    hole = np.zeros((8, 10), bool)
    hole[4, 4:6] = True
    hy, hx = np.array([4, 4]), np.array([4, 5])
    psy, psx = np.array([2, 6]), np.array([2, 7])
    view0 = src[2, 2, 0] - src[2, 3, 0]  # pixel 0's source and its right neighbour
    view1 = src[6, 6, 0] - src[6, 7, 0]  # pixel 1's source and its left neighbour
    known = [(3, 4), (5, 4), (4, 3)]  # pixel 0's known neighbours: above, below, left

    def rhs0(dq):
        _, _, b = K.fusion_system(hole, ~hole, hy, hx, psy, psx, src, src.copy(), 0.0, dq)
        kn = sum(src[y, x, 0] + src[2, 2, 0] - src[2 + y - 4, 2 + x - 4, 0] for y, x in known)
        return b[0, 0] - kn  # what the edge to pixel 1 contributed

    assert rhs0(np.array([5.0, 1.0])) == pytest.approx(view1, abs=1e-3)  # pixel 1 matched better
    assert rhs0(np.array([1.0, 5.0])) == pytest.approx(view0, abs=1e-3)
    assert rhs0(np.array([-1.0, -1.0])) == pytest.approx((view0 + view1) / 2, abs=1e-3)


def _edge_scene(seed: int = 0):
    """A dark top half (60) over a bright bottom half (190), both with a little noise; a hole across the edge."""
    rng = np.random.default_rng(seed)
    img = (np.where(np.arange(40)[:, None, None] < 20, 60.0, 190.0) + rng.normal(0, 4, (40, 60, 3))).astype(np.float32)
    hole = np.zeros((40, 60), bool)
    hole[12:28, 24:40] = True
    return img, hole


def test_priority_fill_continues_an_edge_through_the_hole():
    img, hole = _edge_scene()
    valid = _valid_centres(~hole, 3)
    out = img.copy()
    out[hole] = 0.0
    copies = K.priority_fill(out, hole, valid, np.zeros(hole.shape), 3)
    assert copies >= 1
    assert np.array_equal(out[~hole], img[~hole])  # known pixels untouched
    rows = out[:, 24:40].mean(axis=(1, 2))
    # the edge stays at row 20: dark above it, bright below, no ramp in between
    assert np.abs(rows[12:20] - 60).max() < 8 and np.abs(rows[20:28] - 190).max() < 8
    # (a diffusion fill of the same hole leaves a ramp across the middle rows)
    import cv2

    u8 = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    tel = cv2.inpaint(u8, hole.view(np.uint8), 3, cv2.INPAINT_TELEA).astype(np.float32)
    assert np.abs(tel[:, 24:40].mean(axis=(1, 2))[18:22] - np.array([60, 60, 190, 190])).max() > 8


def test_priority_fill_copies_whole_patches_from_valid_sources_only():
    img, hole = _edge_scene(1)
    img[2:12, 2:12] = (255.0, 0.0, 0.0)  # red, and not allowed as a source
    allowed = ~hole
    allowed[0:14, 0:14] = False
    valid = _valid_centres(allowed, 2)
    cost = np.random.default_rng(2).uniform(0, 500, hole.shape)
    a = img.copy()
    a[hole] = 0.0
    b = a.copy()
    K.priority_fill(a, hole, valid, cost, 2)
    K.priority_fill(b, hole, valid, cost, 2)
    assert np.array_equal(a, b)  # deterministic
    filled = a[hole]
    assert not ((filled[:, 0] > 200) & (filled[:, 1] < 50)).any()  # not a trace of the red
    # every filled value is a copy of a pixel in a valid source patch (no blend)
    vy, vx = np.nonzero(valid)
    reach = np.zeros(hole.shape, bool)
    for dy in range(-2, 3):
        for dx in range(-2, 3):
            reach[vy + dy, vx + dx] = True
    pool = {tuple(v) for v in img[reach].tolist()}
    assert all(tuple(v) in pool for v in filled.tolist())
