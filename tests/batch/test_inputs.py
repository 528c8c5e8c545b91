"""Per-image batch inputs: sidecar files (CSV, JSON) and mask folders."""

from __future__ import annotations

import json

import numpy as np
import pytest

from retouch import RetouchError, io
from retouch.batch.inputs import MaskIndex, Sidecar, candidates


def test_candidates_most_specific_first():
    assert candidates("sub/a.jpg") == ["sub/a.jpg", "sub/a", "a.jpg", "a"]
    assert candidates("a.jpg") == ["a.jpg", "a"]


def test_csv_box_columns_points_and_extra_columns():
    text = "Image,X,Y,W,H,points,grow\nsub/a.jpg,1,2,30,40,10 12; 14 16,3\nb,5,6,7,8,,\nc.png,,,,,1 1,\n"
    side = Sidecar.parse(text, source="boxes.csv")
    assert len(side) == 3
    assert side.lookup("sub/a.jpg") == {"box": (1.0, 2.0, 30.0, 40.0), "points": [(10.0, 12.0), (14.0, 16.0)], "grow": 3}
    assert side.lookup("deep/er/b.tif") == {"box": (5.0, 6.0, 7.0, 8.0)}  # by base name
    assert side.lookup("c.png") == {"points": [(1.0, 1.0)]}
    assert side.lookup("zzz.png") is None


def test_csv_box_column_and_width_height_names():
    side = Sidecar.parse('file,box\na.jpg,"1, 2, 3, 4"\n', source="s.csv")
    assert side.lookup("a.jpg") == {"box": (1.0, 2.0, 3.0, 4.0)}
    side = Sidecar.parse("name,x,y,width,height\na,1,2,3,4\n", source="s.csv")
    assert side.lookup("a.png") == {"box": (1.0, 2.0, 3.0, 4.0)}


def test_relative_path_wins_over_base_name():
    side = Sidecar.parse("image,x,y,w,h\na.jpg,1,1,1,1\nsub/a.jpg,2,2,2,2\n", source="s.csv")
    assert side.lookup("sub/a.jpg")["box"] == (2.0, 2.0, 2.0, 2.0)
    assert side.lookup("other/a.jpg")["box"] == (1.0, 1.0, 1.0, 1.0)


def test_json_object_and_list_forms():
    obj = {"a.jpg": {"box": [1, 2, 3, 4], "points": [[5, 6]]}, "./sub/b": {"clicks": [[1, 2, True]]}}
    side = Sidecar.parse(json.dumps(obj), source="s.json")
    assert side.lookup("a.jpg") == {"box": (1.0, 2.0, 3.0, 4.0), "points": [(5.0, 6.0)]}
    assert side.lookup("sub/b.png") == {"clicks": [[1, 2, True]]}
    lst = [{"image": "a.jpg", "box": "1 2 3 4"}]
    assert Sidecar.parse(json.dumps(lst), source="s.json").lookup("a.jpg") == {"box": (1.0, 2.0, 3.0, 4.0)}


def test_load_from_file(tmp_path):
    f = tmp_path / "boxes.csv"
    f.write_text("\ufeffimage,x,y,w,h\na.jpg,1,2,3,4\n", encoding="utf-8")  # a BOM from spreadsheet programs
    assert Sidecar.load(str(f)).lookup("a.jpg") == {"box": (1.0, 2.0, 3.0, 4.0)}
    assert Sidecar.load(f.as_uri()).lookup("a.jpg") == {"box": (1.0, 2.0, 3.0, 4.0)}  # an fsspec URL


@pytest.mark.parametrize(
    ("text", "source", "message"),
    [
        ("", "s.csv", r"^s\.csv is empty; it needs a header row such as image,x,y,w,h$"),
        ("x,y,w,h\n1,2,3,4\n", "s.csv", r"^s\.csv has no image column; its header must name one of image, file, filename, path, name \(got x, y, w, h\)$"),
        ("image,x,y,w,h\na,1,2,3,4\na,1,2,3,4\n", "s.csv", r"^s\.csv: 'a' is listed twice \(entries 2 and 3\); keep one$"),
        ("image,x,y,w,h\na,1,2,three,4\n", "s.csv", r"^s\.csv line 2: the box must be a number, got 'three'$"),
        ("image,box\na,1 2 3\n", "s.csv", r"^s\.csv line 2: box must be x, y, width, height, got '1 2 3'$"),
        ("image,points\na,1 2 3\n", "s.csv", r"^s\.csv line 2: points must be 'x y; x y; \.\.\.', got '1 2 3'$"),
        ("{nope", "s.json", r"^s\.json is not valid JSON: "),
        ("[1]", "s.json", r"^s\.json item 0 must be an object with an \"image\" key$"),
        ('{"a": 3}', "s.json", r"^s\.json: the values for 'a' must be an object such as \{\"box\": \[x, y, w, h\]\}$"),
        ('"a"', "s.json", r"^s\.json must hold an object \(image -> values\) or a list of objects$"),
    ],
)
def test_bad_sidecars(text, source, message):
    with pytest.raises(RetouchError, match=message):
        Sidecar.parse(text, source=source)


def test_missing_sidecar_file(tmp_path):
    with pytest.raises(RetouchError, match=r"boxes\.csv does not exist; check the path$"):
        Sidecar.load(str(tmp_path / "boxes.csv"))


def _mask(path, shape=(8, 8)):
    path.parent.mkdir(parents=True, exist_ok=True)
    io.write_mask(path, np.ones(shape, bool))


def test_mask_index_by_relative_path_then_base_name(tmp_path):
    _mask(tmp_path / "sub" / "a.png")
    _mask(tmp_path / "b.tif")
    _mask(tmp_path / "sub" / "deeper" / "c.png")
    idx = MaskIndex(str(tmp_path))
    assert len(idx) == 3
    assert idx.lookup("sub/a.jpg").rel == "sub/a.png"
    assert idx.lookup("x/y/b.jpg").rel == "b.tif"  # same base name at the top
    assert idx.lookup("sub/deeper/c.webp").rel == "sub/deeper/c.png"
    assert idx.lookup("c.jpg") is None  # a base name is only looked up at the top
    assert idx.lookup("a.jpg") is None


def test_two_masks_for_one_image(tmp_path):
    _mask(tmp_path / "a.png")
    _mask(tmp_path / "a.bmp")
    with pytest.raises(RetouchError, match=r"^two masks match a\.jpg: a\.bmp and a\.png; keep one$"):
        MaskIndex(str(tmp_path)).lookup("a.jpg")
