"""retouch batch: a folder tree in, the same tree out; failures reported; resume; Dask.

Outputs are checked byte for byte against what ``Recipe.apply`` + ``io.write``
give for the same image, so "the right outputs" means exactly that.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from skimage import data
from typer.testing import CliRunner

from retouch import RetouchError, batch, io
from retouch.cli import app
from retouch.pipeline import Recipe

RECIPE_TOML = """\
[inputs]
masks = "masks"

[[refine]]
method = "grow"
pixels = 2

[inpaint]
method = "telea"
"""

GOOD = ["a.png", "sub/b.jpg", "sub/deeper/c.png", "sub/d16.png", "sub/e_rgba.png"]
BAD = ["bad/corrupt.jpg", "bad/wrong.png"]


def _images() -> dict[str, np.ndarray]:
    rgba = np.dstack([data.coffee()[:60, :80], np.full((60, 80), 200, np.uint8)])
    return {
        "a.png": data.astronaut()[:72, :96],
        "sub/b.jpg": data.chelsea()[:64, :80],
        "sub/deeper/c.png": data.camera()[100:164, 100:180],
        "sub/d16.png": data.astronaut()[200:250, 200:260].astype(np.uint16) * 257,
        "sub/e_rgba.png": rgba,
        "bad/wrong.png": data.coffee()[:50, :50],
    }


def _hole(shape: tuple[int, ...]) -> np.ndarray:
    m = np.zeros(shape[:2], bool)
    m[20:30, 25:40] = True
    return m


def make_tree(root: Path) -> Path:
    """in/ (nested, a corrupt file, a wrong-size mask, non-images), masks/, recipe.toml."""
    for rel, img in _images().items():
        (root / "in" / rel).parent.mkdir(parents=True, exist_ok=True)
        io.write(root / "in" / rel, img)
        mask_path = root / "masks" / Path(rel).with_suffix(".png")
        mask_path.parent.mkdir(parents=True, exist_ok=True)
        shape = (10, 10) if rel == "bad/wrong.png" else img.shape
        io.write_mask(mask_path, _hole(shape))
    (root / "in" / "bad" / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"not a jpeg" * 20)
    io.write_mask(root / "masks" / "bad" / "corrupt.png", _hole((64, 64)))
    (root / "in" / "notes.txt").write_text("not an image")
    io.write(root / "in" / ".hidden.png", data.camera()[:8, :8])
    (root / "recipe.toml").write_text(RECIPE_TOML)
    return root


def expected_bytes(root: Path, rel: str, recipe: Recipe, tmp: Path) -> bytes:
    """What the output file must hold: Recipe.apply + io.write on the same input."""
    image, info = io.read_with_info(root / "in" / rel)
    mask = io.read_mask(root / "masks" / Path(rel).with_suffix(".png"), shape=image.shape)
    result = recipe.apply(image, mask=mask)
    target = tmp / hashlib.md5(rel.encode()).hexdigest() / Path(rel).name
    target.parent.mkdir(parents=True)
    io.write(target, result.image, info=info, quality=recipe.output.quality)
    return target.read_bytes()


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def outputs(folder: Path) -> list[str]:
    """Image files under folder (not the report, the journal or the lock)."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".") and p.suffix != ".json")


def part_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*.part")]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "retouch.cli", *args], capture_output=True, text=True, timeout=300)


# ------------------------------------------------------------------------- acceptance: tree, failures, exit code


