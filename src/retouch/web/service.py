"""What the web app does, without HTTP: sessions, mask combining, click objects, history and fill jobs.

:class:`Service` holds the sessions of one server and does everything a route
asks for; the routers (:mod:`retouch.web.routes`) only parse the request and
call it. A mistake the user can fix is an :class:`ApiError` (an HTTP status
and one line), which the app answers as ``{"detail": line}``.

>>> import numpy as np
>>> from retouch.io import ImageInfo
>>> from retouch.web.service import Service
>>> svc = Service()
>>> s = svc.new_session(np.zeros((40, 60, 3), np.uint8), ImageInfo(format="PNG"), "a.png")
>>> svc.shape(s.id, ShapeRequest(shape="rectangle", box=(10, 5, 20, 10))).mask_pixels
200
>>> svc.undo(s.id).message
'undid rectangle (add)'
>>> svc.close()
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import tempfile
import time
import traceback
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

import cv2
import numpy as np

from .. import io, registry
from ..pipeline import DEFAULT_INPAINT, fill
from ..segment.clicks import ClickSession
from ..segment.superpixels import superpixel_labels
from ..validate import RetouchError, check_points, is_out_of_memory, out_of_memory_text
from . import imaging
from .config import POINT_SETTINGS, WebConfig
from .models import (
    BrushRequest,
    ClickRequest,
    FillRequest,
    JobState,
    RefineRequest,
    SegmentRequest,
    SessionState,
    ShapeRequest,
)
from .store import Job, Session, SessionGone, SessionStore

__all__ = ["ApiError", "Service", "combine", "one_line"]

log = logging.getLogger("retouch.web")


class ApiError(Exception):
    """An error answered as ``{"detail": message}`` with ``status``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def one_line(text: str) -> str:
    """``text`` with every run of white space (newlines included) made one space."""
    return " ".join(str(text).split())


def combine(current: np.ndarray, new: np.ndarray, mode: str) -> np.ndarray:
    """The mask after a tool's ``new`` mask joins ``current``: add, subtract, intersect or replace.

    >>> a = np.array([True, True, False]); b = np.array([False, True, True])
    >>> [combine(a, b, m).astype(int).tolist() for m in ("add", "subtract", "intersect", "replace")]
    [[1, 1, 1], [1, 0, 0], [0, 1, 0], [0, 1, 1]]
    """
    if mode == "add":
        return current | new
    if mode == "subtract":
        return current & ~new
    if mode == "intersect":
        return current & new
    return new.copy()


def _unprocessable(call: Any, *args: Any, **kwargs: Any) -> Any:
    """``call(*args, **kwargs)``, a :class:`RetouchError` becoming a 422."""
    try:
        return call(*args, **kwargs)
    except RetouchError as e:
        raise ApiError(422, str(e)) from None


