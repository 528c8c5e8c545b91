"""The resume journal of a batch: one JSON line per event, the latest per image wins."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from ..validate import RetouchError
from . import files as bfs

__all__ = ["JOURNAL_NAME", "LOCK_NAME", "Journal", "default_state"]

JOURNAL_NAME = ".retouch-batch.jsonl"
"""The resume journal, in the output folder."""
LOCK_NAME = ".retouch-batch.lock"


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
        try:
            os.makedirs(folder, exist_ok=True)
            self._lock = open(os.path.join(folder, LOCK_NAME if self.path.endswith(JOURNAL_NAME) else os.path.basename(self.path) + ".lock"), "w")
        except OSError as e:
            raise RetouchError(
                f"cannot write to {folder} ({e.strerror or type(e).__name__}); choose another output folder or change its permissions"
            ) from None
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


def default_state(output: str | os.PathLike[str]) -> str:
    """Where the resume journal of a batch into ``output`` lives by default.

    ``OUTPUT/.retouch-batch.jsonl`` for a local folder; for a URL (an object
    store cannot append) a local file in the current folder named after it.
    """
    dst = bfs.absolute(os.fspath(output))
    if not bfs.is_url(dst):
        return os.path.join(dst, JOURNAL_NAME)
    return os.path.abspath(f".retouch-batch-{hashlib.sha256(dst.encode()).hexdigest()[:8]}.jsonl")

