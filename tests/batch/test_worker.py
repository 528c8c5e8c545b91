"""The per-image work of a batch: read, apply, write, and a small record back; never raises."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from retouch import io
from retouch.batch import files as _batch_fs
from retouch.batch.worker import process, process_many
from retouch.pipeline import Recipe

RECIPE = Recipe.from_dict({"inputs": {"box_as_mask": True}, "inpaint": "telea"}).to_json()


def task(tmp_path, name="a.png", **kw):
    t = {
        "key": name,
        "input": str(tmp_path / "in" / name),
        "output": str(tmp_path / "out" / "sub" / name),
        "mask": None,
        "values": {"box": (5, 5, 10, 10)},
        "action": "run",
        "recipe": RECIPE,
        "max_pixels": None,
    }
    t.update(kw)
    return t


@pytest.fixture
def photo(tmp_path):
    (tmp_path / "in").mkdir()
    io.write(tmp_path / "in" / "a.png", data.chelsea()[:40, :60])
    return tmp_path


def test_done_record_and_output(photo):
    rec = process(task(photo))
    assert rec["status"] == "done" and rec["error"] is None
    assert rec["megapixels"] == pytest.approx(40 * 60 / 1e6)
    assert rec["filled"] == pytest.approx(100 / 2400)
    assert rec["seconds"] > 0 and rec["peak_rss_mb"] > 0 and isinstance(rec["pid"], int)
    out = io.read(photo / "out" / "sub" / "a.png")  # the folder was made
    expected = Recipe.from_text(RECIPE).apply(data.chelsea()[:40, :60], inputs={"box": (5, 5, 10, 10)}).image
    np.testing.assert_array_equal(out, expected)


def test_a_corrupt_file_is_a_failed_record(photo):
    (photo / "in" / "bad.jpg").write_bytes(b"\xff\xd8\xff\xe0 broken")
    rec = process(task(photo, "bad.jpg"))
    assert rec["status"] == "failed" and rec["error_type"] == "ImageFileError"
    assert rec["error"].startswith(f"{photo / 'in' / 'bad.jpg'} is truncated or corrupt")
    assert not (photo / "out").exists()  # nothing written, not even a folder


def test_a_wrong_size_mask_is_a_failed_record(photo):
    io.write_mask(photo / "m.png", np.ones((5, 5), bool))
    rec = process(task(photo, mask=str(photo / "m.png"), values=None))
    assert rec["status"] == "failed"
    assert rec["error"] == f"the mask {photo / 'm.png'} is 5x5 but the image is 60x40 (width x height); they must be the same size"


def test_other_exceptions_are_reported_with_their_type(photo, monkeypatch):
    def boom(*a, **k):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(_batch_fs, "read_image", boom)
    rec = process(task(photo))
    assert rec["status"] == "failed" and rec["error"] == "ZeroDivisionError: boom"


def test_copy_keeps_bytes_or_converts(photo):
    rec = process(task(photo, action="copy", values=None))
    assert rec["status"] == "done"
    assert (photo / "out" / "sub" / "a.png").read_bytes() == (photo / "in" / "a.png").read_bytes()
    rec = process(task(photo, action="copy", values=None, output=str(photo / "out" / "a.tif")))
    np.testing.assert_array_equal(io.read(photo / "out" / "a.tif"), data.chelsea()[:40, :60])


def test_input_file_unchanged(photo):
    before = (photo / "in" / "a.png").read_bytes()
    process(task(photo))
    assert (photo / "in" / "a.png").read_bytes() == before


def test_process_many_returns_one_record_per_image_in_order(photo):
    (photo / "in" / "bad.jpg").write_bytes(b"broken")
    recs = process_many([task(photo), task(photo, "bad.jpg"), task(photo, action="copy", values=None, output=str(photo / "out" / "c.png"))])
    assert [(r["key"], r["status"]) for r in recs] == [("a.png", "done"), ("bad.jpg", "failed"), ("a.png", "done")]
