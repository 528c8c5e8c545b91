"""The FastAPI application: a thin HTTP layer over the registry, sessions and io.

Every route that runs a method names it from :mod:`retouch.registry` and
validates its settings with that method's settings model, the one the CLI and
recipes use; a mistake is a 4xx JSON answer ``{"detail": "<one line>"}``.
The interactive API documentation is at ``/docs`` (OpenAPI at
``/openapi.json``), with every method's settings model listed as a schema.

>>> from retouch.web import create_app
>>> app = create_app()
>>> sorted(r.path for r in app.routes if r.path.startswith("/api/config"))
['/api/config']
"""

from __future__ import annotations

import asyncio
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
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any, Literal

import cv2
import numpy as np
from fastapi import FastAPI, File, Form, Path as PathParam, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from .. import __version__, io, registry
from ..validate import RetouchError, check_points
from . import imaging
from .store import Job, Session, SessionGone, SessionStore

__all__ = ["WebConfig", "create_app", "TOOLS"]

log = logging.getLogger("retouch.web")
STATIC = Path(__file__).parent / "static"
SWAGGER_UI = "swagger-ui-dist-5.35.0"
"""The vendored Swagger UI (npm swagger-ui-dist, pinned) behind /docs."""
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")
SID_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"
SID = Annotated[str, PathParam(pattern=SID_PATTERN, description="Session id from POST /api/sessions.")]
JOB_ID = Annotated[str, PathParam(pattern=r"^[0-9a-f]{16}$", description="Job id from POST /api/sessions/{sid}/fill.")]


# ============================================================================ configuration


class WebConfig(BaseModel):
    """Limits and sizes of a web-app server (``retouch serve`` options)."""

    model_config = ConfigDict(extra="forbid")
    max_upload_bytes: int = Field(100 * 2**20, ge=1024, description="Largest upload in bytes.")
    max_pixels: int = Field(100_000_000, ge=1, description="Largest image in pixels (width x height).")
    max_sessions: int = Field(8, ge=1, le=10_000, description="Most images held at once; the least recently used goes first.")
    max_memory_bytes: int = Field(2 * 2**30, ge=2**20, description="Most bytes all sessions may hold together (estimated).")
    session_ttl: float = Field(3600.0, gt=0, description="Seconds of idleness after which a session and its image are dropped.")
    preview_max_side: int = Field(2048, ge=64, le=16384, description="Longest side of the preview the browser shows.")
    history_depth: int = Field(50, ge=1, le=10_000, description="Most undo steps per session.")
    history_bytes: int = Field(256 * 2**20, ge=2**20, description="Most bytes the undo history of one session may hold.")
    fill_workers: int = Field(1, ge=1, le=64, description="Fills that may run at once.")
    sweep_seconds: float = Field(30.0, gt=0, description="How often idle sessions are looked for.")
    allowed_hosts: list[str] = Field(
        default_factory=lambda: list(LOOPBACK_NAMES),
        description="Host names the server answers to (the Host header); ['*'] for any. The loopback names by default, "
        "which stops web pages on other sites from reaching the app through DNS rebinding.",
    )


# ============================================================================ request / response models

Mode = Literal["add", "subtract", "intersect", "replace"]
Point = tuple[float, float]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class SegmentRequest(_Request):
    """Run a segmenter and combine its mask with the current one."""

    method: str = Field(description="A segment method: see GET /api/methods?kind=segment.", examples=["region_grow"])
    settings: dict[str, Any] = Field(default_factory=dict, description="The method's settings (its settings model; see the schemas *Settings).")
    mode: Mode = Field("add", description="How the new mask joins the current one.")
    box: tuple[float, float, float, float] | None = Field(None, description="A box (x, y, width, height) in image pixels, for methods that take one.")
    points: list[Point] | None = Field(None, max_length=10_000, description="Points (x, y) in image pixels: seeds, picked segments or foreground, as the method takes them.")


class ClickRequest(_Request):
    """One click of the click tool (positive on the object, negative on the background)."""

    x: float = Field(description="x in image pixels.")
    y: float = Field(description="y in image pixels.")
    positive: bool = True
    mode: Literal["add", "subtract"] = Field("add", description="Whether the clicked object is added to or cut from the mask.")
    new: bool = Field(False, description="Start a new object instead of correcting the current one.")
    settings: dict[str, Any] = Field(default_factory=dict, description="Settings of segment method 'clicks' (used when an object starts).")


class BrushRequest(_Request):
    """A brush or eraser stroke."""

    points: list[Point] = Field(min_length=1, max_length=50_000, description="The stroke's path (x, y) in image pixels.")
    radius: float = Field(gt=0, le=5000, description="Brush radius in image pixels.")
    mode: Literal["add", "subtract"] = "add"


class ShapeRequest(_Request):
    """A plain shape: rectangle, ellipse (in a box) or polygon (a lasso)."""

    shape: Literal["rectangle", "ellipse", "polygon"]
    box: tuple[float, float, float, float] | None = Field(None, description="(x, y, width, height) for rectangle and ellipse.")
    points: list[Point] | None = Field(None, max_length=50_000, description="Vertices (x, y) of the polygon.")
    mode: Mode = "add"


class RefineRequest(_Request):
    """Apply a refinement (grow, shrink, fill holes, remove small parts, ...) to the mask."""

    method: str = Field(description="A refine method: see GET /api/methods?kind=refine.", examples=["grow"])
    settings: dict[str, Any] = Field(default_factory=dict)