class Service:
    """The sessions of one web-app server and everything done to them.

    Every method that changes a session takes its lock, refuses while a fill
    runs on it (409), and returns the session's new :class:`SessionState`.
    """

    def __init__(self, config: WebConfig | None = None):
        self.config = cfg = config or WebConfig()
        self.store = SessionStore(max_sessions=cfg.max_sessions, max_bytes=cfg.max_memory_bytes, ttl=cfg.session_ttl)
        self.executor = ThreadPoolExecutor(max_workers=cfg.fill_workers, thread_name_prefix="retouch-fill")
        self.upload_dir = Path(tempfile.mkdtemp(prefix="retouch-uploads-"))
        os.chmod(self.upload_dir, 0o700)
        self.initial_session: str | None = None

    def close(self) -> None:
        """Stop the fill workers and remove the upload folder."""
        self.executor.shutdown(wait=False, cancel_futures=True)
        shutil.rmtree(self.upload_dir, ignore_errors=True)

    # ------------------------------------------------------------------ sessions
    def session(self, sid: str) -> Session:
        """The session ``sid`` (404 when it is unknown or expired)."""
        try:
            return self.store.get(sid)
        except SessionGone:
            raise ApiError(404, "this image session is unknown or has expired (sessions are dropped after idle time or when memory runs short); open the image again") from None

    def method(self, kind: str, name: str) -> registry.Method:
        """The registered method (422 when there is none of that name)."""
        return _unprocessable(registry.get, kind, name)

    def new_session(self, image: np.ndarray, info: io.ImageInfo, name: str) -> Session:
        """A session for ``image`` (413 when it needs more than the server's session memory)."""
        cfg = self.config
        s = Session(image, info, name, history_depth=cfg.history_depth, history_bytes=cfg.history_bytes)
        need = s.nbytes()
        if need > cfg.max_memory_bytes:
            raise ApiError(413, f"{name} needs about {need / 2**20:.0f} MiB, more than this server's session memory of {cfg.max_memory_bytes / 2**20:.0f} MiB; start it with a larger --memory-mb")
        return self.store.add(s)

    def open_file(self, path: str | os.PathLike[str]) -> Session:
        """The first session, from a file named by the person starting the server (never by a client)."""
        img, info = io.read_with_info(path, max_pixels=self.config.max_pixels)
        try:
            first = self.new_session(img, info, imaging.sanitize_filename(Path(path).name))
        except ApiError as e:
            raise RetouchError(e.message) from None
        self.initial_session = first.id
        return first

    def save_upload(self, stream: IO[bytes], filename: str | None, what: str) -> tuple[Path, str]:
        """Copy an upload to a private temporary file, refusing it past the size limit; its path and display name."""
        limit = self.config.max_upload_bytes
        display = imaging.sanitize_filename(filename, what)
        fd, tmp = tempfile.mkstemp(dir=self.upload_dir, suffix=".upload")
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(1 << 20):
                    size += len(chunk)
                    if size > limit:
                        raise ApiError(413, f"{display} is larger than this server's limit of {limit / 2**20:.1f} MiB; start the server with a larger --max-upload-mb")
                    out.write(chunk)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        if size == 0:
            os.unlink(tmp)
            raise ApiError(400, f"{display} is empty (0 bytes); choose an image file")
        return Path(tmp), display

    def open_upload(self, stream: IO[bytes], filename: str | None) -> SessionState:
        """A new session for an uploaded image file."""
        tmp, display = self.save_upload(stream, filename, "image")
        try:
            img, info = imaging.decode_upload(tmp, display, max_pixels=self.config.max_pixels)
        except imaging.UploadTooLarge as e:
            raise ApiError(413, str(e)) from None
        except RetouchError as e:
            raise ApiError(400, str(e)) from None
        except MemoryError:
            raise ApiError(413, f"{display} is too large to open with the memory this server has") from None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        s = self.new_session(img, info, display)
        return self.state(s, f"opened {display} ({s.shape[1]}x{s.shape[0]})")

    def get_state(self, sid: str) -> SessionState:
        s = self.session(sid)
        with s.lock:
            return self.state(s)

    def drop(self, sid: str) -> None:
        if not self.store.drop(sid):
            raise ApiError(404, "this image session is unknown or has expired")

    def state(self, s: Session, message: str | None = None, elapsed: float | None = None) -> SessionState:
        """What the page shows of ``s``."""
        h, w = s.shape
        pw, ph = imaging.preview_size(s.shape, self.preview_scale(s))
        n = int(np.count_nonzero(s.mask))
        stem = s.filename.rsplit(".", 1)[0] if "." in s.filename else s.filename
        return SessionState(
            id=s.id, filename=s.filename, width=w, height=h,
            channels=1 if s.image.ndim == 2 else int(s.image.shape[2]), dtype=str(s.image.dtype), format=s.info.format,
            download_name=f"{stem}.retouched{imaging.download_ext(s.info, s.image)}",
            preview_width=pw, preview_height=ph, scale=pw / w,
            version=s.version, image_version=s.image_version, mask_pixels=n, mask_fraction=n / float(h * w), fills=s.fills,
            can_undo=bool(s.undo_stack), can_redo=bool(s.redo_stack),
            undo_label=s.undo_stack[-1].label if s.undo_stack else None,
            redo_label=s.redo_stack[-1].label if s.redo_stack else None,
            busy=s.busy, job=job_state(s.job) if s.job else None,
            clicks=list(s.click_run["points"]) if s.click_run is not None else [],
            message=message, elapsed_ms=None if elapsed is None else round(elapsed * 1000, 1),
        )

    def preview_scale(self, s: Session) -> float:
        return imaging.preview_scale(s.shape, self.config.preview_max_side)

    # ------------------------------------------------------------------ pictures for the page
    def preview(self, sid: str, which: str) -> tuple[bytes, str]:
        """The downscaled current image or original, encoded (kept until the image changes)."""
        s = self.session(sid)
        with s.lock:
            key = "preview" if (which == "current" and s.image_version != 0) else "original_preview"
            if key not in s.cache:
                if key == "original_preview" and s.image_version != 0:
                    raise ApiError(404, "the preview of the original is gone")
                s.cache[key] = imaging.preview_bytes(s.image, self.preview_scale(s))
            return s.cache[key]

    def overlay(self, sid: str) -> bytes:
        s = self.session(sid)
        with s.lock:
            mask = s.mask
        return imaging.overlay_png(mask, self.preview_scale(s))

    def histogram(self, sid: str) -> dict[str, Any]:
        """The luminance histogram (kept) and the scale of the image's values."""
        s = self.session(sid)
        with s.lock:
            if "histogram" not in s.cache:
                s.cache["histogram"] = imaging.histogram(s.image)
            scale = {"uint8": 1.0, "uint16": 257.0}.get(str(s.image.dtype), 1.0 / 255.0)
            return {**s.cache["histogram"], "value_scale": scale}

    def superpixel_outline(self, sid: str, settings: str) -> bytes:
        """The superpixel borders for these settings (JSON text) as a transparent PNG."""
        s = self.session(sid)
        m = self.method("segment", "superpixels")
        try:
            given = json.loads(settings)
        except json.JSONDecodeError as e:
            raise ApiError(422, f"settings must be a JSON object: {e}") from None
        if not isinstance(given, dict):
            raise ApiError(422, "settings must be a JSON object")
        given.pop("points", None)
        with s.lock:
            self._not_busy(s)
            labels = _unprocessable(self._superpixel_labels, s, m, given)
        return imaging.outline_png(labels, self.preview_scale(s))

    # ------------------------------------------------------------------ the mask
    def segment(self, sid: str, req: SegmentRequest) -> SessionState:
        """Run a segmenter and combine its mask with the current one."""
        s = self.session(sid)
        m = self.method("segment", req.method)
        settings = {**req.settings, **self._ui_inputs(m, req)}
        with s.lock:
            self._not_busy(s)
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if m.name == "superpixels" and "points" in settings:
                    new = _unprocessable(self._superpixel_pick, s, m, settings)
                else:
                    new = _unprocessable(m, s.image, settings=settings)
            s.click_run = None
            changed = s.set_mask(combine(s.mask, new, req.mode), f"{m.name} ({req.mode})")
            msg = f"{m.name}: {int(new.sum())} pixels found" + ("" if changed else "; the mask did not change")
            return self.state(s, msg, time.perf_counter() - t0)

    def click(self, sid: str, req: ClickRequest) -> SessionState:
        """One click of the click tool: start or correct the current object, and show it in the mask."""
        s = self.session(sid)
        with s.lock:
            self._not_busy(s)
            t0 = time.perf_counter()
            run = s.click_run
            fresh = req.new or run is None or run["mode"] != req.mode
            if fresh and not req.positive:
                raise ApiError(422, "start an object with a positive click (on the object), then correct it with negative clicks")
            _unprocessable(check_points, [(req.x, req.y)], s.shape, "the click")
            if fresh:
                run = {"base": s.mask.copy(), "mode": req.mode, "id": time.monotonic_ns(), "points": []}
            found = _unprocessable(self._click_object, s, req, fresh)
            run["points"] = run["points"] + [(int(round(req.x)), int(round(req.y)), bool(req.positive))]
            s.click_run = run
            tag = ("clicks", run["id"])
            label = f"{'+' if req.positive else '−'} click"
            if not s.set_mask(combine(run["base"], found, req.mode), label, tag=tag):
                s.push(label, tag=tag)  # every click is a step, so undo follows the clicks
                s.version += 1
            return self.state(s, f"click {len(run['points'])} (clicks): {int(found.sum())} pixels in the object", time.perf_counter() - t0)

    def end_clicks(self, sid: str) -> SessionState:
        s = self.session(sid)
        with s.lock:
            s.click_run = None
            return self.state(s, "the next click starts a new object")

    def brush(self, sid: str, req: BrushRequest) -> SessionState:
        s = self.session(sid)
        with s.lock:
            self._not_busy(s)
            t0 = time.perf_counter()
            _within_reach(req.points, s.shape, req.radius, "the brush stroke", reach=_STROKE_REACH)
            if _misses(req.points, s.shape, req.radius):
                raise ApiError(422, f"the brush stroke is outside the image ({_size(s.shape)}); nothing would change")
            stroke = imaging.stroke_mask(s.shape, req.points, req.radius)
            s.click_run = None
            what = "brush" if req.mode == "add" else "eraser"
            s.set_mask(combine(s.mask, stroke, req.mode), what)
            return self.state(s, f"{what}: {int(stroke.sum())} pixels", time.perf_counter() - t0)

    def shape(self, sid: str, req: ShapeRequest) -> SessionState:
        s = self.session(sid)
        with s.lock:
            self._not_busy(s)
            drawn = _draw_shape(req, s.shape)
            s.click_run = None
            s.set_mask(combine(s.mask, drawn, req.mode), f"{req.shape} ({req.mode})")
            return self.state(s, f"{req.shape}: {int(np.count_nonzero(drawn))} pixels ({req.mode})")

    def refine(self, sid: str, req: RefineRequest) -> SessionState:
        s = self.session(sid)
        if req.method == "feather":
            raise ApiError(422, "feather makes a soft edge for blending the fill; give it as 'feather' in the fill request")
        m = self.method("refine", req.method)
        with s.lock:
            self._not_busy(s)
            t0 = time.perf_counter()
            new = _unprocessable(m, s.mask, settings=req.settings)
            s.click_run = None
            changed = s.set_mask(new, m.name.replace("_", " "))
            return self.state(s, None if changed else f"{m.name}: the mask did not change", time.perf_counter() - t0)

    def clear(self, sid: str) -> SessionState:
        s = self.session(sid)
        with s.lock:
            self._not_busy(s)
            s.click_run = None
            s.set_mask(np.zeros(s.shape, bool), "clear")
            return self.state(s, "mask cleared")

    def load_mask(self, sid: str, stream: IO[bytes], filename: str | None, mode: str) -> SessionState:
        """Combine an uploaded mask file (non-zero = selected) with the mask."""
        s = self.session(sid)
        tmp, display = self.save_upload(stream, filename, "mask")
        try:
            mask = imaging.decode_mask_upload(tmp, display, s.shape, max_pixels=self.config.max_pixels)
        except imaging.UploadTooLarge as e:
            raise ApiError(413, str(e)) from None
        except RetouchError as e:
            raise ApiError(400, str(e)) from None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        with s.lock:
            self._not_busy(s)
            s.click_run = None
            s.set_mask(combine(s.mask, mask, mode), f"mask file ({mode})")
            return self.state(s)

    # ------------------------------------------------------------------ history
    def undo(self, sid: str) -> SessionState:
        """Undo the last step; undoing a click of the current object takes that click off it."""
        s = self.session(sid)
        with s.lock:
            self._not_busy(s)
            run = s.click_run
            e = s.undo()
            if e is None:
                return self.state(s, "nothing to undo")
            if run is not None and e.tag == ("clicks", run["id"]) and run["points"]:
                run["points"] = run["points"][:-1]
                if s.clicks is not None and s.clicks.clicks:
                    s.clicks.undo()
                if not run["points"]:
                    s.click_run = None
            else:
                s.click_run = None
            return self.state(s, f"undid {e.label}")

    def redo(self, sid: str) -> SessionState:
        s = self.session(sid)
        with s.lock:
            self._not_busy(s)
            e = s.redo()
            s.click_run = None
            return self.state(s, "nothing to redo" if e is None else f"redid {e.label}")

    # ------------------------------------------------------------------ fill jobs
    def start_fill(self, sid: str, req: FillRequest) -> JobState:
        """Queue a fill of the mask; the job runs on the server's fill workers."""
        s = self.session(sid)
        m = self.method("inpaint", req.method or DEFAULT_INPAINT)
        settings = _unprocessable(m.validate, req.settings).kwargs()
        with s.lock:
            self._not_busy(s)
            if not s.mask.any():
                raise ApiError(422, "the mask is empty: mark what should go first")
            if s.mask.all():
                raise ApiError(422, "the mask covers the whole image, so there is nothing to fill from; leave some pixels unmarked")
            if "original_preview" not in s.cache and s.image_version == 0:
                s.cache["original_preview"] = imaging.preview_bytes(s.image, self.preview_scale(s))
            s.click_run = None
            job = Job(id=os.urandom(8).hex(), method=m.name)
            s.job = job
            s.jobs = {k: v for k, v in list(s.jobs.items())[-7:]}
            s.jobs[job.id] = job
            self.executor.submit(run_fill, s, job, settings, req.feather, s.mask.copy(), s.image_version)
            return job_state(job)

    def job(self, sid: str, job_id: str) -> JobState:
        job = self.session(sid).jobs.get(job_id)
        if job is None:
            raise ApiError(404, f"no fill job {job_id} in this session")
        return job_state(job)

    # ------------------------------------------------------------------ downloads
    def result(self, sid: str) -> tuple[bytes, str, str]:
        """The image now, encoded in the upload's format and bit depth: bytes, file name, media type."""
        s = self.session(sid)
        with s.lock:
            self._not_busy(s)
            image, info, name = s.image.copy(), s.info, s.filename
        data, ext, media = imaging.encode_image(image, info)
        stem = name.rsplit(".", 1)[0] if "." in name else name
        return data, f"{stem}.retouched{ext}", media

    def mask_file(self, sid: str, which: str) -> tuple[bytes, str]:
        """The current mask, or every pixel filled so far ("auto": current unless empty), as PNG: bytes, file name."""
        s = self.session(sid)
        with s.lock:
            filled = s.filled if s.filled is not None else np.zeros(s.shape, bool)
            if which == "current" or (which == "auto" and s.mask.any()):
                mask, what = s.mask, "mask"
            else:
                mask, what = filled, "filled"
            name = s.filename
        stem = name.rsplit(".", 1)[0] if "." in name else name
        return imaging.encode_mask(mask), f"{stem}.{what}.png"

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _not_busy(s: Session) -> None:
        if s.busy:
            raise ApiError(409, "a fill is running on this image; wait for it to finish")

    @staticmethod
    def _ui_inputs(m: registry.Method, req: SegmentRequest) -> dict[str, Any]:
        """The request's box and points as the method's settings (the points go where :data:`~retouch.web.config.POINT_SETTINGS` says)."""
        fields = m.settings.model_fields
        given: dict[str, Any] = {}
        if req.box is not None:
            if "box" not in fields:
                raise ApiError(422, f"segment method '{m.name}' does not take a box")
            given["box"] = tuple(req.box)
        if req.points:
            name = POINT_SETTINGS.get(m.name)
            if name is None:
                raise ApiError(422, f"segment method '{m.name}' does not take points")
            given[name] = tuple(req.points[0]) if name == "point" else [tuple(p) for p in req.points]
        return given

    @staticmethod
    def _superpixel_labels(s: Session, m: registry.Method, settings: dict[str, Any]) -> np.ndarray:
        """The session's superpixel labels for these settings, computed once and kept."""
        kw = m.validate({"points": [(0, 0)], **settings}).kwargs()
        kw.pop("points", None)
        key = json.dumps(kw, sort_keys=True, default=str)
        if s.cache.get("superpixel_key") != key or "superpixel_labels" not in s.cache:
            s.cache.pop("superpixel_labels", None)
            s.cache["superpixel_labels"] = superpixel_labels(s.image, **kw)
            s.cache["superpixel_key"] = key
        return s.cache["superpixel_labels"]

    def _superpixel_pick(self, s: Session, m: registry.Method, settings: dict[str, Any]) -> np.ndarray:
        """``superpixels(image, points=...)`` with the label image kept between clicks."""
        m.validate(settings)
        labels = self._superpixel_labels(s, m, {k: v for k, v in settings.items() if k != "points"})
        pts = check_points(settings["points"], s.shape, "points")
        return np.isin(labels, np.unique(labels[pts[:, 1], pts[:, 0]]))

    @staticmethod
    def _click_object(s: Session, req: ClickRequest, fresh: bool) -> np.ndarray:
        """The object the clicks so far mark; a new click session when the settings change."""
        registry.get("segment", "clicks").validate({**req.settings, "clicks": []})
        if s.clicks is None or (fresh and req.settings != s.click_settings):
            s.clicks = None
            s.clicks = ClickSession(s.image, **req.settings)
            s.click_settings = dict(req.settings)
        if fresh:
            s.clicks.reset()
        return s.clicks.add(req.x, req.y, req.positive)


