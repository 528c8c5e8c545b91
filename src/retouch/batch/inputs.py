"""Per-image inputs of a batch: a mask folder and a sidecar file of boxes / points.

A **sidecar** names images by relative path (``sub/a.jpg``), relative path
without extension (``sub/a``), file name (``a.jpg``) or base name (``a``),
looked up in that order. CSV has a header row with an ``image`` column and

- ``x, y, w, h`` (or ``width, height``), or one ``box`` column ``"x y w h"``:
  the value ``box``;
- ``points``: ``"x y; x y; ..."``: the value ``points``;
- any other column: a value of that name (numbers and JSON lists are parsed).

JSON is either ``{"a.jpg": {"box": [x, y, w, h], "points": [[x, y]]}, ...}``
or a list of objects with an ``image`` key. Recipe steps take the values with
``setting = "@box"`` (or ``"@points"``, ``"@column"``).

A **mask folder** holds a mask per image with the same relative path and base
name and any image extension (``a/b.jpg`` -> ``MASKS/a/b.png``), or, failing
that, the same base name at the top of the folder (``MASKS/b.png``).

>>> side = Sidecar.parse("image,x,y,w,h,points\\na.jpg,1,2,30,40,10 12; 14 16\\n", source="boxes.csv")
>>> side.lookup("sub/a.jpg")
{'box': (1.0, 2.0, 30.0, 40.0), 'points': [(10.0, 12.0), (14.0, 16.0)]}
"""

from __future__ import annotations

import csv
import io as _io
import json
import re
from pathlib import PurePosixPath
from typing import Any

from . import files as bfs
from ..validate import RetouchError

__all__ = ["Sidecar", "MaskIndex", "candidates"]

_NAME_COLUMNS = ("image", "file", "filename", "path", "name")
_BOX_COLUMNS = (("x", "y", "w", "h"), ("x", "y", "width", "height"))


def candidates(rel: str) -> list[str]:
    """The keys an image ``rel`` may be listed under, most specific first."""
    p = PurePosixPath(rel)
    out = [rel, str(p.with_suffix("")), p.name, p.stem]
    return list(dict.fromkeys(out))


