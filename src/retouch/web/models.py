"""The web API's request and response models (their JSON schemas are the OpenAPI document's)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Mode", "Point", "SegmentRequest", "ClickRequest", "BrushRequest", "ShapeRequest", "RefineRequest", "FillRequest",
    "JobState", "SessionState", "MethodInfo", "ToolInfo", "Limits", "AppConfig", "Health", "Histogram",
]

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

    method: str | None = Field(None, description="An inpaint method (default: auto).")
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
