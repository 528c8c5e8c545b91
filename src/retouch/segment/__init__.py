"""Segmentation: every way of saying which pixels should go.

Each function takes an image (grey, RGB or RGBA; uint8, uint16 or float32)
and keyword settings, and returns a bool ``H x W`` mask, True = fill.
"""

from .clicks import ClickSession, clicks  # noqa: E402

__all__: list[str] = ["clicks", "ClickSession"]
