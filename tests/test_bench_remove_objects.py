"""The pure parts of benchmarks/remove_objects.py: win counting, seam and detail figures, the mask mover.

No data folder and no peer needed: hand-made arrays only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._removal import (  # noqa: E402
    assign_letters,
    cross_jump,
    detail_ratio,
    hole_psnr,
    identical_groups,
    move_mask,
    pairwise,
    pairwise_table,
    parse_ranking,
    seam_figure,
    structure_psnr,
)


# ---------------------------------------------------------------- rankings and key

KEY = {
    "real_001": {"letters": {"A": "auto", "B": "pypatchmatch", "C": "cv2.ns"}, "identical": []},
    "real_002": {"letters": {"A": "cv2.ns", "B": "auto", "C": "pypatchmatch"}, "identical": []},
    "real_003": {"letters": {"A": "pypatchmatch", "B": "patchmatch", "C": "auto"}, "identical": [["B", "C"]]},
}


def test_parse_ranking():
    assert parse_ranking("C>A=B>D") == [["C"], ["A", "B"], ["D"]]
    assert parse_ranking(" c > a ") == [["C"], ["A"]]
    assert parse_ranking("") == []
    with pytest.raises(ValueError, match="appears twice"):
        parse_ranking("A>B>A")
    with pytest.raises(ValueError, match="not one letter"):
        parse_ranking("A>>B")


def test_pairwise_counts_by_method_not_letter():
    rankings = {"real_001": "A>B>C", "real_002": "C>B>A"}  # auto > pypm > ns, then pypm > auto > ns
    c = pairwise(rankings, KEY)
    assert c[("auto", "pypatchmatch")] == [1, 1, 0]
    assert c[("auto", "cv2.ns")] == [2, 0, 0]
    assert c[("cv2.ns", "pypatchmatch")] == [0, 2, 0]


def test_pairwise_ties_partial_and_identical():
    # B and C identical (patchmatch, auto): a tie whatever the judge says; "=" a tie too
    c = pairwise({"real_003": "B>A=C"}, KEY)
    assert c[("auto", "patchmatch")] == [0, 0, 1]
    assert c[("auto", "pypatchmatch")] == [0, 0, 1]
    assert c[("patchmatch", "pypatchmatch")] == [1, 0, 0]
    # a letter left out is not counted
    c = pairwise({"real_001": "B>A"}, KEY)
    assert set(c) == {("auto", "pypatchmatch")} and c[("auto", "pypatchmatch")] == [0, 1, 0]


def test_pairwise_errors():
    with pytest.raises(KeyError, match="not in the key"):
        pairwise({"real_999": "A>B"}, KEY)
    with pytest.raises(ValueError, match="not on its sheet"):
        pairwise({"real_001": "A>D"}, KEY)


def test_pairwise_table_rates():
    text = pairwise_table({("auto", "pypatchmatch"): [3, 1, 0]})
    assert "| auto vs pypatchmatch | 3 | 1 | 0 | 3/4 = 75% |" in text
    assert "| pypatchmatch | 25% | - |" in text


def test_judge_count_cli(tmp_path, capsys):
    from benchmarks.judge_count import main

    (tmp_path / "key.json").write_text(json.dumps(KEY))
    (tmp_path / "r.txt").write_text("# judge 1\nreal_001 A>B>C\nreal_002: C>B>A\n")
    assert main([str(tmp_path / "r.txt"), str(tmp_path / "key.json"), "--json", str(tmp_path / "c.json")]) == 0
    assert "2 cases ranked; 1 sheets of the key not ranked" in capsys.readouterr().out
    counts = json.loads((tmp_path / "c.json").read_text())
    assert {"a": "auto", "b": "cv2.ns", "a_above": 2, "b_above": 0, "ties": 0} in counts
    # a second judge (JSON): counts pooled
    (tmp_path / "r2.json").write_text(json.dumps({"real_001": "C>A>B", "real_003": ""}))
    main([str(tmp_path / "r.txt"), str(tmp_path / "r2.json"), str(tmp_path / "key.json"), "--json", str(tmp_path / "c.json")])
    counts = json.loads((tmp_path / "c.json").read_text())
    assert {"a": "auto", "b": "cv2.ns", "a_above": 2, "b_above": 1, "ties": 0} in counts
    with pytest.raises(SystemExit, match="not in the key"):
        (tmp_path / "r3.json").write_text(json.dumps({"real_404": "A>B"}))
        main([str(tmp_path / "r3.json"), str(tmp_path / "key.json")])


def test_letters_shuffled_deterministic_and_identical_groups():
    ms = ["auto", "patchmatch", "pypatchmatch", "cv2.ns"]
    a = assign_letters(ms, np.random.default_rng(5))
    assert a == assign_letters(ms, np.random.default_rng(5))
    assert sorted(a) == ["A", "B", "C", "D"] and sorted(a.values()) == sorted(ms)
    orders = {tuple(assign_letters(ms, np.random.default_rng(s)).values()) for s in range(20)}
    assert len(orders) > 5
    x = np.zeros((4, 4, 3), np.uint8)
    assert identical_groups({"A": x, "B": x + 1, "C": x.copy()}) == [["A", "C"]]


# ---------------------------------------------------------------- metrics


def _stripes(h=64, w=64, period=4):
    img = np.zeros((h, w, 3), np.uint8)
    img[:, (np.arange(w) // (period // 2)) % 2 == 1] = 200
    return img


def _square(h=64, w=64, a=20, b=44):
    m = np.zeros((h, w), bool)
    m[a:b, a:b] = True
    return m


def test_cross_jump_by_hand():
    img = np.zeros((3, 4), np.uint8)
    img[:, 2:] = 10
    region = np.zeros((3, 4), bool)
    region[:, 2:] = True
    assert cross_jump(img, region) == pytest.approx(10.0)  # three pairs across, each 10
    assert np.isnan(cross_jump(img, np.zeros((3, 4), bool)))
    rgb = np.zeros((1, 2, 3), np.uint8)
    rgb[0, 1] = (3, 4, 0)
    assert cross_jump(rgb, np.array([[False, True]])) == pytest.approx(5.0)


def test_seam_figure_flags_a_flat_patch_in_texture():
    truth = (np.random.default_rng(0).random((64, 64, 3)) * 120 + 40).astype(np.uint8)  # i.i.d. noise: every pair alike
    hole = _square()
    _, _, s_truth = seam_figure(truth, hole)
    assert s_truth == pytest.approx(1.0, abs=0.1)
    # a patch of a different grey: a visible edge all round
    bad = truth.copy()
    bad[hole] = 255
    border, ring, s_bad = seam_figure(bad, hole)
    assert s_bad > s_truth + 0.3 and ring == pytest.approx(seam_figure(truth, hole)[1])


def test_seam_figure_low_for_a_smooth_fill_of_a_smooth_photo():
    ramp = np.tile(np.linspace(0, 255, 64, dtype=np.float32), (64, 1)).astype(np.uint8)
    img = np.repeat(ramp[..., None], 3, axis=-1)
    hole = _square()
    out = img.copy()
    out[hole] = 128  # a flat grey in a ramp: a step at the left and right borders
    assert seam_figure(out, hole)[2] > 3 * seam_figure(img, hole)[2]


def test_detail_ratio_blur_and_copy():
    truth = _stripes()
    hole = _square()
    assert detail_ratio(truth, truth, hole) == pytest.approx(1.0)
    flat = truth.copy()
    flat[hole] = 100
    assert detail_ratio(flat, truth, hole) == pytest.approx(0.0, abs=1e-6)
    # the seam does not count: only the hole's interior is measured
    shifted = truth.copy()
    shifted[hole] = np.roll(truth, 2, axis=1)[hole]  # same texture, out of phase: a seam, same detail
    assert detail_ratio(shifted, truth, hole) == pytest.approx(1.0, abs=0.01)


def test_hole_and_structure_psnr():
    truth = _stripes()
    hole = _square()
    out = truth.copy()
    out[hole] = np.where(out[hole] > 0, 190, 10)  # every hole value off by 10
    assert hole_psnr(out, truth, hole) == pytest.approx(10 * np.log10(255**2 / 100), abs=1e-6)
    # shifting the stripes' phase costs much hole PSNR but little structure PSNR (the blur averages them)
    shifted = truth.copy()
    shifted[hole] = np.roll(truth, 2, axis=1)[hole]
    assert hole_psnr(shifted, truth, hole) < 10
    assert structure_psnr(shifted, truth, hole) > 30
    # a wrong colour shows in both
    wrong = truth.copy()
    wrong[hole] = 255
    assert structure_psnr(wrong, truth, hole) < 15


# ---------------------------------------------------------------- mask mover


def test_move_mask_never_overlaps_the_other_frames_object():
    hole = np.zeros((40, 60), bool)
    hole[5:15, 10:22] = True
    hole[15:20, 14:18] = True  # an L-ish shape
    forbidden = np.zeros((40, 60), bool)
    forbidden[:, 20:45] = True
    for s in range(30):
        placed, (dy, dx) = move_mask(hole, forbidden, np.random.default_rng(s))
        assert placed.sum() == hole.sum()
        assert not (placed & forbidden).any()
        assert np.array_equal(np.roll(np.roll(hole, dy, 0), dx, 1), placed)  # the same shape, moved


def test_move_mask_deterministic_and_none_when_no_room():
    hole = np.zeros((40, 60), bool)
    hole[5:15, 10:22] = True
    forbidden = np.zeros((40, 60), bool)
    forbidden[20, 30] = True
    a = move_mask(hole, forbidden, np.random.default_rng(3))
    b = move_mask(hole, forbidden, np.random.default_rng(3))
    assert a[1] == b[1] and np.array_equal(a[0], b[0])
    # a wall of object every 8 columns: a 12-wide shape fits nowhere
    wall = np.zeros((40, 60), bool)
    wall[:, ::8] = True
    assert move_mask(hole, wall, np.random.default_rng(0)) is None
    # larger than the frame
    assert move_mask(np.ones((50, 10), bool), np.zeros((40, 60), bool), np.random.default_rng(0)) is None
    # a U as large as the frame: the one position is taken although a forbidden pixel lies in its bounding box
    u = np.ones((10, 12), bool)
    u[:7, 3:9] = False
    gap = np.zeros((10, 12), bool)
    gap[2, 5] = True
    placed, shift = move_mask(u, gap, np.random.default_rng(0))
    assert shift == (0, 0) and np.array_equal(placed, u)
    gap[9, 0] = True  # now one of the U's own pixels
    assert move_mask(u, gap, np.random.default_rng(0)) is None


# ---------------------------------------------------------------- candidates


def seeded_candidate(image, mask, seed=0):
    """A stand-in --extra candidate that reports the seed it was given."""
    out = image.copy()
    out[mask] = seed
    return out


def unseeded_candidate(image, mask):
    return image.copy()


def test_extra_candidates_get_the_runs_seed_like_retouchs_methods():
    # a candidate compared with `auto` must use the same random search seed, or the
    # judges also compare two seeds; one without a seed keyword is called as it is
    from benchmarks.remove_objects import resolve_methods

    fills, _ = resolve_methods(
        ["auto"],
        ["cand=tests.test_bench_remove_objects:seeded_candidate", "plain=tests.test_bench_remove_objects:unseeded_candidate"],
        seed=7,
    )
    img = np.zeros((4, 4, 3), np.uint8)
    mask = np.zeros((4, 4), bool)
    mask[1, 1] = True
    assert fills["cand"](img, mask)[1, 1, 0] == 7
    assert (fills["plain"](img, mask) == 0).all()
    assert set(fills) >= {"auto", "cand", "plain"}
