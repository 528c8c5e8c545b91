"""Running a batch: :func:`run` on a local process pool, in this process, or on a Dask cluster.

The coordinator plans the batch (:mod:`.planner`), journals each image before
and after it runs (:mod:`.journal`), hands workers small payloads of strings
(:mod:`.worker` reads, processes and writes the image itself) and gathers
their records into a :class:`~retouch.batch.report.BatchReport`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import io
from ..pipeline import Recipe
from ..validate import RetouchError
from . import files as bfs
from .journal import LOCK_NAME, Journal, default_state
from .planner import Plan, Task, plan
from .report import REPORT_NAME, BatchReport
from .worker import init_pool_worker, peak_rss_mb, process, process_many

__all__ = ["run"]

_THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


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
    if not bfs.is_url(dst):
        _check_folder_takes_files(dst, f"the output folder {output}")
    if report is not None and not bfs.is_url(os.fspath(report)):
        _check_folder_takes_files(os.path.dirname(os.path.abspath(os.fspath(report))), f"the report's folder ({report})")
    journal = Journal(os.fspath(state))
    made = not bfs.is_url(dst) and not Path(dst).exists()
    journal.lock()
    try:
        opts = _Options(workers, scheduler, overwrite, report, max_pixels, console, on_record)
        return _run_locked(input, output, recipe, journal, opts)
    except RetouchError:
        if made:  # a mistake found before any work: leave no empty output folder behind
            journal.close()
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(dst, LOCK_NAME))
                os.rmdir(dst)
        raise
    finally:
        journal.close()


@dataclass
class _Options:
    """How :func:`run` was asked to run (its keyword arguments)."""

    workers: int | None
    scheduler: Any
    overwrite: bool
    report_path: Any
    max_pixels: int | None
    console: Any
    on_record: Callable[[dict[str, Any]], None] | None

    def engine(self) -> tuple[str, int]:
        """Where the images run, and on how many workers (0 for Dask: its workers are counted later)."""
        if self.scheduler is not None:
            return "dask", 0
        if self.workers == 0:
            return "in-process", 1
        return "processes", max(1, self.workers or os.cpu_count() or 1)


class _Books:
    """The coordinator's bookkeeping: the journal before and after each image, the report, the progress bar."""

    def __init__(self, p: Plan, journal: Journal, rep: BatchReport, bar: _Progress, on_record: Callable[[dict[str, Any]], None] | None):
        self.by_key = {t.key: t for t in p.tasks}
        self.journal, self.rep, self.bar, self.on_record = journal, rep, bar, on_record
        self.finished = 0

    def begin(self, batch: list[Task]) -> None:
        for t in batch:
            if t.redo:
                bfs.remove(t.output)  # so an output that exists always belongs to its journal entry
        self.journal.write([{"key": t.key, "status": "started", "fingerprint": t.fingerprint, "output": t.out_rel} for t in batch])

    def finish(self, rec: dict[str, Any]) -> None:
        self.finished += 1
        t = self.by_key[rec["key"]]
        entry = {"key": t.key, "status": rec["status"], "fingerprint": t.fingerprint, "output": t.out_rel}
        if rec.get("error"):
            entry["error"] = rec["error"]
        self.journal.write([entry])
        self.rep.add(rec)
        self.bar.advance(rec)
        if self.on_record is not None:
            self.on_record(rec)


def _new_report(p: Plan, recipe: Recipe, engine: str, nworkers: int, cleaned: list[str]) -> BatchReport:
    """The report of a batch about to start: what the plan already skipped or failed counted in."""
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
    return rep


def _run_locked(input: Any, output: Any, recipe: Recipe, journal: Journal, opts: _Options) -> BatchReport:
    """Plan, run and report a batch whose journal is locked."""
    t0 = time.perf_counter()
    latest = journal.load()
    p = plan(input, output, recipe, overwrite=opts.overwrite, journal=latest)
    cleaned = bfs.clean_parts(p.output)
    bfs.makedirs(p.output)
    journal.open(latest)
    engine, nworkers = opts.engine()
    rep = _new_report(p, recipe, engine, nworkers, cleaned)
    bar = _Progress(opts.console, len(p.tasks), sum(1 for r in p.skipped if r.get("reason") == "already done"))
    if cleaned:
        bar.note(f"removed {len(cleaned)} half-written file{'s' if len(cleaned) != 1 else ''} left by an earlier run")
    books = _Books(p, journal, rep, bar, opts.on_record)
    recipe_json = recipe.to_json()
    payloads = (t.payload(recipe_json, opts.max_pixels) for t in p.tasks)
    try:
        with _sigterm_as_interrupt():
            if engine == "dask":
                rep.workers = _run_dask(opts.scheduler, p.tasks, payloads, books.begin, books.finish, bar)
            elif engine == "in-process":
                _run_inline(p.tasks, payloads, books.begin, books.finish)
            else:
                _run_pool(nworkers, p.tasks, payloads, books.begin, books.finish, bar)
    except _Interrupted:
        rep.interrupted = True
    finally:
        bar.stop()
        rep.not_started = len(p.tasks) - books.finished
        rep.failed.sort(key=lambda r: r["image"])
        rep.seconds = time.perf_counter() - t0
    if engine == "in-process":
        rep.workers_peak_rss_mb = {str(os.getpid()): round(peak_rss_mb(), 1)}
    target = os.fspath(opts.report_path) if opts.report_path is not None else bfs.join(p.output, REPORT_NAME)
    rep.report_path = target
    try:
        bfs.write_text(target, rep.to_json() + "\n")
    except OSError as e:  # the folder went read-only or full during the batch: the summary still says what happened
        rep.report_path = None
        rep.report_error = f"could not write the report {target} ({e.strerror or type(e).__name__}); the journal keeps what was done"
    return rep


def _check_folder_takes_files(folder: str, what: str) -> None:
    """Refuse, before any work, an output folder (or the folder it would be made in) that takes no new file."""
    at = Path(folder)
    while not at.exists() and at != at.parent:
        at = at.parent
    if not at.is_dir():
        return  # a file in the way: the planner says so
    try:
        fd, probe = tempfile.mkstemp(dir=at, prefix=".retouch-batch.", suffix=".probe")
    except OSError as e:
        raise RetouchError(
            f"cannot write to {what}: {at} does not take new files ({e.strerror or type(e).__name__}); "
            "choose another folder or change its permissions"
        ) from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)


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
                        for k, (t, payload) in enumerate(batch):
                            try:
                                inflight[pool.submit(process, payload)] = (t, payload)
                            except BrokenProcessPool:  # a worker died since the last wait: these never started
                                broken = True
                                todo.extend(reversed(batch[k:]))
                                break
                    if broken:
                        break
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
                        if fut.done() and not fut.cancelled() and fut.exception() is None:
                            finish(fut.result())  # finished before the pool broke
                            continue
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
        ctx.set_forkserver_preload(["retouch.batch.worker", "retouch.segment", "retouch.inpaint", "retouch.refine"])
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
