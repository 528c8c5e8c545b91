"""What a web-app server is set up with: its limits (``retouch serve`` options) and the page's tools."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["WebConfig", "TOOLS", "DETECTORS", "POINT_SETTINGS", "LOOPBACK_NAMES", "available_tools"]

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")


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


DETECTORS = ("damage", "scratches", "spots", "text", "edges")
"""The segment methods the detect tool offers: they need no input but the image."""

TOOLS: list[dict[str, Any]] = [
    {"id": "box", "label": "Box", "key": "b", "method": "grabcut", "hint": "Drag a box around the object; GrabCut finds it inside."},
    {"id": "clicks", "label": "Clicks", "key": "c", "method": "clicks", "hint": "Click the object (+); Alt-click or right-click what should not be in it (−). Enter starts a new object."},
    {"id": "wand", "label": "Magic wand", "key": "w", "method": "region_grow", "hint": "Click a region: it grows over similar colours within the tolerance."},
    {"id": "color", "label": "Colour pick", "key": "i", "method": "color_range", "hint": "Click a colour: every pixel of that colour within the tolerance is selected."},
    {"id": "threshold", "label": "Threshold", "key": "t", "method": "threshold", "hint": "Move the slider on the histogram, then Apply: pixels brighter (or darker) than it are selected."},
    {"id": "superpixel", "label": "Superpixel", "key": "s", "method": "superpixels", "hint": "Click superpixels to pick them."},
    {"id": "detect", "label": "Detect", "key": "d", "method": None, "hint": "Find damage (cracks, scratches, hair, dust, losses; one category or all), dust spots or overlaid text automatically."},
    {"id": "lasso", "label": "Lasso", "key": "l", "method": None, "hint": "Draw around a region by hand."},
    {"id": "brush", "label": "Brush", "key": "p", "method": None, "hint": "Paint onto the mask; [ and ] change the size."},
    {"id": "eraser", "label": "Eraser", "key": "e", "method": None, "hint": "Erase from the mask; [ and ] change the size."},
]
"""The page's tools; ``method`` is the segment method a tool runs (None: drawn on the page)."""

POINT_SETTINGS = {"region_grow": "seeds", "color_range": "point", "superpixels": "points", "grabcut": "foreground"}
"""The setting of each segment method that takes the points clicked on the page (a segment
request's ``points``): the wand's seeds, the colour pick's one point, the superpixels picked,
GrabCut's sure foreground. A method not named here takes no points."""


def available_tools() -> list[dict[str, Any]]:
    """The page's tools, the detect tool with its methods (every method a tool names ships with retouch)."""
    return [dict(t, methods=list(DETECTORS)) if t["id"] == "detect" else dict(t) for t in TOOLS]
