"""One place for the checks every public function runs, and the error types.

Every check raises :class:`RetouchError` (a :class:`ValueError`) with a
one-line message that says what was expected, what came, and how to fix it.
Front ends print that line and exit non-zero; they never show a traceback for
a user's mistake.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "RetouchError",
    "ImageFileError",
    "InputTypeError",
    "check_image",
    "check_mask",
    "check_fill_mask",
    "check_same_size",
    "check_box",
    "check_point",
    "check_points",
    "check_clicks",
    "check_number",
    "check_odd",
    "check_choice",
    "is_out_of_memory",
    "out_of_memory_text",
    "SUPPORTED_DTYPES",
]

SUPPORTED_DTYPES = (np.uint8, np.uint16, np.float32)


class RetouchError(ValueError):
    """A user's mistake: the message is one line that says what to do."""


class ImageFileError(RetouchError):
    """A file that cannot be read or written as an image or mask."""


class InputTypeError(RetouchError, TypeError):
    """An argument of a kind retouch refuses outright: a NumPy masked array, a mask that is not bool.

    Also a :class:`TypeError`, which is what scikit-image raises for the same
    input, so code written for either library catches it.
    """


def _refuse_masked(value: Any, name: str) -> None:
    if isinstance(value, np.ma.MaskedArray):
        raise InputTypeError(
            f"{name} is a NumPy masked array, which retouch does not read; pass the plain array "
            f"({name}.data) and give the pixels to fill as a bool mask (True = fill)"
        )


def _dtype_hint(image: np.ndarray, name: str) -> str:
    """How to turn an image of an unsupported dtype into one retouch takes."""
    kind = image.dtype.kind
    if kind == "f" and image.size:  # float16, float128: only the width is wrong
        return f"convert it with {name}.astype(np.float32) (values in [0, 1])"
    if kind in "iu" and image.size:
        lo, hi = int(np.min(image)), int(np.max(image))
        if lo >= 0 and hi <= 255:
            return f"its values {lo}..{hi} fit 8 bits: {name}.astype(np.uint8)"
        if lo >= 0 and hi <= 65535:
            return f"its values {lo}..{hi} fit 16 bits: {name}.astype(np.uint16)"
        if kind == "i" and image.dtype.itemsize <= 2:  # signed 8 / 16 bit: map the dtype's range
            info = np.iinfo(image.dtype)
            return (
                f"signed values ({lo}..{hi}): map the {image.dtype} range into [0, 1] with "
                f"({name}.astype(np.float32) + {-info.min}) / {info.max - info.min}"
            )
        return (
            f"its values {lo}..{hi} fit neither 8 nor 16 bits: scale them into [0, 1], for example "
            f"(({name} - {name}.min()) / ({name}.max() - {name}.min())).astype(np.float32)"
        )
    if kind == "b":
        return f"for a mask pass it as mask=; as a picture use {name}.astype(np.uint8) * 255"
    return "convert it to uint8, uint16 or float32 in [0, 1]"


def _shape_text(shape: Sequence[int]) -> str:
    return "x".join(str(int(s)) for s in shape)


def _size_text(shape: Sequence[int]) -> str:
    """Width x height, the way people name photo sizes."""
    return f"{int(shape[1])}x{int(shape[0])}"


def _layout_hint(shape: Sequence[int], name: str) -> str:
    """Why a shape is refused: 3-D volumes, channel-first and many-channel images."""
    if len(shape) == 3 and shape[0] in (1, 3, 4) and shape[2] not in (1, 3, 4):
        return f"; channel-first (CxHxW) images are not supported, use np.moveaxis({name}, 0, -1)"
    if len(shape) == 3:
        return (
            f"; {shape[2]} channels: 3-D volumes and images with other than 1, 3 or 4 channels are "
            "not supported, give one 2-D slice or one RGB(A) picture at a time"
        )
    if len(shape) > 3:
        return "; volumes and stacks are not supported, give one 2-D picture at a time"
    return ""


