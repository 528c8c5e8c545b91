"""Server-side sessions of the web app: one uploaded image each, bounded in memory.

A :class:`Session` holds the full-resolution image the user is working on,
what :func:`retouch.io.write` needs to give the file back alike
(:class:`~retouch.io.ImageInfo`), the current mask, and undo / redo stacks
over every mask and fill step. History entries are small: masks are stored as
packed, zlib-compressed bits and a fill stores only the rectangle of pixels it
changed, and the history is cut to a number of steps and of bytes.

A :class:`SessionStore` keeps the sessions in least-recently-used order and
drops them when they have been idle for ``ttl`` seconds, when there are more
than ``max_sessions``, or when their estimated bytes together pass
``max_bytes``, so the server's memory does not grow with the number of
uploads.

>>> import numpy as np
>>> from retouch.io import ImageInfo
>>> store = SessionStore(max_sessions=2, max_bytes=10**9, ttl=3600)
>>> ids = [store.add(Session(np.zeros((8, 8, 3), np.uint8), ImageInfo(format="PNG"), "a.png")).id for _ in range(3)]
>>> len(store), ids[0] in store, ids[2] in store
(2, False, True)
"""

from __future__ import annotations

import secrets
import threading
import time
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..io import ImageInfo

CLICK_SESSION_BYTES = 32 * 2**20
"""Estimated memory of a click-segmentation session (working image, superpixels, graph)."""

__all__ = ["pack_mask", "unpack_mask", "HistoryEntry", "Session", "SessionStore", "SessionGone"]


class SessionGone(KeyError):
    """The session id is unknown: never created, expired or dropped for memory."""


def pack_mask(mask: np.ndarray) -> bytes:
    """A bool mask as zlib-compressed packed bits (about 1/8 of a byte per pixel, much less for simple masks).

    >>> m = np.zeros((3, 5), bool); m[1, 2:4] = True
    >>> bool((unpack_mask(pack_mask(m), m.shape) == m).all())
    True
    """
    return zlib.compress(np.packbits(mask, axis=None).tobytes(), 1)


def unpack_mask(data: bytes, shape: tuple[int, int]) -> np.ndarray:
    """Inverse of :func:`pack_mask` for a mask of ``shape`` (H, W)."""
    bits = np.frombuffer(zlib.decompress(data), np.uint8)
    return np.unpackbits(bits, count=shape[0] * shape[1]).astype(bool).reshape(shape)


@dataclass
class HistoryEntry:
    """The state to go back to: the mask, and for fills the pixels and the filled mask.

    ``patch`` is ``(y0, x0, pixels)``: the rectangle of the image a fill
    changed, as it was. ``tag`` lets the click tool recognise its own steps.
    """

    label: str
    mask: bytes
    patch: tuple[int, int, np.ndarray] | None = None
    filled: bytes | None = None
    fills: int = 0
    tag: Any = None

    @property
    def nbytes(self) -> int:
        n = len(self.mask) + (len(self.filled) if self.filled else 0) + 64
        if self.patch is not None:
            n += self.patch[2].nbytes
        return n


@dataclass
class Job:
    """A fill running in the background."""

    id: str
    method: str
    status: str = "queued"  # queued | running | done | error
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    error: str | None = None
    error_status: int = 422

    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started


