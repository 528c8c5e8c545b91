"""Run one recipe over a folder of images: a local process pool, or a Dask cluster.

:func:`run` walks ``INPUT`` recursively and writes each result under
``OUTPUT`` at the same relative path (the extension follows the recipe's
``[output] format``). Each image is read, processed and written by a worker,
which sends back a small record (status, seconds, megapixels, error line);
pixels never travel through the coordinator, so the same tasks run on a
process pool over the local cores or, with ``scheduler="tcp://HOST:8786"``,
on a Dask distributed cluster whose workers reach the files (shared storage,
or an fsspec URL such as ``s3://bucket/photos``).

Resume
------
Every output is written atomically (a hidden temporary file renamed into
place), so an output that exists is complete. The coordinator keeps a journal,
``OUTPUT/.retouch-batch.jsonl``: before an image is handed to a worker it
records ``started`` with the image's *fingerprint* (a hash of the recipe, the
input's size and modification time, its mask file's and its sidecar values),
and ``done`` / ``failed`` when the record comes back. A rerun then

- skips an image whose output exists and whose journal entry has the same
  fingerprint (also a ``started`` one: the output can only have come from
  that task, since stale outputs are deleted before their task starts);
- redoes an image whose fingerprint changed (the recipe or the input
  changed), whose output is missing, or that failed;
- leaves alone an output that exists with no journal entry (a file that
  retouch did not write), and counts it as skipped; ``overwrite=True``
  redoes everything;
- deletes the hidden temporary files a killed run left behind.

A killed coordinator takes its pool workers along (Linux), and a failing
image (corrupt file, mask of the wrong size) becomes a ``failed`` record while
the batch goes on.

>>> import tempfile, os, numpy as np
>>> from skimage import data
>>> from retouch import io, batch
>>> from retouch.pipeline import Recipe
>>> root = tempfile.mkdtemp(); os.makedirs(os.path.join(root, "in"))
>>> for name in ("a", "b"):
...     _ = io.write(os.path.join(root, "in", name + ".png"), data.camera()[:64, :64])
>>> recipe = Recipe.from_dict({"inputs": {"sidecar": os.path.join(root, "boxes.csv"), "box_as_mask": True}, "inpaint": "telea"})
>>> _ = open(os.path.join(root, "boxes.csv"), "w").write("image,x,y,w,h\\na.png,10,10,8,8\\nb.png,20,20,8,8\\n")
>>> report = batch.run(os.path.join(root, "in"), os.path.join(root, "out"), recipe, workers=0)
>>> report.counts
{'done': 2, 'skipped': 0, 'failed': 0}
>>> batch.run(os.path.join(root, "in"), os.path.join(root, "out"), recipe, workers=0).counts
{'done': 0, 'skipped': 2, 'failed': 0}
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any

from . import _batch_fs as bfs
from . import io
from ._batch_inputs import MaskIndex, Sidecar
from ._batch_worker import init_pool_worker, peak_rss_mb, process, process_many
from ._validate import RetouchError
from .pipeline import Recipe

__all__ = ["run", "plan", "default_state", "summary", "BatchReport", "Task", "Plan", "Journal", "JOURNAL_NAME", "REPORT_NAME"]

JOURNAL_NAME = ".retouch-batch.jsonl"
"""The resume journal, in the output folder."""
LOCK_NAME = ".retouch-batch.lock"
REPORT_NAME = "retouch-report.json"
"""The report :func:`run` writes into the output folder (unless told otherwise)."""

_THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


# ---------------------------------------------------------------------------- planning


@dataclass(slots=True)
class Task:
    """One image to process."""

    key: str
    """The input's path relative to INPUT (forward slashes)."""
    input: str
    output: str
    out_rel: str
    """The output's path relative to OUTPUT."""
    mask: str | None
    values: dict[str, Any] | None
    action: str
    """``run`` the recipe, or ``copy`` the image unchanged."""
    fingerprint: str
    redo: bool = False
    """An older output is there and will be replaced."""

    def payload(self, recipe_json: str, max_pixels: int | None) -> dict[str, Any]:
        """What a worker gets: strings and small values only."""
        return {
            "key": self.key,
            "input": self.input,
            "output": self.output,
            "mask": self.mask,
            "values": self.values,
            "action": self.action,
            "recipe": recipe_json,
            "max_pixels": max_pixels,
        }