class FillRequest(_Request):
    """Fill the masked pixels."""

    method: str | None = Field(None, description="An inpaint method (default: auto when installed).")
    settings: dict[str, Any] = Field(default_factory=dict)
    feather: float = Field(0.0, ge=0, le=1000, description="Soft edge in pixels for blending the fill back (0: hard edge).")


class JobState(BaseModel):
    id: str
    method: str
    status: Literal["queued", "running", "done", "error"]
    elapsed: float
    error: str | None = None


class SessionState(BaseModel):
    """What the page needs to show a session."""

    id: str
    filename: str
    width: int
    height: int
    channels: int
    dtype: str
    format: str | None
    download_name: str
    preview_width: int
    preview_height: int
    scale: float = Field(description="Preview pixels per image pixel.")
    version: int
    image_version: int
    mask_pixels: int
    mask_fraction: float
    fills: int
    can_undo: bool
    can_redo: bool
    undo_label: str | None
    redo_label: str | None
    busy: bool
    job: JobState | None
    clicks: list[tuple[int, int, bool]] = Field(default_factory=list, description="Clicks of the object being marked.")
    message: str | None = None
    elapsed_ms: float | None = None


class MethodInfo(BaseModel):
    kind: str
    name: str
    summary: str
    settings: dict[str, Any] = Field(description="JSON schema of the method's settings model.")


class ToolInfo(BaseModel):
    id: str
    label: str
    key: str
    method: str | None
    methods: list[str] = Field(default_factory=list)
    hint: str


class Limits(BaseModel):
    max_upload_bytes: int
    max_pixels: int
    max_sessions: int
    max_memory_bytes: int
    session_ttl: float
    preview_max_side: int
    history_depth: int


class AppConfig(BaseModel):
    version: str
    limits: Limits
    tools: list[ToolInfo]
    default_inpaint: str
    methods: dict[str, list[MethodInfo]]
    initial_session: str | None


class Health(BaseModel):
    ok: bool
    sessions: int
    bytes: int
    dropped: int


class Histogram(BaseModel):
    counts: list[int] = Field(description="256 bins of luminance on a 0..255 scale.")
    otsu: float
    triangle: float
    pixels: int
    value_scale: float = Field(description="Multiply a 0..255 value by this for threshold's 'value' in the image's own scale.")


# ============================================================================ tools

DETECTORS = ("scratches", "spots", "text", "edges")

TOOLS: list[dict[str, Any]] = [
    {"id": "box", "label": "Box", "key": "b", "method": "grabcut", "hint": "Drag a box around the object; GrabCut finds it inside."},
    {"id": "clicks", "label": "Clicks", "key": "c", "method": "clicks", "hint": "Click the object (+); Alt-click or right-click what should not be in it (−). Enter starts a new object."},
    {"id": "wand", "label": "Magic wand", "key": "w", "method": "region_grow", "hint": "Click a region: it grows over similar colours within the tolerance."},
    {"id": "color", "label": "Colour pick", "key": "i", "method": "color_range", "hint": "Click a colour: every pixel of that colour within the tolerance is selected."},
    {"id": "threshold", "label": "Threshold", "key": "t", "method": "threshold", "hint": "Move the slider on the histogram, then Apply: pixels brighter (or darker) than it are selected."},
    {"id": "superpixel", "label": "Superpixel", "key": "s", "method": "superpixels", "hint": "Click superpixels to pick them."},
    {"id": "detect", "label": "Detect", "key": "d", "method": None, "hint": "Find scratches, dust spots or overlaid text automatically."},
    {"id": "lasso", "label": "Lasso", "key": "l", "method": None, "hint": "Draw around a region by hand."},
    {"id": "brush", "label": "Brush", "key": "p", "method": None, "hint": "Paint onto the mask; [ and ] change the size."},
    {"id": "eraser", "label": "Eraser", "key": "e", "method": None, "hint": "Erase from the mask; [ and ] change the size."},
]


def available_tools() -> list[dict[str, Any]]:
    """The tools whose methods are registered (box, lasso, brush and eraser always are)."""
    seg = set(registry.names("segment"))
    out = []
    for t in TOOLS:
        t = dict(t)
        if t["id"] == "detect":
            t["methods"] = [m for m in DETECTORS if m in seg]
            if not t["methods"]:
                continue
        elif t["id"] == "box":
            if "grabcut" not in seg:
                t["method"] = None  # a plain rectangle
                t["hint"] = "Drag a box: the rectangle is selected (GrabCut is not installed)."
        elif t["id"] == "clicks" and "clicks" not in seg and "grabcut" in seg:
            t["method"] = "grabcut"
            t["hint"] = "Click the object (+); Alt-click or right-click the background (−): GrabCut takes the clicks as seeds."
        elif t["method"] is not None and t["method"] not in seg:
            continue
        out.append(t)
    return out


# ============================================================================ errors