class Session:
    """One image being retouched.

    Parameters
    ----------
    image : ndarray
        The full-resolution image as read (grey, RGB or RGBA; uint8, uint16
        or float32). The session owns it and changes it when filling.
    info : ImageInfo
        From :func:`retouch.io.read_with_info`, to write the result alike.
    filename : str
        The sanitised upload name, used only to suggest download names.
    history_depth, history_bytes : int
        Most undo steps kept, and most bytes they may hold together.
    """

    def __init__(self, image: np.ndarray, info: ImageInfo, filename: str, *, history_depth: int = 50, history_bytes: int = 256 * 2**20):
        self.id = secrets.token_urlsafe(16)
        self.lock = threading.RLock()
        self.image = image
        self.info = info
        self.filename = filename
        self.shape: tuple[int, int] = (int(image.shape[0]), int(image.shape[1]))
        self.mask = np.zeros(self.shape, bool)
        self.filled: np.ndarray | None = None  # union of every filled mask
        self.fills = 0
        self.undo_stack: list[HistoryEntry] = []
        self.redo_stack: list[HistoryEntry] = []
        self.history_depth = history_depth
        self.history_bytes = history_bytes
        self.version = 0  # bumps on every mask or image change
        self.image_version = 0  # bumps when the pixels change (fill, undo / redo of a fill)
        self.cache: dict[str, Any] = {}  # previews, histogram; dropped when the image changes
        self.job: Job | None = None
        self.jobs: dict[str, Job] = {}
        self.clicks: Any = None  # a ClickSession, built on the first click
        self.click_settings: dict[str, Any] = {}
        self.click_run: dict[str, Any] | None = None
        self.last_used = time.monotonic()
        self.created = time.time()

    # ------------------------------------------------------------ accounting
    @property
    def busy(self) -> bool:
        return self.job is not None and self.job.status in ("queued", "running")

    def nbytes(self) -> int:
        """Estimated memory held by this session."""
        n = self.image.nbytes + self.mask.nbytes
        if self.filled is not None:
            n += self.filled.nbytes
        # snapshots: another thread may change these while the store counts
        n += sum(e.nbytes for e in list(self.undo_stack)) + sum(e.nbytes for e in list(self.redo_stack))
        for v in list(self.cache.values()):
            for part in v if isinstance(v, tuple) else (v,):
                n += getattr(part, "nbytes", None) or (len(part) if isinstance(part, (bytes, bytearray, str)) else 256)
        run = self.click_run
        if run is not None:
            n += run["base"].nbytes
        if self.clicks is not None:
            n += CLICK_SESSION_BYTES
        return n

    # ------------------------------------------------------------ history
    def _capture(self, label: str, box: tuple[int, int, int, int] | None, with_filled: bool, tag: Any = None) -> HistoryEntry:
        patch = None
        if box is not None:
            y0, x0, y1, x1 = box
            patch = (y0, x0, self.image[y0:y1, x0:x1].copy())
        filled = None
        if with_filled:
            filled = pack_mask(self.filled if self.filled is not None else np.zeros(self.shape, bool))
        return HistoryEntry(label, pack_mask(self.mask), patch, filled, self.fills, tag)

    def push(self, label: str, *, box: tuple[int, int, int, int] | None = None, fill: bool = False, tag: Any = None) -> None:
        """Record the current state before a change called ``label``."""
        self.undo_stack.append(self._capture(label, box, fill, tag))
        self.redo_stack.clear()
        self._trim()

    def _trim(self) -> None:
        while len(self.undo_stack) > self.history_depth:
            self.undo_stack.pop(0)
        total = sum(e.nbytes for e in self.undo_stack)
        while len(self.undo_stack) > 1 and total > self.history_bytes:
            total -= self.undo_stack.pop(0).nbytes
        # a single step too large to keep (a fill of a huge area) is still undoable once

    def _restore(self, entry: HistoryEntry) -> None:
        self.mask = unpack_mask(entry.mask, self.shape)
        if entry.patch is not None:
            y0, x0, pixels = entry.patch
            self.image[y0 : y0 + pixels.shape[0], x0 : x0 + pixels.shape[1]] = pixels
            self.image_changed()
        if entry.filled is not None:
            filled = unpack_mask(entry.filled, self.shape)
            self.filled = filled if filled.any() else None
            self.fills = entry.fills
        self.version += 1

    def _swap(self, source: list[HistoryEntry], target: list[HistoryEntry]) -> HistoryEntry:
        entry = source.pop()
        box = None
        if entry.patch is not None:
            y0, x0, pixels = entry.patch
            box = (y0, x0, y0 + pixels.shape[0], x0 + pixels.shape[1])
        target.append(self._capture(entry.label, box, entry.filled is not None, entry.tag))
        self._restore(entry)
        return entry

    def undo(self) -> HistoryEntry | None:
        """Go back one step; return the entry undone (None when there is nothing to undo)."""
        if not self.undo_stack:
            return None
        return self._swap(self.undo_stack, self.redo_stack)

    def redo(self) -> HistoryEntry | None:
        """Redo the last undone step; return it (None when there is nothing to redo)."""
        if not self.redo_stack:
            return None
        entry = self._swap(self.redo_stack, self.undo_stack)
        self._trim()
        return entry

    # ------------------------------------------------------------ changes
    def set_mask(self, mask: np.ndarray, label: str, *, tag: Any = None) -> bool:
        """Replace the mask as one undoable step; False (and no step) when nothing changed."""
        if mask.shape != self.shape:
            raise ValueError(f"mask shape {mask.shape} is not the image's {self.shape}")
        if np.array_equal(mask, self.mask):
            return False
        self.push(label, tag=tag)
        self.mask = np.ascontiguousarray(mask, dtype=bool)
        self.version += 1
        return True

    def apply_fill(self, result: np.ndarray, mask: np.ndarray, label: str) -> None:
        """Paste ``result`` under ``mask`` into the image as one undoable step and clear the mask."""
        ys, xs = np.nonzero(mask)
        box = (int(ys.min()), int(xs.min()), int(ys.max()) + 1, int(xs.max()) + 1)
        self.push(label, box=box, fill=True)
        self.image[mask] = result[mask]
        self.filled = mask.copy() if self.filled is None else (self.filled | mask)
        self.fills += 1
        self.mask = np.zeros(self.shape, bool)
        self.version += 1
        self.image_changed()

    def image_changed(self) -> None:
        """Forget what was computed from the pixels (previews, histogram, click features)."""
        self.image_version += 1
        self.cache = {k: v for k, v in self.cache.items() if k.startswith("original")}
        self.clicks = None
        self.click_run = None

    def touch(self) -> None:
        self.last_used = time.monotonic()