@dataclass
class Plan:
    """What a batch will do: tasks to run, and records of images it will not run."""

    input: str
    output: str
    tasks: list[Task]
    skipped: list[dict[str, Any]]
    failed: list[dict[str, Any]]
    total: int


def _fingerprint(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _inside(child: str, parent: str) -> bool:
    if bfs.is_url(child) != bfs.is_url(parent):
        return False
    if bfs.is_url(child):
        return child.rstrip("/").startswith(parent.rstrip("/") + "/")
    try:
        Path(child).resolve().relative_to(Path(parent).resolve())
        return True
    except ValueError:
        return False


def _same(a: str, b: str) -> bool:
    if bfs.is_url(a) or bfs.is_url(b):
        return a.rstrip("/") == b.rstrip("/")
    return Path(a).resolve() == Path(b).resolve()


def plan(
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    recipe: Recipe,
    *,
    overwrite: bool = False,
    journal: dict[str, dict[str, Any]] | None = None,
) -> Plan:
    """Walk ``input`` and decide, per image, whether to run, copy, skip or fail it.

    Nothing is written. ``journal`` is the resume journal's latest entry per
    image (see the module notes); without it every existing output counts as
    not written by retouch and is skipped.
    """
    src, dst = bfs.absolute(os.fspath(input)), bfs.absolute(os.fspath(output))
    if not bfs.is_url(src) and not Path(src).is_dir():
        what = "is a file, not a folder" if Path(src).exists() else "does not exist; check the path"
        raise RetouchError(f"the input folder {input} {what}")
    if _same(src, dst):
        raise RetouchError("the output folder is the input folder; the originals would be replaced: choose another output folder")
    opts = recipe.inputs
    needs = recipe.needs
    sidecar = Sidecar.load(bfs.absolute(opts.sidecar)) if opts is not None and opts.sidecar else None
    if needs and sidecar is None:
        name = next(iter(needs))
        raise RetouchError(
            f"the recipe takes @{name} per image ({', '.join(needs[name])}); "
            f"say where from: [inputs] sidecar = \"FILE.csv\" in the recipe, or --sidecar FILE"
        )
    if opts is not None and opts.box_as_mask and sidecar is None:
        raise RetouchError("[inputs] box_as_mask needs a sidecar file with a box per image: add sidecar = \"boxes.csv\" or --sidecar FILE")
    masks_root = bfs.absolute(opts.masks) if opts is not None and opts.masks else None
    if masks_root is not None and not bfs.is_url(masks_root) and not Path(masks_root).is_dir():
        raise RetouchError(f"the mask folder {opts.masks} does not exist; check [inputs] masks or --masks")  # type: ignore[union-attr]
    masks = MaskIndex(masks_root) if masks_root is not None else None
    missing = opts.missing if opts is not None else "fail"
    recipe_fp = recipe.fingerprint()
    journal = journal or {}

    exclude = [dst] + ([masks_root] if masks_root else [])
    entries = list(bfs.walk(src, exclude=[e for e in exclude if _inside(e, src)]))
    # one listing of the output tree instead of a check per image (a million HEAD requests on S3)
    existing = {e.rel for e in bfs.walk(dst)} if bfs.is_url(dst) or Path(dst).is_dir() else set()
    if not entries:
        raise RetouchError(f"no images found under {input} (looked for {', '.join(sorted(bfs.IMAGE_SUFFIXES))})")

    tasks: list[Task] = []
    skipped: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    claimed: dict[str, str] = {}
    for e in entries:
        out_rel = str(PurePosixPath(e.rel).with_suffix(recipe.output.suffix(PurePosixPath(e.rel).suffix)))
        if out_rel in claimed:
            failed.append(_record(e.rel, "failed", f"{e.rel} and {claimed[out_rel]} would both be written to {out_rel}; use [output] format = \"same\" or rename one"))
            continue
        claimed[out_rel] = e.rel
        out_loc = bfs.join(dst, out_rel)
        mask_entry = values = None
        absent: list[str] = []
        try:
            if masks is not None:
                mask_entry = masks.lookup(e.rel)
                if mask_entry is None:
                    absent.append(f"no mask for it in {opts.masks}")  # type: ignore[union-attr]
            if sidecar is not None:
                values = sidecar.lookup(e.rel)
                if values is None:
                    absent.append(f"no entry for it in {Path(sidecar.source).name}")
                else:
                    lacking = [n for n in needs if n not in values] + (["box"] if opts.box_as_mask and "box" not in values else [])  # type: ignore[union-attr]
                    if lacking:
                        absent.append(f"its entry in {Path(sidecar.source).name} has no {lacking[0]}")
        except RetouchError as err:
            failed.append(_record(e.rel, "failed", str(err)))
            continue
        action = "run"
        if absent:
            if missing == "fail":
                failed.append(_record(e.rel, "failed", f"{e.rel}: " + " and ".join(absent) + " (set [inputs] missing = \"skip\", \"copy\" or \"run\" to go on)"))
                continue
            if missing == "skip":
                skipped.append(_record(e.rel, "skipped", "no per-image input (" + "; ".join(absent) + ")"))
                continue
            if missing == "copy":
                action = "copy"
        if action == "run" and needs and (values is None or any(n not in values for n in needs)):
            failed.append(_record(e.rel, "failed", f"{e.rel}: the recipe takes @{next(iter(needs))} and this image has none"))
            continue
        fp = _fingerprint(
            recipe_fp,
            out_rel,
            action,
            [e.size, e.stamp],
            [mask_entry.size, mask_entry.stamp] if mask_entry else None,
            values,
        )
        prior = journal.get(e.rel)
        exists = out_rel in existing
        redo = False
        if exists and not overwrite:
            if prior is None or prior.get("output") != out_rel:
                skipped.append(_record(e.rel, "skipped", "output exists and was not written by retouch batch (--overwrite replaces it)"))
                continue
            if prior.get("fingerprint") == fp and prior.get("status") in ("started", "done"):
                skipped.append(_record(e.rel, "skipped", "already done"))
                continue
            redo = True
        elif exists:
            redo = True
        tasks.append(
            Task(e.rel, e.location, out_loc, out_rel, mask_entry.location if mask_entry else None, values, action, fp, redo)
        )
    return Plan(src, dst, tasks, skipped, failed, len(entries))


def _record(key: str, status: str, reason: str | None = None) -> dict[str, Any]:
    rec: dict[str, Any] = {"key": key, "status": status}
    if status == "failed":
        rec["error"] = reason
    elif reason:
        rec["reason"] = reason
    return rec


# ---------------------------------------------------------------------------- journal


class Journal:
    """The resume journal: one JSON line per event, the latest per image wins.

    Local outputs keep it in the output folder; for a URL output it lives in
    the local ``state`` path (default: the current folder).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._file: Any = None
        self._lock: Any = None

    def load(self) -> dict[str, dict[str, Any]]:
        latest: dict[str, dict[str, Any]] = {}
        try:
            with open(self.path, encoding="utf-8") as f:
                for line in f:
                    try:
                        rec = json.loads(line)
                    except ValueError:  # a line cut short by a kill
                        continue
                    if isinstance(rec, dict) and "key" in rec:
                        latest[rec["key"]] = rec
        except FileNotFoundError:
            pass
        return latest

    def lock(self) -> None:
        """Refuse a second batch writing into the same output folder at the same time."""
        folder = os.path.dirname(self.path) or "."
        os.makedirs(folder, exist_ok=True)
        self._lock = open(os.path.join(folder, LOCK_NAME if self.path.endswith(JOURNAL_NAME) else os.path.basename(self.path) + ".lock"), "w")
        try:
            import fcntl

            fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # pragma: no cover - not POSIX
            pass
        except OSError:
            self._lock.close()
            self._lock = None
            raise RetouchError(f"another retouch batch is writing to {folder}; wait for it to finish or stop it") from None

    def open(self, latest: dict[str, dict[str, Any]]) -> None:
        """Rewrite the journal compacted (one line per image), then append to it."""
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            for rec in latest.values():
                f.write(json.dumps(rec, separators=(",", ":")) + "\n")
        os.replace(tmp, self.path)
        self._file = open(self.path, "a", encoding="utf-8")

    def write(self, records: list[dict[str, Any]]) -> None:
        if self._file is None or not records:
            return
        self._file.write("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records))
        self._file.flush()  # in the kernel before the task can start: survives a killed coordinator

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None


# ---------------------------------------------------------------------------- report


@dataclass
class BatchReport:
    """What a batch did; :meth:`to_json` is the report file."""

    input: str
    output: str
    recipe: dict[str, Any]
    recipe_fingerprint: str
    engine: str
    workers: int
    started: str
    seconds: float = 0.0
    total: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {"done": 0, "skipped": 0, "failed": 0})
    redone: int = 0
    megapixels: float = 0.0
    failed: list[dict[str, str]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    workers_peak_rss_mb: dict[str, float] = field(default_factory=dict)
    worker_seconds: float = 0.0
    worker_cpu_seconds: float = 0.0
    workers_cpu_seconds: dict[str, float] = field(default_factory=dict)
    interrupted: bool = False
    not_started: int = 0
    cleaned_temp_files: int = 0
    report_path: str | None = None

    @property
    def images_per_second(self) -> float:
        return self.counts["done"] / self.seconds if self.seconds > 0 else 0.0

    @property
    def megapixels_per_second(self) -> float:
        return self.megapixels / self.seconds if self.seconds > 0 else 0.0

    @property
    def ok(self) -> bool:
        """No image failed and the batch was not interrupted."""
        return not self.failed and not self.interrupted

    def add(self, rec: dict[str, Any]) -> None:
        status = rec["status"]
        self.counts[status] = self.counts.get(status, 0) + 1
        if status == "failed":
            self.failed.append({"image": rec["key"], "error": rec.get("error") or "failed"})
        elif status == "skipped":
            reason = rec.get("reason", "skipped")
            self.skipped[reason] = self.skipped.get(reason, 0) + 1
        if status == "done":
            self.megapixels += rec.get("megapixels") or 0.0
        self.worker_seconds += rec.get("seconds") or 0.0
        self.worker_cpu_seconds += rec.get("cpu_seconds") or 0.0
        if rec.get("pid") is not None:
            pid = str(rec["pid"])
            self.workers_peak_rss_mb[pid] = max(self.workers_peak_rss_mb.get(pid, 0.0), round(rec.get("peak_rss_mb") or 0.0, 1))
            self.workers_cpu_seconds[pid] = max(self.workers_cpu_seconds.get(pid, 0.0), round(rec.get("process_cpu_seconds") or 0.0, 3))

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "output": self.output,
            "engine": self.engine,
            "workers": self.workers,
            "started": self.started,
            "seconds": round(self.seconds, 3),
            "images": self.total,
            "counts": dict(self.counts),
            "redone": self.redone,
            "interrupted": self.interrupted,
            "not_started": self.not_started,
            "images_per_second": round(self.images_per_second, 3),
            "megapixels_per_second": round(self.megapixels_per_second, 3),
            "megapixels": round(self.megapixels, 3),
            "worker_seconds": round(self.worker_seconds, 3),
            "worker_cpu_seconds": round(self.worker_cpu_seconds, 3),
            "workers_peak_rss_mb": self.workers_peak_rss_mb,
            "cleaned_temp_files": self.cleaned_temp_files,
            "failed": sorted(self.failed, key=lambda r: r["image"]),
            "skipped": self.skipped,
            "recipe_fingerprint": self.recipe_fingerprint,
            "recipe": self.recipe,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def summary(report: BatchReport, *, max_failures: int = 20) -> Any:
    """A rich renderable: counts, rates and the failures with their reasons."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(title="retouch batch", show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    c = report.counts
    table.add_row("done", f"[green]{c['done']}[/]" + (f" ({report.redone} redone: recipe or input changed)" if report.redone else ""))
    skip_text = f"{c['skipped']}"
    if report.skipped:
        skip_text += " (" + "; ".join(f"{n} {reason}" for reason, n in report.skipped.items()) + ")"
    table.add_row("skipped", Text(skip_text))
    table.add_row("failed", f"[red]{c['failed']}[/]" if c["failed"] else "0")
    if report.interrupted:
        table.add_row("interrupted", f"[yellow]{report.not_started} not started[/]: run the same command again to finish")
    table.add_row(
        "speed",
        f"{report.images_per_second:.2f} images/s, {report.megapixels_per_second:.2f} MP/s "
        f"over {report.seconds:.1f} s ({report.engine}, {report.workers} worker{'s' if report.workers != 1 else ''})",
    )
    if report.workers_peak_rss_mb:
        table.add_row("peak memory", f"{max(report.workers_peak_rss_mb.values()):.0f} MiB per worker (largest)")
    if report.report_path:
        table.add_row("report", Text(report.report_path))
    parts: list[Any] = [table]
    if report.failed:
        fails = Table(title="failed", show_header=True, header_style="bold red", box=None)
        fails.add_column("image", no_wrap=True)
        fails.add_column("why")
        for r in sorted(report.failed, key=lambda r: r["image"])[:max_failures]:
            fails.add_row(Text(r["image"]), Text(r["error"]))
        parts.append(fails)
        if len(report.failed) > max_failures:
            parts.append(Text(f"… and {len(report.failed) - max_failures} more in the report"))
    return Group(*parts)


# ---------------------------------------------------------------------------- running


@contextlib.contextmanager
def _thread_env(threads: int) -> Iterator[None]:
    """Worker processes inherit one thread per core they get (no oversubscription)."""
    old = {k: os.environ.get(k) for k in _THREAD_ENV}
    for k in _THREAD_ENV:
        os.environ[k] = str(threads)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops a batch like Ctrl+C: pending images are cancelled, the report is written."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


class _Progress:
    """A rich progress bar with rate and time left (or nothing without a console)."""

    def __init__(self, console: Any, total: int, already: int) -> None:
        self.bar = None
        self.mp = 0.0
        if console is None:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            ProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.text import Text

        outer = self

        class Rate(ProgressColumn):
            def render(self, task: Any) -> Text:
                speed = task.finished_speed or task.speed
                elapsed = task.elapsed or 0.0
                mps = outer.mp / elapsed if elapsed > 0 else 0.0
                text = f"{speed:.1f} img/s {mps:.1f} MP/s" if speed else "– img/s"
                return Text(text, style="progress.data.speed")

        self.bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]}"),
            Rate(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        desc = "batch" + (f" ({already} done before)" if already else "")
        self.task = self.bar.add_task(desc, total=total, failed="")
        self.failed = 0
        self.bar.start()

    def advance(self, rec: dict[str, Any]) -> None:
        if self.bar is None:
            return
        self.mp += rec.get("megapixels") or 0.0
        if rec["status"] == "failed":
            self.failed += 1
        self.bar.update(self.task, advance=1, failed=f"[red]{self.failed} failed[/]" if self.failed else "")

    def note(self, text: str) -> None:
        if self.bar is not None:
            self.bar.console.print(text)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def default_state(output: str | os.PathLike[str]) -> str:
    """Where the resume journal of a batch into ``output`` lives by default.

    ``OUTPUT/.retouch-batch.jsonl`` for a local folder; for a URL (an object
    store cannot append) a local file in the current folder named after it.
    """
    dst = bfs.absolute(os.fspath(output))
    if not bfs.is_url(dst):
        return os.path.join(dst, JOURNAL_NAME)
    return os.path.abspath(f".retouch-batch-{hashlib.sha256(dst.encode()).hexdigest()[:8]}.jsonl")


def run(
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    recipe: Recipe,
    *,
    workers: int | None = None,
    scheduler: Any = None,
    overwrite: bool = False,
    report: str | os.PathLike[str] | None = None,
    state: str | os.PathLike[str] | None = None,
    max_pixels: int | None = io.DEFAULT_MAX_PIXELS,
    console: Any = None,
    on_record: Callable[[dict[str, Any]], None] | None = None,
) -> BatchReport:
    """Process every image under ``input`` with ``recipe``, writing under ``output``.

    Parameters
    ----------
    input, output : str or path-like
        Folders (or fsspec URLs). The tree under ``input`` is kept; outputs
        take the recipe's ``[output] format``.
    recipe : Recipe
        The recipe; its ``[inputs]`` give per-image masks and sidecar values.
    workers : int, optional
        Local worker processes (default: one per core); 0 runs in this
        process, one image after another. Ignored with ``scheduler``.
    scheduler : str or distributed.Client, optional
        A Dask scheduler address (``tcp://HOST:8786``) or a Client: run the
        tasks on that cluster instead. Its workers read and write the files.
    overwrite : bool
        Redo every image, replacing existing outputs.
    report : str or path-like, optional
        Where to write the JSON report (default ``OUTPUT/retouch-report.json``).
    state : str or path-like, optional
        The resume journal (default ``OUTPUT/.retouch-batch.jsonl``; for a
        URL output, a file in the current folder).
    max_pixels : int or None
        Refuse images with more pixels than this.
    console : rich.console.Console, optional
        Show a progress bar (rate, time left) on this console.
    on_record : callable, optional
        Called with each image's record as it comes back (status, seconds,
        megapixels, error).

    Returns
    -------
    BatchReport
        Counts, rates, failures with reasons; ``report.ok`` is False when an
        image failed or the batch was interrupted (Ctrl+C, SIGTERM).
    """
    dst = bfs.absolute(os.fspath(output))
    if state is None:
        state = default_state(dst)
    if not bfs.is_url(os.fspath(input)) and not Path(input).is_dir():
        plan(input, output, recipe)  # raises the one-line message
    if not bfs.is_url(dst) and Path(dst).exists() and not Path(dst).is_dir():
        raise RetouchError(f"the output {output} is a file; give a folder")
    journal = Journal(os.fspath(state))
    made = not bfs.is_url(dst) and not Path(dst).exists()
    journal.lock()
    try:
        return _run_locked(input, output, recipe, journal, workers, scheduler, overwrite, report, max_pixels, console, on_record)
    except RetouchError:
        if made:  # a mistake found before any work: leave no empty output folder behind
            journal.close()
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(dst, LOCK_NAME))
                os.rmdir(dst)
        raise
    finally:
        journal.close()


