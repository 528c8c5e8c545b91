"""The work of one image in a batch: read, run the recipe, write; return a small record.

:func:`process` is what a process-pool worker or a Dask worker runs. It gets
only strings and small values (paths or URLs, the recipe as JSON, the image's
sidecar values) and returns a small dict; pixels never travel between the
coordinator and the workers.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import time
import warnings
from typing import Any

from . import files as bfs
from ..validate import RetouchError, is_out_of_memory, out_of_memory_text

__all__ = ["process", "process_many", "init_pool_worker", "peak_rss_mb"]


@functools.lru_cache(maxsize=8)
def _recipe(text: str) -> Any:
    from ..pipeline import Recipe

    return Recipe.from_text(text, format="json")


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MiB (0 where the OS does not say)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _error_text(e: BaseException) -> str:
    if isinstance(e, RetouchError):
        return str(e)
    if is_out_of_memory(e):
        return out_of_memory_text(e, "use fewer workers, --max-pixels or a machine with more memory")
    text = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def process(task: dict[str, Any]) -> dict[str, Any]:
    """Make one output; never raises for a bad image (the record says why it failed).

    ``task`` keys: ``key`` (relative path), ``input``, ``output`` (paths or
    URLs), ``mask`` (path, URL or None), ``values`` (sidecar values or None),
    ``action`` (``run`` or ``copy``), ``recipe`` (JSON text), ``max_pixels``.
    """
    t0, c0 = time.perf_counter(), time.process_time()
    record: dict[str, Any] = {"key": task["key"], "status": "done", "megapixels": 0.0, "filled": None, "error": None}
    try:
        from ..inpaint import EmptyMaskWarning

        recipe = _recipe(task["recipe"])
        quality = recipe.output.quality
        if task["action"] == "copy" and _same_type(task["input"], task["output"]):
            bfs.copy_file(task["input"], task["output"], overwrite=True)
        else:
            image, info = bfs.read_image(task["input"], max_pixels=task.get("max_pixels"))
            record["megapixels"] = image.shape[0] * image.shape[1] / 1e6
            if task["action"] == "copy":
                out = image
            else:
                mask = None
                if task.get("mask"):
                    threshold = recipe.inputs.mask_threshold if recipe.inputs is not None else 0
                    mask = bfs.read_mask(task["mask"], shape=image.shape, threshold=threshold, max_pixels=task.get("max_pixels"))
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", EmptyMaskWarning)
                    result = recipe.apply(image, mask=mask, inputs=task.get("values"))
                out = result.image
                record["filled"] = float(result.mask.mean())
            bfs.write_image(task["output"], out, info=info, quality=quality, overwrite=True)
    except Exception as e:  # a bad image is a record, not the end of the batch
        record.update(status="failed", error=_error_text(e), error_type=type(e).__name__)
    record["seconds"] = time.perf_counter() - t0
    record["cpu_seconds"] = time.process_time() - c0
    record["process_cpu_seconds"] = time.process_time()
    record["pid"] = os.getpid()
    record["peak_rss_mb"] = peak_rss_mb()
    return record


def process_many(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """:func:`process` for several images, one after another (one Dask task, fewer overheads)."""
    return [process(t) for t in tasks]


def _same_type(a: str, b: str) -> bool:
    from pathlib import PurePosixPath

    ext = {".jpeg": ".jpg", ".jpe": ".jpg", ".tiff": ".tif"}
    sa, sb = PurePosixPath(a).suffix.lower(), PurePosixPath(b).suffix.lower()
    return ext.get(sa, sa) == ext.get(sb, sb)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - exists, owned by someone else
        return True
    return True


def _watch(coordinator: int) -> None:
    while True:
        time.sleep(0.5)
        if not _alive(coordinator):
            os._exit(1)  # a half-written temp file may stay: the next run removes it


def init_pool_worker(threads: int, coordinator: int) -> None:
    """Set up a process-pool worker: Ctrl+C goes to the coordinator, die with it, ``threads`` threads.

    A worker must not outlive a killed coordinator (it would go on writing
    outputs while a rerun starts): on Linux the kernel kills it with its
    parent (``PR_SET_PDEATHSIG``), and everywhere a watchdog thread exits
    when the coordinator's process is gone.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover
            pass
    if not _alive(coordinator) or os.getppid() == 1:  # it died before we got here
        os._exit(1)
    import threading

    threading.Thread(target=_watch, args=(coordinator,), daemon=True, name="retouch-watchdog").start()
    threads = max(1, threads)
    try:
        import cv2

        cv2.setNumThreads(threads)
    except Exception:  # pragma: no cover
        pass
    try:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    except Exception:  # pragma: no cover
        pass