class SessionStore:
    """Sessions by id, least recently used first out, bounded in number, bytes and idle time.

    Parameters
    ----------
    max_sessions : int
        Most sessions kept; the least recently used goes first.
    max_bytes : int
        Most estimated bytes for all sessions together.
    ttl : float
        Seconds of idleness after which a session is dropped.
    """

    def __init__(self, *, max_sessions: int, max_bytes: int, ttl: float):
        self.max_sessions = int(max_sessions)
        self.max_bytes = int(max_bytes)
        self.ttl = float(ttl)
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._sessions)

    def __contains__(self, sid: str) -> bool:
        return sid in self._sessions

    def get(self, sid: str) -> Session:
        """The session ``sid``, marked as used; :class:`SessionGone` if there is none."""
        self.sweep()
        with self._lock:
            s = self._sessions.get(sid)
            if s is None:
                raise SessionGone(sid)
            self._sessions.move_to_end(sid)
            s.touch()
            return s

    def add(self, session: Session) -> Session:
        """Keep ``session``, first dropping old ones until it fits the bounds."""
        need = session.nbytes()
        with self._lock:
            self._sweep_locked()
            self._evict_locked(extra_sessions=1, extra_bytes=need)
            self._sessions[session.id] = session
        return session

    def drop(self, sid: str) -> bool:
        """Forget a session; True if it existed."""
        with self._lock:
            s = self._sessions.pop(sid, None)
        if s is not None:
            self._release(s)
            return True
        return False

    def total_bytes(self) -> int:
        with self._lock:
            return sum(s.nbytes() for s in self._sessions.values())

    def sweep(self) -> int:
        """Drop idle sessions and those over the memory bound; return how many went."""
        with self._lock:
            n = self._sweep_locked()
            n += self._evict_locked()
            return n

    def ids(self) -> list[str]:
        with self._lock:
            return list(self._sessions)

    # ------------------------------------------------------------ internals
    def _release(self, s: Session) -> None:
        self.dropped += 1
        # drop the big arrays now rather than when the last reference goes
        if not s.busy:
            s.cache.clear()
            s.undo_stack.clear()
            s.redo_stack.clear()
            s.clicks = None
            s.click_run = None

    def _sweep_locked(self) -> int:
        now = time.monotonic()
        old = [sid for sid, s in self._sessions.items() if now - s.last_used > self.ttl and not s.busy]
        for sid in old:
            self._release(self._sessions.pop(sid))
        return len(old)

    def _evict_locked(self, extra_sessions: int = 0, extra_bytes: int = 0) -> int:
        n = 0
        sizes = {sid: s.nbytes() for sid, s in self._sessions.items()}
        total = sum(sizes.values()) + extra_bytes
        for sid in list(self._sessions):
            if len(self._sessions) + extra_sessions <= self.max_sessions and total <= self.max_bytes:
                break
            s = self._sessions[sid]
            if s.busy:
                continue
            total -= sizes[sid]
            self._release(self._sessions.pop(sid))
            n += 1
        return n