def _run_locked(
    input: Any,
    output: Any,
    recipe: Recipe,
    journal: Journal,
    workers: int | None,
    scheduler: Any,
    overwrite: bool,
    report_path: Any,
    max_pixels: int | None,
    console: Any,
    on_record: Callable[[dict[str, Any]], None] | None,
) -> BatchReport:
    t0 = time.perf_counter()
    latest = journal.load()
    p = plan(input, output, recipe, overwrite=overwrite, journal=latest)
    cleaned = bfs.clean_parts(p.output)
    bfs.makedirs(p.output)
    journal.open(latest)

    if scheduler is not None:
        engine = "dask"
        nworkers = 0
    elif workers == 0:
        engine, nworkers = "in-process", 1
    else:
        engine, nworkers = "processes", max(1, workers or os.cpu_count() or 1)
    rep = BatchReport(
        input=p.input,
        output=p.output,
        recipe=recipe.to_dict(),
        recipe_fingerprint=recipe.fingerprint(),
        engine=engine,
        workers=nworkers,
        started=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        total=p.total,
        cleaned_temp_files=len(cleaned),
    )
    for rec in p.skipped + p.failed:
        rep.add(rec)
    rep.redone = sum(t.redo for t in p.tasks)
    recipe_json = recipe.to_json()
    bar = _Progress(console, len(p.tasks), sum(1 for r in p.skipped if r.get("reason") == "already done"))
    if cleaned:
        bar.note(f"removed {len(cleaned)} half-written file{'s' if len(cleaned) != 1 else ''} left by an earlier run")
    by_key = {t.key: t for t in p.tasks}
    finished = 0

    def begin(batch: list[Task]) -> None:
        for t in batch:
            if t.redo:
                bfs.remove(t.output)  # so an output that exists always belongs to its journal entry
        journal.write([{"key": t.key, "status": "started", "fingerprint": t.fingerprint, "output": t.out_rel} for t in batch])

    def finish(rec: dict[str, Any]) -> None:
        nonlocal finished
        finished += 1
        t = by_key[rec["key"]]
        entry = {"key": t.key, "status": rec["status"], "fingerprint": t.fingerprint, "output": t.out_rel}
        if rec.get("error"):
            entry["error"] = rec["error"]
        journal.write([entry])
        rep.add(rec)
        bar.advance(rec)
        if on_record is not None:
            on_record(rec)

    payloads = (t.payload(recipe_json, max_pixels) for t in p.tasks)
    try:
        with _sigterm_as_interrupt():
            if engine == "dask":
                rep.workers = _run_dask(scheduler, p.tasks, payloads, begin, finish, bar)
            elif engine == "in-process":
                _run_inline(p.tasks, payloads, begin, finish)
            else:
                _run_pool(nworkers, p.tasks, payloads, begin, finish, bar)
    except _Interrupted:
        rep.interrupted = True
    finally:
        bar.stop()
        rep.not_started = len(p.tasks) - finished
        rep.failed.sort(key=lambda r: r["image"])
        rep.seconds = time.perf_counter() - t0
    if engine == "in-process":
        rep.workers_peak_rss_mb = {str(os.getpid()): round(peak_rss_mb(), 1)}
    target = os.fspath(report_path) if report_path is not None else bfs.join(p.output, REPORT_NAME)
    rep.report_path = target
    bfs.write_text(target, rep.to_json() + "\n")
    return rep