def test_tree_with_a_corrupt_file_and_a_wrong_size_mask(tmp_path):
    root = make_tree(tmp_path)
    inputs_before = tree_digest(root / "in")
    result = CliRunner().invoke(app, ["batch", str(root / "in"), str(root / "out"), "--recipe", str(root / "recipe.toml"), "--workers", "2"])
    assert result.exit_code == 1, result.output
    assert "failed" in result.output

    assert outputs(root / "out") == sorted(GOOD)  # the tree kept; nothing for the failures or the non-images
    recipe = Recipe.load(root / "recipe.toml")
    for rel in GOOD:
        assert (root / "out" / rel).read_bytes() == expected_bytes(root, rel, recipe, tmp_path / "expected"), rel
    d16, rgba = io.read(root / "out" / "sub/d16.png"), io.read(root / "out" / "sub/e_rgba.png")
    assert d16.dtype == np.uint16 and rgba.shape[2] == 4  # depth and alpha kept

    report = json.loads((root / "out" / "retouch-report.json").read_text())
    assert [f["image"] for f in report["failed"]] == BAD
    errors = {f["image"]: f["error"] for f in report["failed"]}
    assert "is truncated or corrupt" in errors["bad/corrupt.jpg"]
    assert "is 10x10 but the image is 50x50 (width x height); they must be the same size" in errors["bad/wrong.png"]
    assert report["counts"] == {"done": 5, "skipped": 0, "failed": 2}
    assert report["images"] == 7 and report["engine"] == "processes" and report["workers"] == 2
    assert report["images_per_second"] > 0 and report["megapixels_per_second"] > 0
    assert all(v > 0 for v in report["workers_peak_rss_mb"].values())
    assert tree_digest(root / "in") == inputs_before  # inputs untouched
    assert not part_files(root / "out")


def test_rerun_skips_what_is_done_and_retries_failures(tmp_path):
    root = make_tree(tmp_path)
    recipe = Recipe.load(root / "recipe.toml")
    first = batch.run(root / "in", root / "out", recipe, workers=0)
    assert first.counts == {"done": 5, "skipped": 0, "failed": 2} and not first.ok
    mtimes = {rel: (root / "out" / rel).stat().st_mtime_ns for rel in GOOD}
    io.write_mask(root / "masks" / "bad" / "wrong.png", _hole((50, 50)), overwrite=True)  # the user fixes the mask
    second = batch.run(root / "in", root / "out", recipe, workers=0)
    assert second.counts == {"done": 1, "skipped": 5, "failed": 1}
    assert second.skipped == {"already done": 5}
    assert [f["image"] for f in second.failed] == ["bad/corrupt.jpg"]
    assert {rel: (root / "out" / rel).stat().st_mtime_ns for rel in GOOD} == mtimes
    assert (root / "out" / "bad" / "wrong.png").is_file()


# ------------------------------------------------------------------------- acceptance: killed midway, rerun


def _slow_tree(root: Path, n: int = 12) -> None:
    """n photos with a box each in a sidecar; fsr_fast makes each take a noticeable moment."""
    base = data.astronaut()
    rows = ["image,x,y,w,h"]
    for i in range(n):
        rel = f"set{i % 3}/p{i:02d}.png"
        (root / "in" / rel).parent.mkdir(parents=True, exist_ok=True)
        io.write(root / "in" / rel, base[i * 20 : i * 20 + 128, i * 25 : i * 25 + 128])
        rows.append(f"{rel},40,40,40,40")
    (root / "boxes.csv").write_text("\n".join(rows) + "\n")
    (root / "recipe.toml").write_text('[inputs]\nsidecar = "boxes.csv"\nbox_as_mask = true\n[inpaint]\nmethod = "fsr_fast"\n')


_GATE = """
import os, time

if os.environ.get("RETOUCH_TEST_GATE"):
    import retouch.batch.worker as _worker

    _real, _done = _worker.process, [0]

    def process(task):
        if _done[0] >= int(os.environ["RETOUCH_TEST_GATE_AFTER"]):  # hold here until the test says go
            gate = os.environ["RETOUCH_TEST_GATE"]
            open(os.path.join(gate, "held"), "w").close()
            while not os.path.exists(os.path.join(gate, "go")):
                time.sleep(0.02)
        _done[0] += 1
        return _real(task)

    process.__module__, process.__qualname__ = _real.__module__, _real.__qualname__  # pickled by name
    _worker.process = process
    import retouch.batch.runner as _runner  # which imported the name already

    _runner.process = process
"""


