"""benchmarks/restore_blind.py: sheets only where the two restorations differ, letters that the key and
benchmarks.judge_count read back. A small folder of made-up old photos; no data folder needed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import judge_count, restore_blind  # noqa: E402
from retouch import io  # noqa: E402


def test_sheet_is_none_when_the_two_are_alike(chelsea):
    assert restore_blind.sheet(chelsea, chelsea, chelsea.copy()) is None
    other = chelsea.copy()
    other[100:140, 200:240] = 255
    page = restore_blind.sheet(chelsea, chelsea, other)
    assert page is not None and page.dtype == np.uint8 and page.shape[1] == 3 * restore_blind.PANEL + 16
    # the first zoom is of the window where they differ: the white square shows in Y's zoom, not in X's
    ph = round(chelsea.shape[0] * restore_blind.PANEL / chelsea.shape[1])
    zoom = page[ph + 10 : ph + 10 + restore_blind.PANEL]
    x, y = zoom[:, restore_blind.PANEL + 8 : 2 * restore_blind.PANEL + 8], zoom[:, 2 * restore_blind.PANEL + 16 :]
    assert (y.min(axis=2) == 255).mean() > (x.min(axis=2) == 255).mean() + 0.05


def test_sheets_key_and_count(tmp_path, chelsea, astronaut):
    old = tmp_path / "data" / "oldphotos"
    old.mkdir(parents=True)
    dusty = chelsea.copy()
    rng = np.random.default_rng(3)
    for _ in range(25):  # white specks: the spots detector takes them, so the two restorations differ
        y, x = int(rng.integers(10, 290)), int(rng.integers(10, 440))
        dusty[y : y + 4, x : x + 4] = 250
    io.write(old / "dusty.png", dusty)
    io.write(old / "clean.png", np.ascontiguousarray(astronaut[::4, ::4]))
    out = tmp_path / "out"
    assert restore_blind.main(["--data", str(tmp_path / "data"), "--out", str(out), "--a", "spots=spots",
                               "--b", "nothing=text", "--seed", "1"]) == 0
    key = json.loads((out / "key" / "key.json").read_text())
    template = json.loads((out / "sheets" / "rankings_template.json").read_text())
    cases = sorted(k for k in key if not k.startswith("_"))
    assert "dusty" in cases and sorted(template) == cases
    assert sorted(key["dusty"]["letters"].values()) == ["nothing", "spots"]
    for case in cases:
        assert (out / "sheets" / f"{case}.png").exists()
    assert not list((out / "key").glob("*.png")) and (out / "sheets" / "README.txt").exists()
    # a judge who prefers the letter that is "spots" on every sheet: judge_count says so
    ranks = {c: ("X>Y" if key[c]["letters"]["X"] == "spots" else "Y>X") for c in cases}
    (tmp_path / "r.json").write_text(json.dumps(ranks))
    counts_file = tmp_path / "counts.json"
    assert judge_count.main([str(tmp_path / "r.json"), str(out / "key" / "key.json"), "--json", str(counts_file)]) == 0
    (pair,) = json.loads(counts_file.read_text())
    spots_above = pair["a_above"] if pair["a"] == "spots" else pair["b_above"]
    assert spots_above == len(cases) and pair["ties"] == 0