class _Interrupted(Exception):
    """Ctrl+C or SIGTERM stopped the batch."""


def _run_inline(tasks: list[Task], payloads: Iterator[dict[str, Any]], begin: Callable[..., None], finish: Callable[..., None]) -> None:
    try:
        for t, payload in zip(tasks, payloads):
            begin([t])
            finish(process(payload))
    except KeyboardInterrupt:
        raise _Interrupted from None


def _run_pool(
    nworkers: int,
    tasks: list[Task],
    payloads: Iterator[dict[str, Any]],
    begin: Callable[..., None],
    finish: Callable[..., None],
    bar: _Progress,
) -> None:
    import multiprocessing

    threads = max(1, (os.cpu_count() or 1) // nworkers)
    window = 2 * nworkers + 2
    todo = list(zip(tasks, payloads))
    todo.reverse()  # pop() from the end = in order
    died: Counter[str] = Counter()
    interrupted = False
    ctx = _pool_context(multiprocessing)
    with _thread_env(threads):
        while todo:
            pool = ProcessPoolExecutor(nworkers, mp_context=ctx, initializer=init_pool_worker, initargs=(threads, os.getpid()))
            inflight: dict[Future[Any], tuple[Task, dict[str, Any]]] = {}
            broken = False
            try:
                while (todo or inflight) and not broken:
                    batch = []
                    while todo and len(inflight) + len(batch) < window:
                        batch.append(todo.pop())
                    if batch:
                        begin([t for t, _ in batch])
                        for t, payload in batch:
                            inflight[pool.submit(process, payload)] = (t, payload)
                    done, _ = wait(list(inflight), timeout=0.5, return_when=FIRST_COMPLETED)
                    for fut in done:
                        t, payload = inflight.pop(fut)
                        try:
                            finish(fut.result())
                        except BrokenProcessPool:
                            broken = True
                            died[t.key] += 1
                            if died[t.key] >= 2:
                                finish({"key": t.key, "status": "failed", "error": "the worker process died while processing it (out of memory or killed)"})
                            else:
                                todo.append((t, payload))
                if broken:
                    for fut, (t, payload) in inflight.items():  # the pool is gone: retry these in a new one
                        died[t.key] += 1
                        if died[t.key] >= 2:
                            finish({"key": t.key, "status": "failed", "error": "the worker process died while processing it (out of memory or killed)"})
                        else:
                            todo.append((t, payload))
                    bar.note("[yellow]a worker process died; starting new ones and retrying its images once[/]")
                pool.shutdown(wait=True)
            except KeyboardInterrupt:
                interrupted = True
                _stop_pool(pool, inflight, finish, bar)
                break
    if interrupted:
        raise _Interrupted


def _pool_context(multiprocessing: Any) -> Any:
    """Fork workers from a server that has imported retouch once (fast starts, no fork of this
    process's threads); plain spawn where there is no forkserver."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["retouch._batch_worker", "retouch.segment", "retouch.inpaint", "retouch.refine"])
        return ctx
    return multiprocessing.get_context("spawn")  # pragma: no cover


def _stop_pool(pool: ProcessPoolExecutor, inflight: dict[Future[Any], Any], finish: Callable[..., None], bar: _Progress) -> None:
    """Ctrl+C: cancel what has not started, let running images finish (a second Ctrl+C stops them)."""
    running = [f for f in inflight if not f.cancel()]
    if running:
        bar.note(f"[yellow]stopping[/]: finishing {len(running)} image{'s' if len(running) != 1 else ''} in progress (Ctrl+C again to stop now)")
    try:
        for fut in running:
            try:
                finish(fut.result())
            except (BrokenProcessPool, Exception):
                pass
        pool.shutdown(wait=True, cancel_futures=True)
    except KeyboardInterrupt:
        for proc in list(getattr(pool, "_processes", {}).values()):
            with contextlib.suppress(Exception):
                proc.kill()
        pool.shutdown(wait=False, cancel_futures=True)


def _check_workers_see(client: Any, tasks: list[Task]) -> None:
    """Refuse early when the cluster's workers cannot reach the input files (no shared storage)."""
    if not tasks or bfs.is_url(tasks[0].input):
        return
    path = tasks[0].input
    try:
        seen = client.run(os.path.exists, path)
    except Exception:  # pragma: no cover - a worker that cannot run it: let the tasks say why
        return
    blind = [w for w, ok in seen.items() if not ok]
    if blind:
        raise RetouchError(
            f"{len(blind)} of {len(seen)} Dask workers cannot see {path}; put the images on storage "
            "every worker mounts at the same path, or give fsspec URLs (s3://...)"
        )


def _run_dask(
    scheduler: Any,
    tasks: list[Task],
    payloads: Iterator[dict[str, Any]],
    begin: Callable[..., None],
    finish: Callable[..., None],
    bar: _Progress,
    chunk: int | None = None,
) -> int:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise RetouchError("--scheduler needs Dask distributed: pip install 'retouch[dask]'") from None
    own = isinstance(scheduler, str)
    if own:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as e:
            raise RetouchError(f"cannot reach the Dask scheduler at {scheduler} ({e}); check the address and that it is running") from None
    else:
        client = scheduler
    run_id = secrets.token_hex(4)
    try:
        nthreads = sum(client.nthreads().values()) or 1
        nworkers = len(client.nthreads())
        _check_workers_see(client, tasks)
        # A Dask task costs the scheduler and the worker some milliseconds of their own: group
        # images into tasks of several (at most 16, and at least 8 tasks per thread overall).
        size = chunk or max(1, min(16, len(tasks) // (8 * nthreads)))
        window = 2 * nthreads + 2
        todo = list(zip(tasks, payloads))
        groups = [todo[i : i + size] for i in range(0, len(todo), size)]
        groups.reverse()
        ac = as_completed()
        inflight: dict[Any, list[Task]] = {}

        def refill() -> None:
            batch = []
            while groups and len(inflight) + len(batch) < window:
                batch.append(groups.pop())
            if not batch:
                return
            begin([t for group in batch for t, _ in group])
            for group in batch:
                key = f"retouch-{run_id}-{group[0][0].fingerprint}-{len(group)}"
                fut = client.submit(process_many, [payload for _, payload in group], pure=False, key=key)
                inflight[fut] = [t for t, _ in group]
                ac.add(fut)

        try:
            refill()
            for fut in ac:
                group_tasks = inflight.pop(fut)
                try:
                    records = fut.result()
                except Exception as e:  # KilledWorker (a worker died on it), a cancelled future, ...
                    why = f"{type(e).__name__}: {str(e).splitlines()[0]}" if str(e) else type(e).__name__
                    records = [{"key": t.key, "status": "failed", "error": f"the Dask task failed: {why}"} for t in group_tasks]
                fut.release()
                for rec in records:
                    finish(rec)
                refill()
        except KeyboardInterrupt:
            bar.note("[yellow]stopping[/]: cancelling the images not yet done")
            with contextlib.suppress(Exception):
                client.cancel(list(inflight))
            raise _Interrupted from None
    finally:
        if own:
            client.close()
    return nworkers