class ApiError(Exception):
    """An error answered as ``{"detail": message}`` with ``status``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _validation_text(exc: RequestValidationError) -> str:
    parts = []
    for e in exc.errors():
        loc = ".".join(str(x) for x in e.get("loc", ()) if x != "body") or "request"
        msg = e.get("msg", "invalid")
        got = e.get("input")
        got_text = "" if isinstance(got, (dict, list)) or got is None or e.get("type") == "missing" else f" (got {got!r})"
        parts.append(f"{loc}: {msg}{got_text}")
    return _one_line("; ".join(parts)) or "invalid request"


def _host_name(value: str) -> str:
    """'example.org:8765' -> 'example.org'; '[::1]:80' -> '::1'."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class _Guard:
    """Check every request before the app sees it.

    - the Host header must name an allowed host (DNS-rebinding guard);
    - a request that changes something and carries an Origin header must
      come from the page's own origin (cross-site request guard);
    - a body over the upload limit is refused (413) before it is read.
    """

    def __init__(self, app: Any, limit: int, allowed_hosts: list[str]):
        self.app = app
        self.limit = limit
        self.any_host = "*" in allowed_hosts
        self.hosts = {_host_name(h) for h in allowed_hosts}

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", ())}
        host = headers.get("host", "")
        if not self.any_host and _host_name(host) not in self.hosts:
            await JSONResponse({"detail": f"this server answers to {', '.join(sorted(self.hosts))}, not {host!r}"}, status_code=400)(scope, receive, send)
            return
        if scope.get("method") not in ("POST", "PUT", "PATCH", "DELETE"):
            await self.app(scope, receive, send)
            return
        origin = headers.get("origin")
        if origin is not None and origin.split("://", 1)[-1].rstrip("/").lower() != host.lower():
            await JSONResponse({"detail": f"cross-site request from {origin} refused; use the page this server serves"}, status_code=403)(scope, receive, send)
            return
        message = f"the upload is larger than this server's limit of {self.limit / 2**20:.1f} MiB; start the server with a larger --max-upload-mb"
        with contextlib.suppress(ValueError):
            if int(headers.get("content-length", "0")) > self.limit + 64 * 1024:
                await JSONResponse({"detail": message}, status_code=413)(scope, receive, send)
                return
        received = 0

        async def limited() -> dict:
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > self.limit + 64 * 1024:
                    raise HTTPException(413, message)
            return msg

        await self.app(scope, limited, send)


# ============================================================================ the app


