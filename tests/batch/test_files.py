"""Local paths and fsspec URLs behind one small API for batches."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from retouch import ImageFileError, RetouchError, io
from retouch.batch import files as bfs


def test_is_url_and_join(tmp_path):
    assert bfs.is_url("s3://b/k") and bfs.is_url("file:///tmp") and not bfs.is_url("/tmp/a")
    assert bfs.join("s3://b/in/", "x/y.png") == "s3://b/in/x/y.png"
    assert bfs.join(str(tmp_path), "x/y.png") == str(tmp_path / "x" / "y.png")


def test_walk_sorted_recursive_skips_hidden_non_images_and_excluded(tmp_path):
    for rel in ("b.png", "a/c.JPG", "a/.d.png", ".hidden/e.png", "skip/f.png", "g.txt"):
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")
    found = [e.rel for e in bfs.walk(str(tmp_path), exclude=[str(tmp_path / "skip")])]
    assert found == ["a/c.JPG", "b.png"]
    urls = [e.rel for e in bfs.walk(tmp_path.as_uri(), exclude=[(tmp_path / "skip").as_uri()])]
    assert urls == found
    entry = next(bfs.walk(str(tmp_path)))
    assert entry.size == 1 and entry.stamp


def test_clean_parts_removes_only_temporary_files(tmp_path):
    (tmp_path / "s").mkdir()
    for name in (".a.png.x1y2z3w4.part", "s/.b.jpg.abcdefgh.part", "c.png", "d.part", ".e.png"):
        (tmp_path / name).write_bytes(b"x")
    removed = bfs.clean_parts(str(tmp_path))
    assert len(removed) == 2
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == [".e.png", "c.png", "d.part"]
    assert bfs.clean_parts(str(tmp_path / "none")) == []


@pytest.mark.parametrize("url", [False, True])
def test_write_read_round_trip(tmp_path, url):
    img = data.chelsea()[:20, :30]
    loc = (tmp_path / "o" / "a.png").as_uri() if url else str(tmp_path / "o" / "a.png")
    bfs.write_image(loc, img, info=None, quality=95, overwrite=False)
    back, _ = bfs.read_image(loc, max_pixels=None)
    np.testing.assert_array_equal(back, img)
    assert bfs.exists(loc)
    with pytest.raises(ImageFileError, match="already exists"):
        bfs.write_image(loc, img, info=None, quality=95, overwrite=False)
    assert not list((tmp_path / "o").glob("*.part"))
    bfs.remove(loc)
    assert not bfs.exists(loc)


def test_url_errors_name_the_url(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    url = (tmp_path / "bad.png").as_uri()
    with pytest.raises(ImageFileError, match=rf"^{url} "):
        bfs.read_image(url, max_pixels=None)
    with pytest.raises(ImageFileError, match=r"does not exist; check the path"):
        bfs.read_image((tmp_path / "nope.png").as_uri(), max_pixels=None)


def test_copy_file_and_text(tmp_path):
    io.write(tmp_path / "a.png", data.camera()[:8, :8])
    bfs.copy_file(str(tmp_path / "a.png"), str(tmp_path / "c" / "a.png"), overwrite=False)
    bfs.copy_file(str(tmp_path / "a.png"), (tmp_path / "u" / "a.png").as_uri(), overwrite=False)
    assert (tmp_path / "c" / "a.png").read_bytes() == (tmp_path / "u" / "a.png").read_bytes() == (tmp_path / "a.png").read_bytes()
    with pytest.raises(ImageFileError, match="already exists"):
        bfs.copy_file(str(tmp_path / "a.png"), str(tmp_path / "c" / "a.png"), overwrite=False)
    bfs.write_text(str(tmp_path / "r" / "x.json"), "{}")
    bfs.write_text((tmp_path / "r" / "y.json").as_uri(), "[]")
    assert bfs.read_text(str(tmp_path / "r" / "x.json")) == "{}" and bfs.read_text((tmp_path / "r" / "y.json").as_uri()) == "[]"
    with pytest.raises(RetouchError, match="does not exist; check the path"):
        bfs.read_text(str(tmp_path / "none.csv"))
