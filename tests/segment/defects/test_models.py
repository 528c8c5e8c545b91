"""The shipped models and their manifest (``models/models.json``): every file listed, every hash matching."""

from __future__ import annotations

import hashlib
import json
import shlex
from pathlib import Path

from retouch.segment.defects import damage_net, damage_parts, lines, speck_net, specks

MODELS = Path(lines.__file__).parent / "models"
REPO = Path(__file__).resolve().parents[3]
CBSD68_IN_GRABCUT = {"106024", "189080", "208001", "21077", "227092", "24077", "304074"}


def _manifest() -> dict:
    return json.loads((MODELS / "models.json").read_text(encoding="utf-8"))["models"]


def test_every_shipped_model_is_listed_with_its_hash():
    listed = _manifest()
    shipped = {p.name for p in MODELS.iterdir() if p.is_file() and p.name != "models.json"}
    assert shipped == set(listed), "models/ and models.json must name the same files"
    for name, entry in listed.items():
        digest = hashlib.sha256((MODELS / name).read_bytes()).hexdigest()
        assert digest == entry["sha256"], f"{name} is not the file models.json describes: retrain it as listed, or update the entry"


def test_the_detectors_load_the_listed_files():
    used = {lines.FOREST, speck_net.NET, *specks.MODELS.values(), damage_net.NET, damage_parts.MODEL}
    assert {p.name for p in used} == set(_manifest())
    assert all(p.parent == MODELS for p in used)


def test_every_entry_says_how_to_make_it_again():
    for name, entry in _manifest().items():
        for key in ("command", "data", "seeds", "steps", "used_by", "kind"):
            assert key in entry, (name, key)
        photos = {Path(p).stem for p in entry["data"]["photos"]}
        assert photos and len(photos) == len(entry["data"]["photos"])
        assert not photos & CBSD68_IN_GRABCUT, f"{name} lists CBSD68 test photos: benchmarks.restore scores on them"
        commands = entry["command"] if isinstance(entry["command"], list) else [entry["command"]]
        for command in commands:
            words = shlex.split(command)
            assert words[:2] == ["python", "-m"] and words[2].startswith("training."), command
            assert (REPO / (words[2].replace(".", "/") + ".py")).is_file(), command