def _gated_batch(tmp_path: Path, after: int, **popen) -> tuple[subprocess.Popen, Path]:
    """``retouch batch --workers 1`` whose worker does ``after`` images, then waits (file ``held``) for ``go``.

    A ``sitecustomize`` on the path of the batch and its worker processes
    wraps the worker's ``process``: no timing decides how far the batch got.
    """
    gate = tmp_path / "gate"
    gate.mkdir()
    (gate / "sitecustomize.py").write_text(_GATE)
    env = dict(os.environ, RETOUCH_TEST_GATE=str(gate), RETOUCH_TEST_GATE_AFTER=str(after))
    env["PYTHONPATH"] = os.pathsep.join([str(gate)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "retouch.cli", "batch", str(tmp_path / "in"), str(out), "--recipe", str(tmp_path / "recipe.toml"), "--workers", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, **popen)
    return proc, gate


def _wait_until_held(proc: subprocess.Popen, gate: Path, journal: Path, done: int, timeout: float = 600) -> None:
    """The worker waits at the gate and the coordinator has journalled ``done`` images as done."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if (gate / "held").exists() and journal.exists():
            lines = [json.loads(ln) for ln in journal.read_text().splitlines() if ln.strip()]
            if sum(r.get("status") == "done" for r in lines) >= done:
                return
        if proc.poll() is not None:
            pytest.fail(f"the batch ended before it reached the gate: {proc.stderr.read() if proc.stderr else ''}")
        time.sleep(0.02)
    proc.kill()
    pytest.fail("the batch did not reach the gate in time")


def test_killed_batch_resumes_without_redoing_or_half_written_files(tmp_path):
    n, k = 8, 3
    _slow_tree(tmp_path, n)
    out = tmp_path / "out"
    proc, gate = _gated_batch(tmp_path, after=k)
    _wait_until_held(proc, gate, out / ".retouch-batch.jsonl", k)
    proc.kill()  # SIGKILL: no clean-up code runs in the coordinator
    proc.wait(timeout=30)
    time.sleep(0.5)  # the worker dies with its coordinator; give the kernel a moment
    before = {rel: (out / rel).stat().st_mtime_ns for rel in outputs(out)}
    assert len(before) == k  # exactly the images done before the gate

    rerun = cli("batch", str(tmp_path / "in"), str(out), "--recipe", str(tmp_path / "recipe.toml"), "--workers", "1")
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads((out / "retouch-report.json").read_text())
    assert report["counts"] == {"done": n - k, "skipped": k, "failed": 0}
    assert {rel: (out / rel).stat().st_mtime_ns for rel in before} == before  # none redone
    assert len(outputs(out)) == n
    assert not part_files(out)
    # every output complete and right: the same pixels as the recipe on the input
    recipe = Recipe.load(tmp_path / "recipe.toml")
    for rel in outputs(out):
        expected = recipe.apply(io.read(tmp_path / "in" / rel), inputs={"box": (40, 40, 40, 40)}).image
        np.testing.assert_array_equal(io.read(out / rel), expected)


def test_ctrl_c_stops_cleanly_and_the_rerun_finishes(tmp_path):
    n, k = 8, 2
    _slow_tree(tmp_path, n)
    out = tmp_path / "out"
    # SIGINT as a terminal delivers it: a test run started in the background (nohup make test &)
    # has it ignored, and a child inherits that, so the batch would rightly not stop
    proc, gate = _gated_batch(tmp_path, after=k, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    _wait_until_held(proc, gate, out / ".retouch-batch.jsonl", k)
    proc.send_signal(signal.SIGINT)  # the image at the gate is in progress: it is finished, the rest cancelled
    time.sleep(0.5)
    (gate / "go").touch()
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 130, stderr
    report = json.loads((out / "retouch-report.json").read_text())
    assert report["interrupted"] is True
    # the image at the gate is finished, and those the process pool had already queued for the worker
    # (no longer cancellable: 2 with one worker); the batch hands the pool at most 2 x workers + 2 = 4
    # images at a time, so at least n - k - 4 = 2 never start
    done = report["counts"]["done"]
    assert k + 1 <= done <= k + 4 and report["not_started"] == n - done and report["counts"]["failed"] == 0
    assert len(outputs(out)) == done
    assert not part_files(out)
    rerun = batch.run(tmp_path / "in", out, Recipe.load(tmp_path / "recipe.toml"), workers=0)
    assert rerun.ok and rerun.counts["skipped"] == done
    assert len(outputs(out)) == n


# ------------------------------------------------------------------------- acceptance: Dask LocalCluster


def test_dask_local_cluster_gives_byte_identical_outputs(tmp_path):
    distributed = pytest.importorskip("distributed")
    root = make_tree(tmp_path)
    recipe = Recipe.load(root / "recipe.toml")
    local = batch.run(root / "in", root / "local", recipe, workers=2)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        remote = batch.run(root / "in", root / "dask", recipe, scheduler=cluster.scheduler_address)
    assert remote.engine == "dask" and remote.workers == 2
    assert remote.counts == local.counts == {"done": 5, "skipped": 0, "failed": 2}
    assert remote.failed == local.failed
    assert outputs(root / "dask") == outputs(root / "local") == sorted(GOOD)
    for rel in GOOD:
        assert (root / "dask" / rel).read_bytes() == (root / "local" / rel).read_bytes(), rel
    assert len(remote.workers_peak_rss_mb) == 2 or remote.counts["done"] < 2  # records came from the workers


# ------------------------------------------------------------------------- resume: what counts as done


@pytest.fixture
def done_tree(tmp_path):
    root = make_tree(tmp_path)
    recipe = Recipe.load(root / "recipe.toml")
    batch.run(root / "in", root / "out", recipe, workers=0)
    return root, recipe


def _mtimes(out: Path) -> dict[str, int]:
    return {rel: (out / rel).stat().st_mtime_ns for rel in GOOD}


def test_changed_recipe_redoes_everything(done_tree):
    root, recipe = done_tree
    changed = Recipe.from_dict({**recipe.to_dict(), "inpaint": {"method": "telea", "radius": 5}})
    rep = batch.run(root / "in", root / "out", changed, workers=0)
    assert rep.counts["done"] == 5 and rep.redone == 5
    assert (root / "out" / "a.png").read_bytes() == expected_bytes(root, "a.png", changed, root / "expected")


def test_changed_input_or_mask_redoes_only_that_image(done_tree):
    root, recipe = done_tree
    before = _mtimes(root / "out")
    st = (root / "in" / "a.png").stat()
    os.utime(root / "in" / "a.png", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    io.write_mask(root / "masks" / "sub" / "b.png", _hole((64, 80)) | np.eye(64, 80, dtype=bool), overwrite=True)
    time.sleep(0.01)
    rep = batch.run(root / "in", root / "out", recipe, workers=0)
    assert rep.counts == {"done": 2, "skipped": 3, "failed": 2} and rep.redone == 2
    after = _mtimes(root / "out")
    assert {k for k in GOOD if after[k] != before[k]} == {"a.png", "sub/b.jpg"}
    assert (root / "out" / "sub/b.jpg").read_bytes() == expected_bytes(root, "sub/b.jpg", recipe, root / "expected")


def test_deleted_output_is_redone(done_tree):
    root, recipe = done_tree
    (root / "out" / "sub" / "deeper" / "c.png").unlink()
    rep = batch.run(root / "in", root / "out", recipe, workers=0)
    assert rep.counts["done"] == 1 and (root / "out" / "sub" / "deeper" / "c.png").is_file()


def test_foreign_output_is_left_alone_unless_overwrite(tmp_path):
    root = make_tree(tmp_path)
    recipe = Recipe.load(root / "recipe.toml")
    (root / "out").mkdir()
    io.write(root / "out" / "a.png", np.zeros((4, 4), np.uint8))  # not written by retouch batch
    rep = batch.run(root / "in", root / "out", recipe, workers=0)
    assert rep.skipped == {"output exists and was not written by retouch batch (--overwrite replaces it)": 1}
    assert io.read(root / "out" / "a.png").shape == (4, 4)
    rep = batch.run(root / "in", root / "out", recipe, workers=0, overwrite=True)
    assert rep.counts == {"done": 5, "skipped": 0, "failed": 2}
    assert io.read(root / "out" / "a.png").shape == (72, 96, 3)


def test_stale_temporary_files_are_removed(done_tree):
    root, recipe = done_tree
    stale = [root / "out" / ".a.png.k2j3h4g5.part", root / "out" / "sub" / ".b.jpg.abcdefgh.part"]
    for p in stale:
        p.write_bytes(b"half")
    rep = batch.run(root / "in", root / "out", recipe, workers=0)
    assert rep.cleaned_temp_files == 2 and not part_files(root / "out")
    assert rep.counts["skipped"] == 5


def test_a_journal_line_cut_short_is_ignored(done_tree):
    root, recipe = done_tree
    with open(root / "out" / batch.JOURNAL_NAME, "a") as f:
        f.write('{"key": "a.png", "stat')
    rep = batch.run(root / "in", root / "out", recipe, workers=0)
    assert rep.counts["skipped"] == 5


def test_a_second_batch_on_the_same_output_is_refused(done_tree):
    root, recipe = done_tree
    holder = batch.Journal(str(root / "out" / batch.JOURNAL_NAME))
    holder.lock()
    try:
        with pytest.raises(RetouchError, match=r"^another retouch batch is writing to .*out; wait for it to finish or stop it$"):
            batch.run(root / "in", root / "out", recipe, workers=0)
    finally:
        holder.close()


# ------------------------------------------------------------------------- per-image inputs in a batch


def _box_tree(root: Path, missing: str) -> Recipe:
    for rel in ("a.png", "sub/b.png", "sub/c.png"):
        (root / "in" / rel).parent.mkdir(parents=True, exist_ok=True)
        io.write(root / "in" / rel, data.camera()[:40, :50])
    (root / "boxes.csv").write_text("image,x,y,w,h\na.png,5,5,10,10\nsub/b,20,10,5,5\n")
    return Recipe.from_dict({"inputs": {"sidecar": str(root / "boxes.csv"), "box_as_mask": True, "missing": missing}, "inpaint": "telea"})


def test_sidecar_boxes_hand_checked(tmp_path):
    recipe = _box_tree(tmp_path, "skip")
    rep = batch.run(tmp_path / "in", tmp_path / "out", recipe, workers=0)
    assert rep.counts == {"done": 2, "skipped": 1, "failed": 0}
    assert rep.skipped == {"no per-image input (no entry for it in boxes.csv)": 1}
    src = data.camera()[:40, :50]
    out = io.read(tmp_path / "out" / "sub" / "b.png")
    box = np.zeros(src.shape, bool)
    box[10:15, 20:25] = True
    np.testing.assert_array_equal(out[~box], src[~box])  # only the box is filled
    assert (out[box] != src[box]).any()
    assert not (tmp_path / "out" / "sub" / "c.png").exists()


def test_missing_inputs_copy_fail_and_run(tmp_path):
    recipe = _box_tree(tmp_path, "copy")
    rep = batch.run(tmp_path / "in", tmp_path / "out", recipe, workers=0)
    assert rep.counts == {"done": 3, "skipped": 0, "failed": 0}
    assert (tmp_path / "out" / "sub" / "c.png").read_bytes() == (tmp_path / "in" / "sub" / "c.png").read_bytes()

    failing = Recipe.from_dict({**recipe.to_dict(), "inputs": {**recipe.to_dict()["inputs"], "missing": "fail"}})
    rep = batch.run(tmp_path / "in", tmp_path / "out2", failing, workers=0)
    assert rep.failed == [
        {"image": "sub/c.png", "error": 'sub/c.png: no entry for it in boxes.csv (set [inputs] missing = "skip", "copy" or "run" to go on)'}
    ]

    running = Recipe.from_dict({**recipe.to_dict(), "inputs": {**recipe.to_dict()["inputs"], "missing": "run"}})
    rep = batch.run(tmp_path / "in", tmp_path / "out3", running, workers=0)
    assert [f["image"] for f in rep.failed] == ["sub/c.png"]  # no box and no segmenter: nothing to select
    assert "the recipe has no segment step and no mask was given" in rep.failed[0]["error"]


def test_per_image_setting_from_a_sidecar_column(tmp_path):
    for rel in ("a.png", "b.png"):
        (tmp_path / "in").mkdir(exist_ok=True)
        io.write(tmp_path / "in" / rel, data.camera()[:40, :50])
    (tmp_path / "side.json").write_text(json.dumps({"a": {"box": [10, 10, 4, 4], "grow": 0}, "b": {"box": [10, 10, 4, 4], "grow": 3}}))
    recipe = Recipe.from_dict(
        {
            "inputs": {"sidecar": str(tmp_path / "side.json"), "box_as_mask": True},
            "refine": [{"method": "grow", "pixels": "@grow"}],
            "inpaint": "telea",
        }
    )
    rep = batch.run(tmp_path / "in", tmp_path / "out", recipe, workers=0)
    assert rep.ok
    src = data.camera()[:40, :50]
    changed = [(io.read(tmp_path / "out" / r) != src).sum() for r in ("a.png", "b.png")]
    assert 0 < changed[0] < changed[1]  # b's mask was grown by 3


def test_output_format_and_collisions(tmp_path):
    (tmp_path / "in").mkdir()
    io.write(tmp_path / "in" / "a.jpg", data.chelsea()[:40, :40])
    io.write(tmp_path / "in" / "a.png", data.chelsea()[:40, :40])
    io.write(tmp_path / "in" / "b.JPG", data.chelsea()[:40, :40])
    (tmp_path / "boxes.csv").write_text("image,x,y,w,h\na,5,5,5,5\nb,5,5,5,5\n")
    recipe = Recipe.from_dict({"inputs": {"sidecar": str(tmp_path / "boxes.csv"), "box_as_mask": True}, "inpaint": "telea", "output": {"format": "webp", "quality": 100}})
    rep = batch.run(tmp_path / "in", tmp_path / "out", recipe, workers=0)
    assert outputs(tmp_path / "out") == ["a.webp", "b.webp"]
    assert rep.failed == [{"image": "a.png", "error": 'a.png and a.jpg would both be written to a.webp; use [output] format = "same" or rename one'}]


def test_file_urls_give_the_same_outputs_as_paths(tmp_path):
    root = make_tree(tmp_path)
    recipe = Recipe.load(root / "recipe.toml")
    batch.run(root / "in", root / "out", recipe, workers=0)
    url_recipe = Recipe.from_dict({**recipe.to_dict(), "inputs": {"masks": (root / "masks").as_uri()}})
    rep = batch.run((root / "in").as_uri(), (root / "url").as_uri(), url_recipe, workers=0, state=root / "state.jsonl")
    assert rep.counts == {"done": 5, "skipped": 0, "failed": 2}
    assert tree_digest(root / "url").keys() - {"retouch-report.json"} == set(GOOD)
    for rel in GOOD:
        assert (root / "url" / rel).read_bytes() == (root / "out" / rel).read_bytes()
    assert "file://" in rep.failed[0]["error"]  # messages name the URL, not a temporary copy
    again = batch.run((root / "in").as_uri(), (root / "url").as_uri(), url_recipe, workers=0, state=root / "state.jsonl")
    assert again.counts["skipped"] == 5


def test_output_inside_the_input_is_not_walked(tmp_path):
    recipe = _box_tree(tmp_path, "skip")
    first = batch.run(tmp_path / "in", tmp_path / "in" / "cleaned", recipe, workers=0)
    second = batch.run(tmp_path / "in", tmp_path / "in" / "cleaned", recipe, workers=0)
    assert first.total == second.total == 3


# ------------------------------------------------------------------------- bad input: one line each


def test_bad_batch_arguments(tmp_path):
    recipe = _box_tree(tmp_path, "skip")
    with pytest.raises(RetouchError, match=r"^the input folder .*nope does not exist; check the path$"):
        batch.run(tmp_path / "nope", tmp_path / "out", recipe, workers=0)
    with pytest.raises(RetouchError, match=r"^the output folder is the input folder; the originals would be replaced"):
        batch.run(tmp_path / "in", tmp_path / "in", recipe, workers=0)
    (tmp_path / "empty").mkdir()
    with pytest.raises(RetouchError, match=r"^no images found under .*empty \(looked for \.bmp, \.jpe, \.jpeg"):
        batch.run(tmp_path / "empty", tmp_path / "out", recipe, workers=0)
    needs = Recipe.from_dict({"refine": [{"method": "grow", "pixels": "@grow"}], "inpaint": "telea"})
    with pytest.raises(RetouchError, match=r"^the recipe takes @grow per image \(refine\[0\]\.pixels\); say where from: \[inputs\] sidecar"):
        batch.run(tmp_path / "in", tmp_path / "out", needs, workers=0)
    no_side = Recipe.from_dict({"inputs": {"box_as_mask": True}, "inpaint": "telea"})
    with pytest.raises(RetouchError, match=r"^\[inputs\] box_as_mask needs a sidecar file with a box per image"):
        batch.run(tmp_path / "in", tmp_path / "out", no_side, workers=0)
    no_masks = Recipe.from_dict({"inputs": {"masks": str(tmp_path / "nomasks")}, "inpaint": "telea"})
    with pytest.raises(RetouchError, match=r"^the mask folder .*nomasks does not exist; check \[inputs\] masks or --masks$"):
        batch.run(tmp_path / "in", tmp_path / "out", no_masks, workers=0)


def test_cli_errors_are_one_line(tmp_path):
    recipe = _box_tree(tmp_path, "skip")
    (tmp_path / "r.json").write_text(recipe.to_json())
    runner = CliRunner()
    r = runner.invoke(app, ["batch", str(tmp_path / "in"), str(tmp_path / "out"), "--recipe", str(tmp_path / "r.json"), "--workers", "1", "--scheduler", "tcp://x:1"])
    assert r.exit_code == 1 and "give either --workers (local processes) or --scheduler (a Dask cluster), not both" in r.output
    r = runner.invoke(app, ["batch", str(tmp_path / "in"), str(tmp_path / "out"), "--recipe", str(tmp_path / "missing.toml")])
    assert r.exit_code == 1 and "does not exist; check the path" in r.output
    (tmp_path / "bad.toml").write_text('[inpaint]\nmethod = "magic"\n')
    r = runner.invoke(app, ["recipe", "--check", str(tmp_path / "bad.toml")])
    assert r.exit_code == 1 and "unknown inpaint method 'magic'; known: " in r.output and "telea" in r.output


def test_cli_dry_run_writes_nothing(tmp_path):
    recipe = _box_tree(tmp_path, "skip")
    (tmp_path / "r.json").write_text(recipe.to_json())
    r = CliRunner().invoke(app, ["batch", str(tmp_path / "in"), str(tmp_path / "out"), "--recipe", str(tmp_path / "r.json"), "--dry-run"])
    assert r.exit_code == 0, r.output
    assert "3 images: 2 to do (0 redone), 1 skipped, 0 would fail" in r.output
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------- retouch recipe


def test_recipe_example_prints_a_recipe_that_runs(tmp_path):
    r = CliRunner().invoke(app, ["recipe", "--example"])
    assert r.exit_code == 0
    assert r.output.startswith("# A retouch recipe")
    (tmp_path / "recipe.toml").write_text(r.output)
    (tmp_path / "in").mkdir()
    io.write(tmp_path / "in" / "logo.png", data.astronaut()[:64, :64])
    io.write(tmp_path / "in" / "other.png", data.astronaut()[64:128, :64])
    (tmp_path / "boxes.csv").write_text("image,x,y,w,h\nlogo.png,10,10,12,8\n")  # beside the recipe, as it says
    check = CliRunner().invoke(app, ["recipe", "--check", str(tmp_path / "recipe.toml")])
    assert check.exit_code == 0 and '"box_as_mask": true' in check.output
    r = CliRunner().invoke(app, ["batch", str(tmp_path / "in"), str(tmp_path / "out"), "--recipe", str(tmp_path / "recipe.toml"), "--workers", "0"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "out" / "other.png").read_bytes() == (tmp_path / "in" / "other.png").read_bytes()  # missing = "copy"
    assert (io.read(tmp_path / "out" / "logo.png") != data.astronaut()[:64, :64]).any()


def test_recipe_command_needs_one_option():
    r = CliRunner().invoke(app, ["recipe"])
    assert r.exit_code == 1 and "give --example or --check FILE" in r.output


def test_a_lost_worker_s_images_are_retried(tmp_path):
    root = make_tree(tmp_path)
    killed: list[int] = []

    def kill_first_worker(rec):
        if not killed and rec.get("pid") not in (None, os.getpid()):
            killed.append(rec["pid"])
            os.kill(rec["pid"], signal.SIGKILL)

    rep = batch.run(root / "in", root / "out", Recipe.load(root / "recipe.toml"), workers=1, on_record=kill_first_worker)
    assert killed
    assert rep.counts == {"done": 5, "skipped": 0, "failed": 2}
    assert outputs(root / "out") == sorted(GOOD) and not part_files(root / "out")


def test_a_pool_that_breaks_between_submits_loses_no_image(tmp_path, monkeypatch):
    """A worker can die while the runner is handing out the next images: submit() then raises
    BrokenProcessPool. Those images never started; they go to the next pool like the rest (this
    happened under load: the whole batch stopped with a traceback)."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from retouch.batch import runner

    calls = {"pools": 0, "submits": 0}

    class BreaksOnce(ProcessPoolExecutor):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            calls["pools"] += 1
            self._first = calls["pools"] == 1

        def submit(self, fn, /, *args, **kwargs):
            calls["submits"] += 1
            if self._first and calls["submits"] == 3:
                raise BrokenProcessPool("a child process terminated abruptly")
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(runner, "ProcessPoolExecutor", BreaksOnce)
    root = make_tree(tmp_path)
    rep = batch.run(root / "in", root / "out", Recipe.load(root / "recipe.toml"), workers=1)
    assert calls["pools"] == 2
    assert rep.counts == {"done": 5, "skipped": 0, "failed": 2}
    assert outputs(root / "out") == sorted(GOOD) and not part_files(root / "out")


def test_a_mistake_leaves_no_output_folder(tmp_path):
    needs = Recipe.from_dict({"refine": [{"method": "grow", "pixels": "@grow"}], "inpaint": "telea"})
    make_tree(tmp_path)
    with pytest.raises(RetouchError, match="say where from"):
        batch.run(tmp_path / "in", tmp_path / "out", needs, workers=0)
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------- unwritable output (issue 21)


def _flat_tree(root: Path, n: int = 4) -> Recipe:
    """n small photos side by side (no sub-folders) with a box each."""
    base = data.astronaut()
    rows = ["image,x,y,w,h"]
    (root / "in").mkdir()
    for i in range(n):
        io.write(root / "in" / f"p{i}.png", base[i * 30 : i * 30 + 64, i * 30 : i * 30 + 64])
        rows.append(f"p{i}.png,20,20,10,10")
    (root / "boxes.csv").write_text("\n".join(rows) + "\n")
    (root / "recipe.toml").write_text('[inputs]\nsidecar = "boxes.csv"\nbox_as_mask = true\n[inpaint]\nmethod = "telea"\n')
    return Recipe.load(root / "recipe.toml")


@pytest.mark.parametrize("where", ["the folder", "its parent"])
def test_read_only_output_refused_in_one_line_before_any_work(tmp_path, read_only_folder, where):
    _flat_tree(tmp_path)
    ro = read_only_folder(tmp_path / "ro")
    out = ro if where == "the folder" else ro / "new"
    r = CliRunner().invoke(app, ["batch", str(tmp_path / "in"), str(out), "--recipe", str(tmp_path / "recipe.toml"), "--workers", "0"])
    assert r.exit_code == 1, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: cannot write to the output folder {out}: {ro} does not take new files"), r.stderr
    assert "Traceback" not in r.stderr and os.listdir(ro) == []


def test_output_read_only_midway_ends_with_a_summary_not_a_traceback(tmp_path, read_only_folder):
    recipe = _flat_tree(tmp_path, 4)
    out = tmp_path / "out"
    seen = []

    def after_the_first(rec):
        seen.append(rec["key"])
        if len(seen) == 1:
            read_only_folder(out)

    rep = batch.run(tmp_path / "in", out, recipe, workers=0, on_record=after_the_first)
    assert rep.counts == {"done": 1, "skipped": 0, "failed": 3}
    assert all("does not take new files" in f["error"] and "\n" not in f["error"] for f in rep.failed)
    assert rep.report_path is None and not rep.ok
    assert rep.report_error.startswith(f"could not write the report {out / 'retouch-report.json'} (")
    assert not (out / "retouch-report.json").exists()
    from rich.console import Console

    console = Console(record=True, width=200)
    console.print(batch.summary(rep))
    text = console.export_text()
    assert "could not write the report" in text and "done" in text
    journal = [json.loads(ln) for ln in (out / ".retouch-batch.jsonl").read_text().splitlines()]
    assert sorted(r["status"] for r in journal if r["status"] != "started") == ["done", "failed", "failed", "failed"]