def _number(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise RetouchError(f"{what} must be a number, got {text!r}") from None


def _parse_points(text: Any, what: str) -> list[tuple[float, float]]:
    if isinstance(text, list):
        pts = []
        for p in text:
            if not isinstance(p, (list, tuple)) or len(p) != 2:
                raise RetouchError(f"{what} must be a list of [x, y] pairs, got {text!r}")
            pts.append((float(p[0]), float(p[1])))
        return pts
    pts = []
    for part in str(text).split(";"):
        part = part.strip()
        if not part:
            continue
        nums = [n for n in re.split(r"[\s,]+", part) if n]
        if len(nums) != 2:
            raise RetouchError(f"{what} must be 'x y; x y; ...', got {text!r}")
        pts.append((_number(nums[0], what), _number(nums[1], what)))
    return pts


def _parse_box(value: Any, what: str) -> tuple[float, float, float, float]:
    nums = value if isinstance(value, (list, tuple)) else [n for n in re.split(r"[\s,]+", str(value).strip()) if n]
    if len(nums) != 4:
        raise RetouchError(f"{what} must be x, y, width, height, got {value!r}")
    x, y, w, h = (_number(str(n), what) for n in nums)
    return x, y, w, h


def _parse_cell(text: str) -> Any:
    t = text.strip()
    try:
        return json.loads(t)
    except ValueError:
        return t


class Sidecar:
    """Per-image values from a CSV or JSON file."""

    def __init__(self, rows: dict[str, dict[str, Any]], source: str) -> None:
        self.rows = rows
        self.source = source

    @classmethod
    def load(cls, location: str) -> "Sidecar":
        """Read a ``.csv`` or ``.json`` sidecar from a path or URL."""
        return cls.parse(bfs.read_text(location), source=location)

    @classmethod
    def parse(cls, text: str, *, source: str) -> "Sidecar":
        """Parse sidecar text; the format comes from ``source``'s extension (JSON if it starts with ``{``/``[``)."""
        stripped = text.lstrip()
        if source.lower().endswith(".json") or stripped.startswith(("{", "[")):
            return cls._parse_json(text, source)
        return cls._parse_csv(text, source)

    @classmethod
    def _parse_csv(cls, text: str, source: str) -> "Sidecar":
        reader = csv.DictReader(_io.StringIO(text))
        fields = [f.strip().lower() for f in (reader.fieldnames or [])]
        if not fields:
            raise RetouchError(f"{source} is empty; it needs a header row such as image,x,y,w,h")
        reader.fieldnames = fields
        name_col = next((c for c in _NAME_COLUMNS if c in fields), None)
        if name_col is None:
            raise RetouchError(f"{source} has no image column; its header must name one of {', '.join(_NAME_COLUMNS)} (got {', '.join(fields)})")
        box_cols = next((cols for cols in _BOX_COLUMNS if all(c in fields for c in cols)), None)
        rows: dict[str, dict[str, Any]] = {}
        where: dict[str, int] = {}
        for line, raw in enumerate(reader, start=2):
            name = (raw.get(name_col) or "").strip()
            if not name:
                continue
            values: dict[str, Any] = {}
            used = {name_col}
            if box_cols is not None:
                used |= set(box_cols)
                cells = [(raw.get(c) or "").strip() for c in box_cols]
                if any(cells):
                    values["box"] = _parse_box(cells, f"{source} line {line}: the box")
            for col, cell in raw.items():
                if col in used or col is None or cell is None or not str(cell).strip():
                    continue
                if col == "box":
                    values["box"] = _parse_box(cell, f"{source} line {line}: box")
                elif col == "points":
                    values["points"] = _parse_points(cell, f"{source} line {line}: points")
                else:
                    values[col] = _parse_cell(cell)
            cls._add(rows, where, name, values, line, source)
        return cls(rows, source)

    @classmethod
    def _parse_json(cls, text: str, source: str) -> "Sidecar":
        try:
            data = json.loads(text)
        except ValueError as e:
            raise RetouchError(f"{source} is not valid JSON: {e}") from None
        items: list[tuple[str, Any]]
        if isinstance(data, dict):
            items = list(data.items())
        elif isinstance(data, list):
            items = []
            for i, item in enumerate(data):
                if not isinstance(item, dict) or not any(c in item for c in _NAME_COLUMNS):
                    raise RetouchError(f"{source} item {i} must be an object with an \"image\" key")
                col = next(c for c in _NAME_COLUMNS if c in item)
                items.append((str(item[col]), {k: v for k, v in item.items() if k != col}))
        else:
            raise RetouchError(f"{source} must hold an object (image -> values) or a list of objects")
        rows: dict[str, dict[str, Any]] = {}
        where: dict[str, int] = {}
        for i, (name, raw) in enumerate(items):
            if not isinstance(raw, dict):
                raise RetouchError(f"{source}: the values for {name!r} must be an object such as {{\"box\": [x, y, w, h]}}")
            values = dict(raw)
            if "box" in values:
                values["box"] = _parse_box(values["box"], f"{source}: box of {name!r}")
            if "points" in values:
                values["points"] = _parse_points(values["points"], f"{source}: points of {name!r}")
            cls._add(rows, where, name, values, i, source)
        return cls(rows, source)

    @staticmethod
    def _add(rows: dict[str, dict[str, Any]], where: dict[str, int], name: str, values: dict[str, Any], line: int, source: str) -> None:
        key = name.strip().replace("\\", "/")
        if key.startswith("./"):
            key = key[2:]
        if key in rows:
            raise RetouchError(f"{source}: {name!r} is listed twice (entries {where[key]} and {line}); keep one")
        rows[key] = values
        where[key] = line

    def lookup(self, rel: str) -> dict[str, Any] | None:
        """The values for the image at relative path ``rel``, or None."""
        for key in candidates(rel):
            if key in self.rows:
                return self.rows[key]
        return None

    def __len__(self) -> int:
        return len(self.rows)


class MaskIndex:
    """The masks under a folder, found by the image's relative path or base name."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.by_rel: dict[str, list[bfs.Entry]] = {}
        self.by_stem: dict[str, list[bfs.Entry]] = {}
        for e in bfs.walk(root):
            p = PurePosixPath(e.rel)
            self.by_rel.setdefault(str(p.with_suffix("")), []).append(e)
            if len(p.parts) == 1:
                self.by_stem.setdefault(p.stem, []).append(e)

    def lookup(self, rel: str) -> bfs.Entry | None:
        """The mask for the image at ``rel``; two masks with one base name are an error."""
        p = PurePosixPath(rel)
        for found in (self.by_rel.get(str(p.with_suffix(""))), self.by_stem.get(p.stem)):
            if found:
                if len(found) > 1:
                    names = " and ".join(e.rel for e in found)
                    raise RetouchError(f"two masks match {rel}: {names}; keep one")
                return found[0]
        return None

    def __len__(self) -> int:
        return sum(len(v) for v in self.by_rel.values())