def _size(shape: tuple[int, ...]) -> str:
    return f"{shape[1]}x{shape[0]}"


_STROKE_REACH = 1_000_000
"""How far past the image's edges (in pixels) a brush stroke may go: the page sends the pointer's
position unclamped, and at the smallest zoom (0.02) a pointer a few thousand screen pixels off the
picture is some 10^5 image pixels away. Polygons and boxes arrive clamped, so they get one image size."""


def _within_reach(points: Any, shape: tuple[int, int], radius: float, what: str, *, reach: float | None = None) -> None:
    """Refuse (422) coordinates past the image's edges by more than ``reach`` (default: its own size) and ``radius``.

    A stroke or lasso dragged past the edge is fine; a point far beyond
    anything the page can send is not (and would overflow OpenCV's drawing,
    which works in 32-bit fixed point).
    """
    h, w = shape
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    reach_x = (w if reach is None else reach) + radius
    reach_y = (h if reach is None else reach) + radius
    far = (pts[:, 0] < -reach_x) | (pts[:, 0] > w + reach_x) | (pts[:, 1] < -reach_y) | (pts[:, 1] > h + reach_y)
    if far.any():
        x, y = pts[np.argmax(far)]
        limit = "one image width or height" if reach is None else f"{reach:,.0f} pixels"
        raise ApiError(
            422, f"{what} reaches ({x:g}, {y:g}), far outside the image ({_size(shape)}); "
            f"give points in image pixels, at most {limit} past its edges"
        )