def create_app(config: WebConfig | None = None, *, image: str | os.PathLike[str] | None = None) -> FastAPI:
    """Build the web app.

    Parameters
    ----------
    config : WebConfig, optional
        Limits and sizes (defaults: 100 MiB uploads, 100 megapixels, 8
        sessions, 2 GiB for all sessions, one hour idle time).
    image : path, optional
        An image file named by the person starting the server (never by a
        client) to open in a first session.

    Returns
    -------
    FastAPI
        The application; serve it with uvicorn.
    """
    cfg = config or WebConfig()
    store = SessionStore(max_sessions=cfg.max_sessions, max_bytes=cfg.max_memory_bytes, ttl=cfg.session_ttl)
    executor = ThreadPoolExecutor(max_workers=cfg.fill_workers, thread_name_prefix="retouch-fill")
    upload_dir = Path(tempfile.mkdtemp(prefix="retouch-uploads-"))
    os.chmod(upload_dir, 0o700)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        async def sweeper() -> None:
            while True:
                await asyncio.sleep(cfg.sweep_seconds)
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(store.sweep)

        task = asyncio.create_task(sweeper())
        try:
            yield
        finally:
            task.cancel()
            executor.shutdown(wait=False, cancel_futures=True)
            shutil.rmtree(upload_dir, ignore_errors=True)

    app = FastAPI(
        title="retouch",
        version=__version__,
        summary="Mark what should go in a photo, refine the mask, fill the hole.",
        description=(
            "The local web app of retouch. Open an image (POST /api/sessions), mark a mask with the "
            "segmenters of the registry, refine it, fill it, download the result. Every method's settings "
            "are validated by the same settings models as the CLI and recipes (schemas named *Settings below). "
            "Coordinates are image pixels (x, y); boxes are (x, y, width, height). Errors are JSON "
            '`{"detail": "one line"}` with a 4xx status.'
        ),
        lifespan=lifespan,
        docs_url=None,  # served below from the vendored Swagger UI, not from a CDN
        redoc_url=None,
    )
    weakref.finalize(app, shutil.rmtree, upload_dir, True)  # also when the app is never started
    app.state.config = cfg
    app.state.store = store
    app.state.executor = executor
    app.state.initial_session = None
    app.add_middleware(_Guard, limit=cfg.max_upload_bytes, allowed_hosts=cfg.allowed_hosts)

    # ------------------------------------------------------------------ error handlers
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"detail": _one_line(exc.message)}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_text(exc)}, status_code=422)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"detail": _one_line(str(exc.detail))}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error on %s %s\n%s", request.method, request.url.path, "".join(traceback.format_exception(exc)))
        return JSONResponse({"detail": _one_line(f"internal error ({type(exc).__name__}: {exc}); the server keeps running")}, status_code=500)

    # ------------------------------------------------------------------ helpers
    def session_of(sid: str) -> Session:
        try:
            return store.get(sid)
        except SessionGone:
            raise ApiError(404, "this image session is unknown or has expired (sessions are dropped after idle time or when memory runs short); open the image again") from None

    def not_busy(s: Session) -> None:
        if s.busy:
            raise ApiError(409, "a fill is running on this image; wait for it to finish")

    def method_of(kind: str, name: str) -> registry.Method:
        try:
            return registry.get(kind, name)
        except RetouchError as e:
            raise ApiError(422, str(e)) from None

    def state(s: Session, message: str | None = None, elapsed: float | None = None) -> SessionState:
        h, w = s.shape
        scale = imaging.preview_scale(s.shape, cfg.preview_max_side)
        pw, ph = imaging.preview_size(s.shape, scale)
        n = int(np.count_nonzero(s.mask))
        job = s.job
        stem = s.filename.rsplit(".", 1)[0] if "." in s.filename else s.filename
        return SessionState(
            id=s.id,
            filename=s.filename,
            width=w,
            height=h,
            channels=1 if s.image.ndim == 2 else int(s.image.shape[2]),
            dtype=str(s.image.dtype),
            format=s.info.format,
            download_name=f"{stem}.retouched{imaging.download_ext(s.info, s.image)}",
            preview_width=pw,
            preview_height=ph,
            scale=pw / w,
            version=s.version,
            image_version=s.image_version,
            mask_pixels=n,
            mask_fraction=n / float(h * w),
            fills=s.fills,
            can_undo=bool(s.undo_stack),
            can_redo=bool(s.redo_stack),
            undo_label=s.undo_stack[-1].label if s.undo_stack else None,
            redo_label=s.redo_stack[-1].label if s.redo_stack else None,
            busy=s.busy,
            job=job_state(job) if job else None,
            clicks=list(s.click_run["points"]) if s.click_run is not None else [],
            message=message,
            elapsed_ms=None if elapsed is None else round(elapsed * 1000, 1),
        )

    def job_state(j: Job) -> JobState:
        return JobState(id=j.id, method=j.method, status=j.status, elapsed=round(j.elapsed(), 3), error=j.error)

    def combine(current: np.ndarray, new: np.ndarray, mode: str) -> np.ndarray:
        if mode == "add":
            return current | new
        if mode == "subtract":
            return current & ~new
        if mode == "intersect":
            return current & new
        return new.copy()

    def end_click_run(s: Session) -> None:
        s.click_run = None

    def read_upload(file: UploadFile, what: str) -> tuple[Path, str]:
        display = imaging.sanitize_filename(file.filename, what)
        fd, tmp = tempfile.mkstemp(dir=upload_dir, suffix=".upload")
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                while True:
                    chunk = file.file.read(1 << 20)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > cfg.max_upload_bytes:
                        raise ApiError(413, f"{display} is larger than this server's limit of {cfg.max_upload_bytes / 2**20:.1f} MiB; start the server with a larger --max-upload-mb")
                    out.write(chunk)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        if size == 0:
            os.unlink(tmp)
            raise ApiError(400, f"{display} is empty (0 bytes); choose an image file")
        return Path(tmp), display

    def new_session(image: np.ndarray, info: io.ImageInfo, name: str) -> Session:
        s = Session(image, info, name, history_depth=cfg.history_depth, history_bytes=cfg.history_bytes)
        need = s.nbytes()
        if need > cfg.max_memory_bytes:
            raise ApiError(413, f"{name} needs about {need / 2**20:.0f} MiB, more than this server's session memory of {cfg.max_memory_bytes / 2**20:.0f} MiB; start it with a larger --memory-mb")
        return store.add(s)

    def decode(tmp: Path, display: str) -> tuple[np.ndarray, io.ImageInfo]:
        try:
            return imaging.decode_upload(tmp, display, max_pixels=cfg.max_pixels)
        except imaging.UploadTooLarge as e:
            raise ApiError(413, str(e)) from None
        except RetouchError as e:
            raise ApiError(400, str(e)) from None
        except MemoryError:
            raise ApiError(413, f"{display} is too large to open with the memory this server has") from None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    if image is not None:
        img, info = io.read_with_info(image, max_pixels=cfg.max_pixels)
        try:
            first = new_session(img, info, imaging.sanitize_filename(Path(image).name))
        except ApiError as e:
            raise RetouchError(e.message) from None
        app.state.initial_session = first.id

    # ------------------------------------------------------------------ page
    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> Response:
        from fastapi.openapi.docs import get_swagger_ui_html

        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="retouch API",
            swagger_js_url=f"/static/vendor/{SWAGGER_UI}/swagger-ui-bundle.js",
            swagger_css_url=f"/static/vendor/{SWAGGER_UI}/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
            swagger_ui_parameters={"validatorUrl": None, "defaultModelsExpandDepth": 1, "tryItOutEnabled": True},
        )

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return RedirectResponse("/static/favicon.svg")

    # ------------------------------------------------------------------ info
    @app.get("/api/health", response_model=Health, tags=["info"], summary="Server health and memory held")
    def health() -> Health:
        store.sweep()
        return Health(ok=True, sessions=len(store), bytes=store.total_bytes(), dropped=store.dropped)

    @app.get("/api/config", response_model=AppConfig, tags=["info"], summary="Tools, methods and limits for the page")
    def get_config() -> AppConfig:
        from ..pipeline import DEFAULT_INPAINT

        init = app.state.initial_session if app.state.initial_session in store else None
        return AppConfig(
            version=__version__,
            limits=Limits(**{k: getattr(cfg, k) for k in Limits.model_fields}),
            tools=[ToolInfo(**t) for t in available_tools()],
            default_inpaint=DEFAULT_INPAINT,
            methods={k: [method_info(m) for m in registry.methods(k)] for k in registry.KINDS},
            initial_session=init,
        )

    def method_info(m: registry.Method) -> MethodInfo:
        return MethodInfo(kind=m.kind, name=m.name, summary=m.summary, settings=m.settings.model_json_schema())

    @app.get("/api/methods", response_model=list[MethodInfo], tags=["info"], summary="Registered methods with their settings schemas")
    def list_methods(kind: Annotated[Literal["segment", "refine", "inpaint"] | None, Query(description="Only this kind.")] = None) -> list[MethodInfo]:
        return [method_info(m) for m in registry.methods(kind)]

    @app.get("/api/methods/{kind}/{name}", response_model=MethodInfo, tags=["info"], summary="One method and its settings schema")
    def one_method(kind: Literal["segment", "refine", "inpaint"], name: str) -> MethodInfo:
        try:
            return method_info(registry.get(kind, name))
        except RetouchError as e:
            raise ApiError(404, str(e)) from None

    # ------------------------------------------------------------------ sessions
    @app.post("/api/sessions", response_model=SessionState, status_code=201, tags=["sessions"], summary="Open an image (multipart upload)")
    def upload(file: Annotated[UploadFile, File(description="PNG, JPEG, TIFF, BMP or WebP; 8 or 16 bit, grey, RGB or RGBA.")]) -> SessionState:
        tmp, display = read_upload(file, "image")
        img, info = decode(tmp, display)
        s = new_session(img, info, display)
        return state(s, f"opened {display} ({s.shape[1]}x{s.shape[0]})")

    @app.get("/api/sessions/{sid}", response_model=SessionState, tags=["sessions"], summary="State of a session")
    def get_session(sid: SID) -> SessionState:
        s = session_of(sid)
        with s.lock:
            return state(s)

    @app.delete("/api/sessions/{sid}", status_code=204, tags=["sessions"], summary="Close a session and drop its image")
    def delete_session(sid: SID) -> Response:
        if not store.drop(sid):
            raise ApiError(404, "this image session is unknown or has expired")
        return Response(status_code=204)

    @app.get("/api/sessions/{sid}/preview", tags=["images"], summary="Downscaled preview (JPEG, or PNG with alpha)", response_class=Response,
             responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}})
    def preview(sid: SID, which: Literal["current", "original"] = "current", v: int | None = None) -> Response:
        s = session_of(sid)
        with s.lock:
            scale = imaging.preview_scale(s.shape, cfg.preview_max_side)
            key = "preview" if (which == "current" and s.image_version != 0) else "original_preview"
            if key not in s.cache:
                if key == "original_preview" and s.image_version != 0:
                    raise ApiError(404, "the preview of the original is gone")
                s.cache[key] = imaging.preview_bytes(s.image, scale)
            data, media = s.cache[key]
        return Response(data, media_type=media, headers={"Cache-Control": "no-store"})

    @app.get("/api/sessions/{sid}/overlay", tags=["images"], summary="The mask as a transparent PNG at preview size", response_class=Response,
             responses={200: {"content": {"image/png": {}}}})
    def overlay(sid: SID, v: int | None = None) -> Response:
        s = session_of(sid)
        with s.lock:
            mask = s.mask
        data = imaging.overlay_png(mask, imaging.preview_scale(s.shape, cfg.preview_max_side))
        return Response(data, media_type="image/png", headers={"Cache-Control": "no-store"})

    @app.get("/api/sessions/{sid}/histogram", response_model=Histogram, tags=["images"], summary="Luminance histogram for the threshold tool")
    def get_histogram(sid: SID) -> Histogram:
        s = session_of(sid)
        with s.lock:
            if "histogram" not in s.cache:
                s.cache["histogram"] = imaging.histogram(s.image)
            h = dict(s.cache["histogram"])
            scale = {"uint8": 1.0, "uint16": 257.0}.get(str(s.image.dtype), 1.0 / 255.0)
        return Histogram(**h, value_scale=scale)

    # ------------------------------------------------------------------ marking
    def ui_inputs(m: registry.Method, req: SegmentRequest) -> dict[str, Any]:
        fields = m.settings.model_fields
        given: dict[str, Any] = {}
        if req.box is not None:
            if "box" not in fields:
                raise ApiError(422, f"segment method '{m.name}' does not take a box")
            given["box"] = tuple(req.box)
        if req.points:
            for name in ("seeds", "points", "foreground", "point"):
                if name in fields:
                    given[name] = [tuple(p) for p in req.points] if name != "point" else tuple(req.points[0])
                    break
            else:
                raise ApiError(422, f"segment method '{m.name}' does not take points")
        return given

    def superpixel_labels_of(s: Session, m: registry.Method, settings: dict[str, Any]) -> np.ndarray:
        """The session's superpixel labels for these settings, computed once and kept."""
        from ..segment.superpixels import superpixel_labels

        kw = m.validate({"points": [(0, 0)], **settings}).kwargs()
        kw.pop("points", None)
        key = json.dumps(kw, sort_keys=True, default=str)
        if s.cache.get("superpixel_key") != key or "superpixel_labels" not in s.cache:
            s.cache.pop("superpixel_labels", None)
            s.cache["superpixel_labels"] = superpixel_labels(s.image, **kw)
            s.cache["superpixel_key"] = key
        return s.cache["superpixel_labels"]

    def superpixel_pick(s: Session, m: registry.Method, settings: dict[str, Any]) -> np.ndarray:
        """superpixels(image, points=...) with the label image kept between clicks."""
        try:
            from ..segment.superpixels import superpixel_labels  # noqa: F401
        except ImportError:
            return m(s.image, settings=settings)
        m.validate(settings)
        rest = {k: v for k, v in settings.items() if k != "points"}
        labels = superpixel_labels_of(s, m, rest)
        pts = check_points(settings["points"], s.shape, "points")
        return np.isin(labels, np.unique(labels[pts[:, 1], pts[:, 0]]))

    @app.get("/api/sessions/{sid}/superpixels/outline", tags=["images"], summary="Superpixel borders as a transparent PNG at preview size", response_class=Response,
             responses={200: {"content": {"image/png": {}}}})
    def superpixel_outline(
        sid: SID,
        settings: Annotated[str, Query(description='Settings of segment method \'superpixels\' as JSON, e.g. {"n_segments": 800}.')] = "{}",
    ) -> Response:
        s = session_of(sid)
        m = method_of("segment", "superpixels")
        try:
            given = json.loads(settings)
        except json.JSONDecodeError as e:
            raise ApiError(422, f"settings must be a JSON object: {e}") from None
        if not isinstance(given, dict):
            raise ApiError(422, "settings must be a JSON object")
        given.pop("points", None)
        with s.lock:
            not_busy(s)
            try:
                labels = superpixel_labels_of(s, m, given)
            except RetouchError as e:
                raise ApiError(422, str(e)) from None
        data = imaging.outline_png(labels, imaging.preview_scale(s.shape, cfg.preview_max_side))
        return Response(data, media_type="image/png", headers={"Cache-Control": "no-store"})

    @app.post("/api/sessions/{sid}/segment", response_model=SessionState, tags=["mask"], summary="Run a segmenter (box, wand, colour, threshold, superpixels, detectors, ...)")
    def segment(sid: SID, req: SegmentRequest) -> SessionState:
        s = session_of(sid)
        m = method_of("segment", req.method)
        settings = {**req.settings, **ui_inputs(m, req)}
        with s.lock:
            not_busy(s)
            t0 = time.perf_counter()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if m.name == "superpixels" and "points" in settings:
                        new = superpixel_pick(s, m, settings)
                    else:
                        new = m(s.image, settings=settings)
            except RetouchError as e:
                raise ApiError(422, str(e)) from None
            end_click_run(s)
            changed = s.set_mask(combine(s.mask, new, req.mode), f"{m.name} ({req.mode})")
            dt = time.perf_counter() - t0
            msg = f"{m.name}: {int(new.sum())} pixels found" + ("" if changed else "; the mask did not change")
            return state(s, msg, dt)

    @app.post("/api/sessions/{sid}/clicks", response_model=SessionState, tags=["mask"], summary="One positive or negative click of the click tool")
    def click(sid: SID, req: ClickRequest) -> SessionState:
        s = session_of(sid)
        seg = registry.names("segment")
        engine = "clicks" if "clicks" in seg else ("grabcut" if "grabcut" in seg else None)
        if engine is None:
            raise ApiError(404, "neither the click segmenter nor GrabCut is installed; use the magic wand or the brush")
        with s.lock:
            not_busy(s)
            t0 = time.perf_counter()
            run = s.click_run
            fresh = req.new or run is None or run["mode"] != req.mode
            if fresh and not req.positive:
                raise ApiError(422, "start an object with a positive click (on the object), then correct it with negative clicks")
            try:
                check_points([(req.x, req.y)], s.shape, "the click")
                if fresh:
                    run = {"base": s.mask.copy(), "mode": req.mode, "id": time.monotonic_ns(), "points": []}
                point = (int(round(req.x)), int(round(req.y)), bool(req.positive))
                if engine == "clicks":
                    from ..segment.clicks import ClickSession

                    registry.get("segment", "clicks").validate({**req.settings, "clicks": []})
                    if s.clicks is None or (fresh and req.settings != s.click_settings):
                        s.clicks = None
                        s.clicks = ClickSession(s.image, **req.settings)
                        s.click_settings = dict(req.settings)
                    if fresh:
                        s.clicks.reset()
                    m = s.clicks.add(req.x, req.y, req.positive)
                else:  # GrabCut with the clicks as sure foreground / background seeds
                    points = run["points"] + [point]
                    settings = {**req.settings, "foreground": [(x, y) for x, y, p in points if p], "background": [(x, y) for x, y, p in points if not p]}
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        m = registry.get("segment", "grabcut")(s.image, settings=settings)
            except RetouchError as e:
                raise ApiError(422, str(e)) from None
            run["points"] = run["points"] + [point]
            s.click_run = run
            tag = ("clicks", run["id"])
            new = combine(run["base"], m, req.mode)
            label = f"{'+' if req.positive else '−'} click"
            if not s.set_mask(new, label, tag=tag):
                s.push(label, tag=tag)  # every click is a step, so undo follows the clicks
                s.version += 1
            return state(s, f"click {len(run['points'])} ({engine}): {int(m.sum())} pixels in the object", time.perf_counter() - t0)

    @app.delete("/api/sessions/{sid}/clicks", response_model=SessionState, tags=["mask"], summary="Finish the current click object (the next click starts a new one)")
    def end_clicks(sid: SID) -> SessionState:
        s = session_of(sid)
        with s.lock:
            end_click_run(s)
            return state(s, "the next click starts a new object")

    @app.post("/api/sessions/{sid}/brush", response_model=SessionState, tags=["mask"], summary="Paint or erase a stroke")
    def brush(sid: SID, req: BrushRequest) -> SessionState:
        s = session_of(sid)
        with s.lock:
            not_busy(s)
            t0 = time.perf_counter()
            stroke = imaging.stroke_mask(s.shape, req.points, req.radius)
            end_click_run(s)
            what = "brush" if req.mode == "add" else "eraser"
            s.set_mask(combine(s.mask, stroke, req.mode), what)
            return state(s, f"{what}: {int(stroke.sum())} pixels", time.perf_counter() - t0)

    @app.post("/api/sessions/{sid}/shape", response_model=SessionState, tags=["mask"], summary="Select a rectangle, ellipse or polygon (lasso)")
    def shape(sid: SID, req: ShapeRequest) -> SessionState:
        s = session_of(sid)
        with s.lock:
            not_busy(s)
            h, w = s.shape
            canvas = np.zeros((h, w), np.uint8)
            if req.shape in ("rectangle", "ellipse"):
                if req.box is None:
                    raise ApiError(422, f"a {req.shape} needs a box (x, y, width, height)")
                x, y, bw, bh = req.box
                if bw <= 0 or bh <= 0:
                    raise ApiError(422, f"the box must have a positive width and height, got {bw:g}x{bh:g}")
                if req.shape == "rectangle":
                    x0, y0 = max(0, int(math.floor(x))), max(0, int(math.floor(y)))
                    x1, y1 = min(w, int(math.ceil(x + bw))), min(h, int(math.ceil(y + bh)))
                    canvas[y0:y1, x0:x1] = 1
                else:
                    cv2.ellipse(canvas, ((x + bw / 2, y + bh / 2), (bw, bh), 0.0), 1, -1)
            else:
                if not req.points or len(req.points) < 3:
                    raise ApiError(422, "a polygon needs at least 3 points")
                pts = np.round(np.asarray(req.points, np.float64) * 16).astype(np.int32)
                cv2.fillPoly(canvas, [pts], 1, cv2.LINE_8, 4)
            end_click_run(s)
            s.set_mask(combine(s.mask, canvas.astype(bool), req.mode), f"{req.shape} ({req.mode})")
            return state(s, f"{req.shape}: {int(np.count_nonzero(canvas))} pixels ({req.mode})")

    @app.post("/api/sessions/{sid}/refine", response_model=SessionState, tags=["mask"], summary="Grow, shrink, fill holes, remove small parts, smooth, invert, ...")
    def refine(sid: SID, req: RefineRequest) -> SessionState:
        s = session_of(sid)
        if req.method == "feather":
            raise ApiError(422, "feather makes a soft edge for blending the fill; give it as 'feather' in the fill request")
        m = method_of("refine", req.method)
        with s.lock:
            not_busy(s)
            t0 = time.perf_counter()
            try:
                new = m(s.mask, settings=req.settings)
            except RetouchError as e:
                raise ApiError(422, str(e)) from None
            end_click_run(s)
            changed = s.set_mask(new, m.name.replace("_", " "))
            return state(s, None if changed else f"{m.name}: the mask did not change", time.perf_counter() - t0)

    @app.post("/api/sessions/{sid}/mask/clear", response_model=SessionState, tags=["mask"], summary="Clear the mask")
    def clear(sid: SID) -> SessionState:
        s = session_of(sid)
        with s.lock:
            not_busy(s)
            end_click_run(s)
            s.set_mask(np.zeros(s.shape, bool), "clear")
            return state(s, "mask cleared")

    @app.post("/api/sessions/{sid}/mask", response_model=SessionState, tags=["mask"], summary="Load a mask file (white = selected)")
    def load_mask(sid: SID, file: Annotated[UploadFile, File(description="A mask image of the image's size; non-zero = selected.")],
                  mode: Annotated[Mode, Form()] = "replace") -> SessionState:
        s = session_of(sid)
        tmp, display = read_upload(file, "mask")
        try:
            mask = imaging.decode_mask_upload(tmp, display, s.shape, max_pixels=cfg.max_pixels)
        except imaging.UploadTooLarge as e:
            raise ApiError(413, str(e)) from None
        except RetouchError as e:
            raise ApiError(400, str(e)) from None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        with s.lock:
            not_busy(s)
            end_click_run(s)
            s.set_mask(combine(s.mask, mask, mode), f"mask file ({mode})")
            return state(s)

    # ------------------------------------------------------------------ history
    @app.post("/api/sessions/{sid}/undo", response_model=SessionState, tags=["history"], summary="Undo the last mask or fill step")
    def undo(sid: SID) -> SessionState:
        s = session_of(sid)
        with s.lock:
            not_busy(s)
            run = s.click_run
            e = s.undo()
            if e is None:
                return state(s, "nothing to undo")
            if run is not None and e.tag == ("clicks", run["id"]) and run["points"]:
                run["points"] = run["points"][:-1]
                if s.clicks is not None and s.clicks.clicks:
                    s.clicks.undo()
                if not run["points"]:
                    end_click_run(s)
            else:
                end_click_run(s)
            return state(s, f"undid {e.label}")

    @app.post("/api/sessions/{sid}/redo", response_model=SessionState, tags=["history"], summary="Redo the last undone step")
    def redo(sid: SID) -> SessionState:
        s = session_of(sid)
        with s.lock:
            not_busy(s)
            e = s.redo()
            end_click_run(s)
            return state(s, "nothing to redo" if e is None else f"redid {e.label}")

    # ------------------------------------------------------------------ fill
    def run_fill(s: Session, job: Job, m: registry.Method, settings: dict[str, Any], feather: float, mask: np.ndarray, version: int) -> None:
        job.status = "running"
        job.started = time.monotonic()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = m.func(s.image, mask, **settings)
                if feather > 0:
                    from ..inpaint import blend

                    weight = registry.get("refine", "feather").func(mask, radius=feather)
                    result = blend(s.image, result, weight)
            with s.lock:
                if s.image_version != version:
                    raise RetouchError("the image changed while filling; fill again")
                s.apply_fill(result, mask, f"fill ({m.name})")
            job.status = "done"
        except RetouchError as e:
            job.error, job.status = _one_line(str(e)), "error"
        except MemoryError:
            job.error, job.status = "not enough memory to fill this mask; select less or use a lighter method", "error"
        except Exception as e:  # a bug in a method must not take the server down
            log.error("fill with %s failed\n%s", m.name, traceback.format_exc())
            job.error, job.status = _one_line(f"internal error in {m.name} ({type(e).__name__}: {e})"), "error"
        finally:
            job.finished = time.monotonic()

    @app.post("/api/sessions/{sid}/fill", response_model=JobState, status_code=202, tags=["fill"], summary="Start filling the mask (poll the job)")
    def fill(sid: SID, req: FillRequest) -> JobState:
        from ..pipeline import DEFAULT_INPAINT

        s = session_of(sid)
        m = method_of("inpaint", req.method or DEFAULT_INPAINT)
        try:
            settings = m.validate(req.settings).kwargs()
        except RetouchError as e:
            raise ApiError(422, str(e)) from None
        with s.lock:
            not_busy(s)
            if not s.mask.any():
                raise ApiError(422, "the mask is empty: mark what should go first")
            if s.mask.all():
                raise ApiError(422, "the mask covers the whole image, so there is nothing to fill from; leave some pixels unmarked")
            if "original_preview" not in s.cache and s.image_version == 0:
                s.cache["original_preview"] = imaging.preview_bytes(s.image, imaging.preview_scale(s.shape, cfg.preview_max_side))
            end_click_run(s)
            job = Job(id=os.urandom(8).hex(), method=m.name)
            s.job = job
            s.jobs = {k: v for k, v in list(s.jobs.items())[-7:]}
            s.jobs[job.id] = job
            executor.submit(run_fill, s, job, m, settings, req.feather, s.mask.copy(), s.image_version)
            return job_state(job)

    @app.get("/api/sessions/{sid}/jobs/{job_id}", response_model=JobState, tags=["fill"], summary="Progress of a fill")
    def get_job(sid: SID, job_id: JOB_ID) -> JobState:
        s = session_of(sid)
        job = s.jobs.get(job_id)
        if job is None:
            raise ApiError(404, f"no fill job {job_id} in this session")
        return job_state(job)

    # ------------------------------------------------------------------ downloads
    def attachment(name: str) -> dict[str, str]:
        return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}

    @app.get("/api/sessions/{sid}/download/image", tags=["downloads"], summary="The result, in the upload's format and bit depth", response_class=Response,
             responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "image/tiff": {}, "image/webp": {}, "image/bmp": {}}}})
    def download_image(sid: SID) -> Response:
        s = session_of(sid)
        with s.lock:
            not_busy(s)
            image, info, name = s.image.copy(), s.info, s.filename
        data, ext, media = imaging.encode_image(image, info)
        stem = name.rsplit(".", 1)[0] if "." in name else name
        return Response(data, media_type=media, headers=attachment(f"{stem}.retouched{ext}"))

    @app.get("/api/sessions/{sid}/download/mask", tags=["downloads"], summary="A mask as an 8-bit PNG (white = selected / filled)", response_class=Response,
             responses={200: {"content": {"image/png": {}}}})
    def download_mask(
        sid: SID,
        which: Annotated[Literal["auto", "current", "filled"], Query(description="current: the mask now; filled: every pixel filled so far; auto: current if not empty, else filled.")] = "auto",
    ) -> Response:
        s = session_of(sid)
        with s.lock:
            filled = s.filled if s.filled is not None else np.zeros(s.shape, bool)
            if which == "current" or (which == "auto" and s.mask.any()):
                mask, what = s.mask, "mask"
            else:
                mask, what = filled, "filled"
            name = s.filename
        stem = name.rsplit(".", 1)[0] if "." in name else name
        return Response(imaging.encode_mask(mask), media_type="image/png", headers=attachment(f"{stem}.{what}.png"))

    # ------------------------------------------------------------------ OpenAPI with the settings models
    def custom_openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, summary=app.summary, description=app.description, routes=app.routes, tags=[
            {"name": "sessions", "description": "Open an image; the server holds it for the session."},
            {"name": "mask", "description": "Mark what should go: every tool adds to or subtracts from the mask."},
            {"name": "history", "description": "Undo and redo over every mask and fill step."},
            {"name": "fill", "description": "Fill the mask in the background and poll its progress."},
            {"name": "images", "description": "Previews, overlay and histogram for the page."},
            {"name": "downloads", "description": "The result and the mask."},
            {"name": "info", "description": "Methods, tools and limits."},
        ])
        comps = schema.setdefault("components", {}).setdefault("schemas", {})
        refs: dict[str, list[dict[str, str]]] = {}
        for m in registry.methods():
            name = f"{m.kind.capitalize()}{m.settings.__name__}"
            sub = m.settings.model_json_schema(ref_template="#/components/schemas/{model}")
            for dname, d in sub.pop("$defs", {}).items():
                comps.setdefault(dname, d)
            sub["title"] = f"{m.kind} method '{m.name}'"
            sub["description"] = f"{m.summary} (settings of {m.kind} method '{m.name}')"
            comps[name] = sub
            refs.setdefault(m.kind, []).append({"$ref": f"#/components/schemas/{name}"})
        for model, kind in (("SegmentRequest", "segment"), ("RefineRequest", "refine"), ("FillRequest", "inpaint"), ("ClickRequest", "segment")):
            props = comps.get(model, {}).get("properties", {})
            if "settings" in props and refs.get(kind):
                options = refs[kind] if model != "ClickRequest" else [r for r in refs[kind] if r["$ref"].endswith("ClicksSettings")]
                props["settings"] = {
                    "description": props["settings"].get("description", "") + " One of the settings models below, chosen by 'method'.",
                    "anyOf": options or [{"type": "object"}],
                    "default": {},
                }
        app.openapi_schema = schema
        return schema

    app.openapi = custom_openapi  # type: ignore[method-assign]
    return app