def check_image(image: Any, name: str = "image") -> np.ndarray:
    """Check that ``image`` is an image retouch can work on and return it.

    An image is an ``H x W`` (grey) or ``H x W x C`` array with ``C`` in
    1, 3 (RGB) or 4 (RGBA), of dtype uint8, uint16 or float32 (values in
    [0, 1]). float64 is accepted when its values are in [0, 1] and returned
    as float32 (the fills give float64 back; see :func:`retouch.inpaint.fill`);
    bool images and NumPy masked arrays are refused. The message for any
    other dtype says how to convert it, from the values it holds. 3-D
    volumes, channel-first (``C x H x W``) arrays and images with other than
    1, 3 or 4 channels are not supported, and the message says which it saw.
    """
    _refuse_masked(image, name)
    if not isinstance(image, np.ndarray):
        raise RetouchError(
            f"{name} must be a NumPy array, got {type(image).__name__}; "
            "read files with retouch.read(path)"
        )
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
        raise RetouchError(
            f"{name} must be HxW (grey) or HxWxC with C = 1, 3 (RGB) or 4 (RGBA), "
            f"got shape {_shape_text(image.shape)}{_layout_hint(image.shape, name)}"
        )
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise RetouchError(f"{name} is empty (shape {_shape_text(image.shape)})")
    if image.dtype == np.float64:
        image = image.astype(np.float32)
    if image.dtype not in SUPPORTED_DTYPES:
        raise RetouchError(
            f"{name} has dtype {image.dtype}; use uint8, uint16 or float32 in [0, 1]: "
            f"{_dtype_hint(image, name)}"
        )
    if image.dtype == np.float32:
        lo, hi = float(np.min(image)), float(np.max(image))
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise RetouchError(f"{name} contains NaN or infinite values")
        if lo < 0.0 or hi > 1.0:
            raise RetouchError(
                f"float {name} must be in [0, 1], got values in [{lo:.4g}, {hi:.4g}]; "
                "scale it first (for example image / image.max())"
            )
    return image


def check_mask(mask: Any, shape: Sequence[int] | None = None, name: str = "mask") -> np.ndarray:
    """Check that ``mask`` is a bool ``H x W`` array (True = fill) and return it.

    ``shape`` is the image's shape; when given, the mask must match its height
    and width.
    """
    _refuse_masked(mask, name)
    if not isinstance(mask, np.ndarray):
        raise RetouchError(f"{name} must be a bool NumPy array, got {type(mask).__name__}")
    if mask.ndim == 3 and mask.shape[2] == 1:
        mask = mask[..., 0]
    if mask.ndim != 2:
        raise RetouchError(
            f"{name} must be a 2-D HxW array, got shape {_shape_text(mask.shape)}; "
            "for a colour mask use mask.any(axis=-1)"
        )
    if mask.dtype != bool:  # a TypeError too, as scikit-image raises for float masks
        raise InputTypeError(
            f"{name} must be a bool array (True = fill), got dtype {mask.dtype}; "
            f"convert it with {name} > 0, or read mask files with retouch.io.read_mask"
        )
    if shape is not None and tuple(mask.shape) != tuple(shape[:2]):
        raise RetouchError(
            f"{name} is {_size_text(mask.shape)} but the image is {_size_text(shape)} "
            "(width x height); they must be the same size"
        )
    return mask


def check_fill_mask(mask: Any, shape: Sequence[int], name: str = "mask") -> np.ndarray:
    """Like :func:`check_mask`, and refuse a mask that covers the whole image."""
    mask = check_mask(mask, shape, name)
    if mask.all():
        raise RetouchError(
            f"{name} covers the whole image, so there is nothing to fill from; "
            "leave some pixels unmasked"
        )
    return mask


def check_same_size(a: np.ndarray, b: np.ndarray, names: tuple[str, str] = ("mask", "image")) -> None:
    """Refuse two arrays whose height and width differ, naming both sizes."""
    if a.shape[:2] != b.shape[:2]:
        raise RetouchError(
            f"{names[0]} is {_size_text(a.shape)} but {names[1]} is {_size_text(b.shape)} "
            "(width x height); they must be the same size"
        )


