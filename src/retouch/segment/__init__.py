"""Segmentation: every way of saying which pixels should go.

Each function takes an image (grey, RGB or RGBA; uint8, uint16 or float32)
and keyword settings, and returns a bool ``H x W`` mask, True = fill.
"""

from .clicks import ClickSession, clicks  # noqa: E402
from .color import color_range  # noqa: E402
from .defects import scratches, spots, text  # noqa: E402
from .edges import edges  # noqa: E402
from .grabcut import grabcut  # noqa: E402
from .region_grow import region_grow  # noqa: E402
from .superpixels import superpixel_labels, superpixels  # noqa: E402
from .threshold import threshold  # noqa: E402

__all__: list[str] = ["clicks", "ClickSession"]
__all__ += ["threshold", "color_range", "edges", "region_grow", "superpixels", "superpixel_labels", "grabcut"]
__all__ += ["scratches", "spots", "text"]
