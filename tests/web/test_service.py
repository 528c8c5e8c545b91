"""retouch.web.service: what the web app does, called without HTTP."""

from __future__ import annotations

import time

import numpy as np
import pytest
from skimage import data

from retouch import io, registry
from retouch.web.config import POINT_SETTINGS, WebConfig
from retouch.web.models import ClickRequest, FillRequest, RefineRequest, SegmentRequest, ShapeRequest
from retouch.web.service import ApiError, Service, combine
from retouch.web.store import Job


@pytest.fixture
def svc():
    service = Service(WebConfig(max_sessions=2))
    yield service
    service.close()


@pytest.fixture
def sid(svc):
    return svc.new_session(data.astronaut(), io.ImageInfo(format="PNG"), "astronaut.png").id


def _wait(svc: Service, sid: str, job_id: str) -> str:
    for _ in range(600):
        status = svc.job(sid, job_id).status
        if status in ("done", "error"):
            return status
        time.sleep(0.05)
    raise AssertionError("the fill did not finish in 30 s")


def test_combine_modes():
    a = np.array([[True, True, False, False]])
    b = np.array([[False, True, True, False]])
    assert combine(a, b, "add").tolist() == [[True, True, True, False]]
    assert combine(a, b, "subtract").tolist() == [[True, False, False, False]]
    assert combine(a, b, "intersect").tolist() == [[False, True, False, False]]
    replaced = combine(a, b, "replace")
    assert replaced.tolist() == b.tolist() and replaced is not b


def test_tools_combine_into_the_mask_and_undo_walks_back(svc, sid):
    wand = svc.segment(sid, SegmentRequest(method="region_grow", points=[(100, 450)], settings={"tolerance": 10}))
    assert wand.mask_pixels > 1000 and wand.undo_label == "region_grow (add)"
    cut = svc.shape(sid, ShapeRequest(shape="rectangle", box=(0, 0, 512, 470), mode="subtract"))
    assert 0 < cut.mask_pixels < wand.mask_pixels
    grown = svc.refine(sid, RefineRequest(method="grow", settings={"pixels": 2}))
    assert grown.mask_pixels > cut.mask_pixels
    assert svc.undo(sid).mask_pixels == cut.mask_pixels
    assert svc.undo(sid).mask_pixels == wand.mask_pixels
    assert svc.redo(sid).mask_pixels == cut.mask_pixels
    assert svc.clear(sid).mask_pixels == 0


def test_points_go_to_the_methods_own_setting(svc, sid):
    """region_grow takes seeds, color_range one point, grabcut foreground; threshold none."""
    for method, setting in POINT_SETTINGS.items():
        assert setting in registry.get("segment", method).settings.model_fields, (method, setting)
    assert POINT_SETTINGS == {"region_grow": "seeds", "color_range": "point", "grabcut": "foreground", "superpixels": "points"}
    with pytest.raises(ApiError) as e:
        svc.segment(sid, SegmentRequest(method="threshold", points=[(1, 2)]))
    assert e.value.status == 422 and "does not take points" in e.value.message
    picked = svc.segment(sid, SegmentRequest(method="color_range", points=[(300, 350)], settings={"tolerance": 15, "radius": 2}))
    assert picked.mask_pixels > 1000


def test_clicks_mark_an_object_and_undo_takes_a_click_off(svc, sid):
    with pytest.raises(ApiError, match="start an object with a positive click"):
        svc.click(sid, ClickRequest(x=300, y=200, positive=False))
    first = svc.click(sid, ClickRequest(x=420, y=120))
    assert first.mask_pixels > 0 and first.clicks == [(420, 120, True)]
    second = svc.click(sid, ClickRequest(x=300, y=400, positive=False))
    assert [c[2] for c in second.clicks] == [True, False]
    back = svc.undo(sid)
    assert back.clicks == [(420, 120, True)] and back.mask_pixels == first.mask_pixels
    assert svc.end_clicks(sid).clicks == []


def test_a_fill_job_fills_the_mask_and_is_undone(svc, sid):
    before = svc.session(sid).image.copy()
    svc.shape(sid, ShapeRequest(shape="rectangle", box=(200, 200, 20, 12)))
    job = svc.start_fill(sid, FillRequest(method="telea", feather=2))
    assert job.method == "telea" and _wait(svc, sid, job.id) == "done"
    after = svc.session(sid).image
    changed = (after != before).any(axis=2)
    assert changed[200:212, 200:220].mean() > 0.5 and not changed[:190].any() and not changed[225:].any()
    state = svc.get_state(sid)
    assert state.fills == 1 and state.undo_label == "fill (telea)"
    svc.undo(sid)
    assert np.array_equal(svc.session(sid).image, before)


def test_mistakes_are_api_errors_with_their_status(svc, sid):
    with pytest.raises(ApiError) as e:
        svc.get_state("x" * 16)
    assert e.value.status == 404 and "unknown or has expired" in e.value.message
    with pytest.raises(ApiError) as e:
        svc.start_fill(sid, FillRequest(method="telea"))
    assert e.value.status == 422 and "the mask is empty" in e.value.message
    with pytest.raises(ApiError) as e:
        svc.segment(sid, SegmentRequest(method="nope"))
    assert e.value.status == 422 and "unknown segment method 'nope'" in e.value.message
    s = svc.session(sid)
    s.job = Job(id="0" * 16, method="slow", status="running")
    try:
        with pytest.raises(ApiError) as e:
            svc.shape(sid, ShapeRequest(shape="rectangle", box=(1, 1, 2, 2)))
        assert e.value.status == 409 and "a fill is running" in e.value.message
    finally:
        s.job = None
