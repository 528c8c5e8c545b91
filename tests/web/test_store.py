"""Sessions and the session store: history, fills, bounds."""

from __future__ import annotations

import time

import numpy as np
import pytest

from retouch.io import ImageInfo
from retouch.web.store import Job, Session, SessionGone, SessionStore, pack_mask, unpack_mask


def make(shape=(40, 60, 3), **kw) -> Session:
    image = np.arange(np.prod(shape), dtype=np.uint64).reshape(shape).astype(np.uint8)
    return Session(image, ImageInfo(format="PNG"), "x.png", **kw)


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (37, 41), (256, 256)])
def test_pack_unpack_round_trip(shape):
    rng = np.random.default_rng(1)
    m = rng.random(shape) > 0.5
    packed = pack_mask(m)
    out = unpack_mask(packed, shape)
    assert out.dtype == bool and out.shape == shape and (out == m).all()
    assert len(pack_mask(np.zeros((1000, 1000), bool))) < 2000  # an empty megapixel mask is tiny


def test_set_mask_undo_redo():
    s = make()
    a = np.zeros(s.shape, bool)
    a[1:5, 1:5] = True
    assert s.set_mask(a, "a") and s.version == 1
    assert not s.set_mask(a.copy(), "same")  # no change, no step
    b = a.copy()
    b[10:20, 10:20] = True
    s.set_mask(b, "b")
    assert s.undo().label == "b" and (s.mask == a).all()
    assert s.undo().label == "a" and not s.mask.any()
    assert s.undo() is None
    assert s.redo().label == "a" and (s.mask == a).all()
    s.set_mask(np.ones(s.shape, bool), "all")
    assert s.redo() is None and not s.redo_stack


def test_fill_is_undoable_exactly():
    s = make()
    before = s.image.copy()
    m = np.zeros(s.shape, bool)
    m[5:9, 20:30] = True
    s.set_mask(m, "box")
    result = np.full_like(s.image, 7)
    s.apply_fill(result, m, "fill (x)")
    assert (s.image[m] == 7).all() and (s.image[~m] == before[~m]).all()
    assert s.fills == 1 and not s.mask.any() and (s.filled == m).all() and s.image_version == 1
    # only the changed rectangle is kept for undo
    assert s.undo_stack[-1].patch[2].shape == (4, 10, 3)
    s.undo()
    assert (s.image == before).all() and (s.mask == m).all() and s.fills == 0 and s.filled is None
    s.redo()
    assert (s.image[m] == 7).all() and s.fills == 1 and not s.mask.any()


def test_history_is_bounded_by_depth_and_bytes():
    s = make(history_depth=4)
    for i in range(10):
        m = np.zeros(s.shape, bool)
        m[i, i] = True
        s.set_mask(m, f"step {i}")
    assert len(s.undo_stack) == 4 and s.undo_stack[0].label == "step 6"
    t = make(shape=(100, 100, 3), history_bytes=40_000)
    for i in range(5):
        m = np.zeros(t.shape, bool)
        m[: 20 * (i + 1)] = True
        t.set_mask(m, "m")
        t.apply_fill(np.zeros_like(t.image), m, "fill")  # each patch is 6000..30000 bytes
    assert sum(e.nbytes for e in t.undo_stack) <= 40_000 or len(t.undo_stack) == 1


def test_store_lru_ttl_and_bytes():
    store = SessionStore(max_sessions=3, max_bytes=10**9, ttl=3600)
    a, b, c = (store.add(make()) for _ in range(3))
    store.get(a.id)
    d = store.add(make())
    assert b.id not in store and {a.id, c.id, d.id} <= set(store.ids())
    with pytest.raises(SessionGone):
        store.get(b.id)
    assert store.drop(a.id) and not store.drop(a.id)
    per = make().nbytes()
    small = SessionStore(max_sessions=100, max_bytes=2 * per, ttl=3600)
    ids = [small.add(make()).id for _ in range(5)]
    assert len(small) == 2 and small.total_bytes() <= 2 * per and ids[-1] in small
    quick = SessionStore(max_sessions=10, max_bytes=10**9, ttl=0.05)
    e = quick.add(make())
    time.sleep(0.1)
    assert quick.sweep() == 1 and e.id not in quick and quick.dropped == 1


def test_busy_sessions_are_not_evicted():
    store = SessionStore(max_sessions=1, max_bytes=10**9, ttl=0.0001)
    a = store.add(make())
    a.job = Job(id="0" * 16, method="m", status="running")
    time.sleep(0.01)
    b = store.add(make())
    assert a.id in store and b.id in store  # over the bound for as long as the fill runs
    a.job.status = "done"
    store.sweep()
    assert a.id not in store