def _misses(points: Any, shape: tuple[int, int], radius: float) -> bool:
    """Whether the points' bounding box, grown by ``radius``, misses the image entirely."""
    h, w = shape
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    (x0, y0), (x1, y1) = pts.min(axis=0) - radius, pts.max(axis=0) + radius
    return bool(x1 < 0 or y1 < 0 or x0 >= w or y0 >= h)


def _draw_shape(req: ShapeRequest, shape: tuple[int, int]) -> np.ndarray:
    """The rectangle, ellipse (in its box) or polygon of ``req`` as a bool mask of ``shape``."""
    h, w = shape
    canvas = np.zeros((h, w), np.uint8)
    if req.shape in ("rectangle", "ellipse"):
        if req.box is None:
            raise ApiError(422, f"a {req.shape} needs a box (x, y, width, height)")
        x, y, bw, bh = req.box
        if bw <= 0 or bh <= 0:
            raise ApiError(422, f"the box must have a positive width and height, got {bw:g}x{bh:g}")
        if x >= w or y >= h or x + bw <= 0 or y + bh <= 0:
            raise ApiError(
                422, f"the {req.shape}'s box ({x:g}, {y:g}, {bw:g}, {bh:g}) lies outside the image ({_size(shape)}); "
                "give x, y, width, height in pixels inside it"
            )
        if req.shape == "ellipse":
            _within_reach([(x, y), (x + bw, y + bh)], shape, 0, f"the {req.shape}'s box")
        if req.shape == "rectangle":
            x0, y0 = max(0, int(math.floor(x))), max(0, int(math.floor(y)))
            x1, y1 = min(w, int(math.ceil(x + bw))), min(h, int(math.ceil(y + bh)))
            canvas[y0:y1, x0:x1] = 1
        else:
            cv2.ellipse(canvas, ((x + bw / 2, y + bh / 2), (bw, bh), 0.0), 1, -1)
    else:
        if not req.points or len(req.points) < 3:
            raise ApiError(422, "a polygon needs at least 3 points")
        _within_reach(req.points, shape, 0, "the polygon")
        if _misses(req.points, shape, 0):
            raise ApiError(422, f"the polygon is outside the image ({_size(shape)}); nothing would be selected")
        pts = np.round(np.asarray(req.points, np.float64) * 16).astype(np.int32)
        cv2.fillPoly(canvas, [pts], 1, cv2.LINE_8, 4)
    return canvas.astype(bool)


