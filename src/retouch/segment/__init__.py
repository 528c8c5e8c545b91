"""Segmentation: every way of saying which pixels should go.

Each function takes an image (grey, RGB or RGBA; uint8, uint16 or float32)
and keyword settings, and returns a bool ``H x W`` mask, True = fill.
(:func:`retouch.segment.superpixels.superpixel_labels`, which gives the label
image the superpixel tools pick from rather than a mask, stays in its module.)
"""

from .clicks import ClickSession, clicks
from .color import color_range
from .defects import damage, scratches, spots, text
from .edges import edges
from .grabcut import grabcut
from .region_grow import region_grow
from .superpixels import superpixels
from .threshold import threshold

__all__ = [
    "threshold", "color_range", "edges", "region_grow", "superpixels", "grabcut",
    "clicks", "ClickSession", "scratches", "spots", "text", "damage",
]