def _as_number(value: Any, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise RetouchError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise RetouchError(f"{name} must be finite, got {value}")
    return value


def check_number(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    integer: bool = False,
) -> float | int:
    """Check a scalar setting against a range and return it (int when ``integer``)."""
    v = _as_number(value, name)
    if integer and v != int(v):
        raise RetouchError(f"{name} must be a whole number, got {value!r}")
    if low is not None and (v < low or (low_open and v == low)):
        rel = "greater than" if low_open else "at least"
        raise RetouchError(f"{name} must be {rel} {low:g}, got {value!r}")
    if high is not None and v > high:
        raise RetouchError(f"{name} must be at most {high:g}, got {value!r}")
    return int(v) if integer else v


def check_odd(value: Any, name: str, *, low: int = 1) -> int:
    """Check an odd integer (a window or block size) of at least ``low``."""
    v = check_number(value, name, low=low, integer=True)
    if v % 2 == 0:
        raise RetouchError(f"{name} must be odd, got {v}; try {v + 1}")
    return int(v)


def check_choice(value: Any, name: str, choices: Iterable[str]) -> str:
    """Check that ``value`` is one of ``choices``."""
    choices = list(choices)
    if value not in choices:
        raise RetouchError(f"{name} must be one of {', '.join(map(str, choices))}; got {value!r}")
    return value


def check_point(point: Any, shape: Sequence[int], name: str = "point") -> tuple[int, int]:
    """Check one ``(x, y)`` pixel position inside an image of ``shape``."""
    try:
        x, y = point
    except (TypeError, ValueError):
        raise RetouchError(f"{name} must be an (x, y) pair, got {point!r}") from None
    xf, yf = _as_number(x, f"{name} x"), _as_number(y, f"{name} y")
    h, w = int(shape[0]), int(shape[1])
    xi, yi = int(round(xf)), int(round(yf))
    if not (0 <= xi < w and 0 <= yi < h):
        raise RetouchError(
            f"{name} ({xf:g}, {yf:g}) is outside the {w}x{h} image; "
            f"x must be in 0..{w - 1} and y in 0..{h - 1}"
        )
    return xi, yi


def check_points(points: Any, shape: Sequence[int], name: str = "points") -> np.ndarray:
    """Check a non-empty list of ``(x, y)`` points; return an ``N x 2`` int array of (x, y)."""
    if points is None:
        raise RetouchError(f"{name} must be a list of (x, y) pairs, got None")
    arr = np.asarray(points, dtype=object) if not isinstance(points, np.ndarray) else points
    if arr.ndim == 1 and len(arr) == 2 and not isinstance(arr[0], (Sequence, np.ndarray)):
        points = [tuple(arr)]  # a single (x, y) pair
    pts = [check_point(p, shape, f"{name}[{i}]") for i, p in enumerate(points)]
    if not pts:
        raise RetouchError(f"{name} is empty; give at least one (x, y) point")
    return np.asarray(pts, dtype=np.int64).reshape(-1, 2)


def check_clicks(clicks: Any, shape: Sequence[int], name: str = "clicks") -> list[tuple[int, int, bool]]:
    """Check a list of ``(x, y, positive)`` clicks inside an image of ``shape``."""
    if clicks is None:
        raise RetouchError(f"{name} must be a list of (x, y, positive) triples, got None")
    out: list[tuple[int, int, bool]] = []
    for i, c in enumerate(clicks):
        try:
            x, y, positive = c
        except (TypeError, ValueError):
            raise RetouchError(f"{name}[{i}] must be (x, y, positive), got {c!r}") from None
        xi, yi = check_point((x, y), shape, f"{name}[{i}]")
        out.append((xi, yi, bool(positive)))
    if not out:
        raise RetouchError(f"{name} is empty; give at least one click")
    return out


def check_box(box: Any, shape: Sequence[int], name: str = "box") -> tuple[int, int, int, int]:
    """Check an ``(x, y, w, h)`` box on an image of ``shape``.

    A box that reaches past the image border is clipped to it; a box with no
    width or height, or one entirely outside the image, is an error.
    """
    try:
        x, y, bw, bh = box
    except (TypeError, ValueError):
        raise RetouchError(f"{name} must be (x, y, width, height), got {box!r}") from None
    x, y, bw, bh = (_as_number(v, f"{name} {n}") for v, n in zip((x, y, bw, bh), "xywh"))
    h, w = int(shape[0]), int(shape[1])
    if bw <= 0 or bh <= 0:
        raise RetouchError(f"{name} width and height must be positive, got {bw:g}x{bh:g}")
    x0, y0 = max(0, int(round(x))), max(0, int(round(y)))
    x1, y1 = min(w, int(round(x + bw))), min(h, int(round(y + bh)))
    if x1 <= x0 or y1 <= y0:
        raise RetouchError(
            f"{name} ({x:g}, {y:g}, {bw:g}, {bh:g}) lies outside the {w}x{h} image; "
            "give x, y, width, height in pixels inside it"
        )
    return x0, y0, x1 - x0, y1 - y0


def is_out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` is an allocation that failed: Python's MemoryError or OpenCV's "Insufficient memory"."""
    if isinstance(error, MemoryError):
        return True
    text = str(error)
    return type(error).__name__ == "error" and ("Insufficient memory" in text or "Failed to allocate" in text)


def out_of_memory_text(error: BaseException, hint: str = "try --max-pixels or a smaller image") -> str:
    """One line for an allocation that failed, with what to do about it."""
    what = "OpenCV could not allocate its buffers" if type(error).__name__ == "error" else "an array could not be allocated"
    return f"out of memory: {what}; {hint}"