def job_state(j: Job) -> JobState:
    return JobState(id=j.id, method=j.method, status=j.status, elapsed=round(j.elapsed(), 3), error=j.error)


def run_fill(s: Session, job: Job, settings: dict[str, Any], feather: float, mask: np.ndarray, version: int) -> None:
    """A fill job: fill ``mask`` (blended with a ``feather`` px soft edge) and apply it unless the image changed."""
    job.status = "running"
    job.started = time.monotonic()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            weight = registry.get("refine", "feather").func(mask, radius=feather) if feather > 0 else None
            result = fill(s.image, mask, method=job.method, settings=settings, weight=weight)
        with s.lock:
            if s.image_version != version:
                raise RetouchError("the image changed while filling; fill again")
            s.apply_fill(result, mask, f"fill ({job.method})")
        job.status = "done"
    except RetouchError as e:
        job.error, job.status = one_line(str(e)), "error"
    except Exception as e:  # a bug in a method must not take the server down
        if is_out_of_memory(e):
            job.error, job.status = out_of_memory_text(e, "select less or use a lighter method"), "error"
        else:
            log.error("fill with %s failed\n%s", job.method, traceback.format_exc())
            job.error, job.status = one_line(f"internal error in {job.method} ({type(e).__name__}: {e})"), "error"
    finally:
        job.finished = time.monotonic()
