"""What every inpainter shares: checks, alpha, crops around the holes, paste-back.

An inpainter's core works on the colour part of an image (``H x W`` grey or
``H x W x 3`` RGB, in the image's own dtype) and a bool hole mask, and returns
an array of the same shape and dtype. :func:`fill` wraps it so that every
method keeps the same contract:

- grey / RGB / RGBA, uint8 / uint16 / float32 in, the same shape and dtype out;
  float64 in [0, 1] (what ``skimage.img_as_float`` gives) comes back float64,
  with the pixels outside the mask bit-identical; the fill itself is computed
  in float32 unless the method says it computes in float64 (biharmonic);
- alpha is kept as it was, only the colour under the mask is filled;
- pixels outside the mask come back bit-identical;
- an empty mask returns a copy of the input with a :class:`EmptyMaskWarning`;
- a mask that covers everything is a :class:`~retouch.RetouchError`;
- on a large image each group of nearby holes is filled on a crop around it
  with enough context (IOPaint's crop strategy), so the cost grows with the
  holes, not with the image.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from ..convert import merge_alpha, split_alpha
from ..validate import RetouchError, check_image, check_mask

__all__ = ["EmptyMaskWarning", "fill", "blend", "crop_boxes", "default_margin"]

Core = Callable[..., np.ndarray]


class EmptyMaskWarning(UserWarning):
    """The mask selects no pixel, so the image is returned unchanged."""


def default_margin(hole_h: int, hole_w: int) -> int:
    """Context around a hole for local (diffusion) methods: 16 px, or a quarter of its size."""
    return int(max(16, 0.25 * max(hole_h, hole_w)))


def _block_any(mask: np.ndarray, b: int) -> np.ndarray:
    """``mask`` reduced by ``b x b`` blocks: True where any pixel of the block is."""
    if b == 1:
        return mask
    h, w = mask.shape
    nh, nw = h // b, w // b
    out = np.zeros((-(-h // b), -(-w // b)), bool)
    hh, ww = nh * b, nw * b
    if nh and nw:
        out[:nh, :nw] = mask[:hh, :ww].reshape(nh, b, nw, b).any(axis=(1, 3))
    if ww < w and nh:
        out[:nh, -1] = mask[:hh, ww:].reshape(nh, b, w - ww).any(axis=(1, 2))
    if hh < h and nw:
        out[-1, :nw] = mask[hh:, :ww].reshape(h - hh, nw, b).any(axis=(0, 2))
    if hh < h and ww < w:
        out[-1, -1] = mask[hh:, ww:].any()
    return out


def crop_boxes(
    mask: np.ndarray,
    margin: Callable[[int, int], int] = default_margin,
    *,
    whole_fraction: float = 0.5,
) -> list[tuple[slice, slice]]:
    """Rectangles that cover every hole of ``mask`` with context around it.

    Each connected hole gets its bounding box grown by ``margin(h, w)``
    pixels; overlapping rectangles are merged, so holes that share context are
    filled together. When the rectangles together cover more than
    ``whole_fraction`` of the image, one rectangle (the whole image) is returned.

    On large masks the holes are found on an 8 x 8 block grid (holes closer
    than a block are grouped), which keeps this step fast and small in memory.
    """
    h, w = mask.shape
    b = 8 if h * w > 4_000_000 else 1
    grid = _block_any(mask, b)
    n, _, stats, _ = cv2.connectedComponentsWithStats(np.ascontiguousarray(grid).view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    rects: list[list[int]] = []
    for gx, gy, gw, gh, _area in stats[1:n]:
        x0, y0, x1, y1 = gx * b, gy * b, min(w, (gx + gw) * b), min(h, (gy + gh) * b)
        if b > 1:  # exact extent of the hole pixels inside the block rectangle
            sub = mask[y0:y1, x0:x1]
            rows, cols = np.flatnonzero(sub.any(axis=1)), np.flatnonzero(sub.any(axis=0))
            x0, x1, y0, y1 = x0 + cols[0], x0 + cols[-1] + 1, y0 + rows[0], y0 + rows[-1] + 1
        m = int(margin(int(y1 - y0), int(x1 - x0)))
        rects.append([max(0, x0 - m), max(0, y0 - m), min(w, x1 + m), min(h, y1 + m)])
    if not rects:
        return []
    if len(rects) > 4000:  # thousands of specks: one pass over the whole image is cheaper
        return [(slice(0, h), slice(0, w))]
    # merge overlapping rectangles until none overlap
    rects.sort()
    changed = True
    while changed:
        changed = False
        merged: list[list[int]] = []
        for r in rects:
            for q in merged:
                if r[0] < q[2] and q[0] < r[2] and r[1] < q[3] and q[1] < r[3]:
                    q[0], q[1] = min(q[0], r[0]), min(q[1], r[1])
                    q[2], q[3] = max(q[2], r[2]), max(q[3], r[3])
                    changed = True
                    break
            else:
                merged.append(list(r))
        rects = merged
    area = sum((r[2] - r[0]) * (r[3] - r[1]) for r in rects)
    if area > whole_fraction * h * w:
        return [(slice(0, h), slice(0, w))]
    return [(slice(int(y0), int(y1)), slice(int(x0), int(x1))) for x0, y0, x1, y1 in rects]


def fill(
    image: Any,
    mask: Any,
    core: Core,
    *,
    margin: Callable[[int, int], int] = default_margin,
    crops: bool = True,
    extras: dict[str, np.ndarray | None] | None = None,
    float64: bool = False,
    **options: Any,
) -> np.ndarray:
    """Run ``core(color, hole, **extras, **options)`` under the common contract.

    Parameters
    ----------
    image : ndarray
        ``H x W``, ``H x W x 1``, ``H x W x 3`` or ``H x W x 4`` image, uint8,
        uint16 or float32.
    mask : ndarray of bool
        ``H x W``, True where to fill.
    core : callable
        The method: takes the colour crop and its hole mask, returns the
        filled colour crop with the same shape and dtype.
    margin : callable
        ``margin(hole_height, hole_width)`` -> context in pixels kept around
        each hole when working on crops.
    crops : bool
        Work on crops around the holes (True) or on the whole image.
    extras : dict of ndarray
        ``H x W`` arrays (such as a source mask) cropped alongside the image
        and passed to ``core`` by keyword.
    float64 : bool
        ``core`` takes a float64 colour crop and returns float64; when False
        a float64 image is handed to it as float32. Either way a float64
        image comes back float64, untouched outside the mask.
    """
    given = image
    image = check_image(image)
    mask = check_mask(mask, image.shape)
    if not mask.any():
        warnings.warn("the mask is empty: nothing to fill, image returned unchanged", EmptyMaskWarning, stacklevel=3)
        return (given if isinstance(given, np.ndarray) and given.dtype == np.float64 else image).copy()
    if mask.all():
        raise RetouchError("the mask covers the whole image, so there is nothing to fill from; leave some pixels unmasked")
    extras = {k: check_mask(v, image.shape, k) for k, v in (extras or {}).items() if v is not None}

    color, alpha = split_alpha(image)
    if isinstance(given, np.ndarray) and given.dtype == np.float64:
        color64, alpha = split_alpha(given)  # keep the caller's float64, bit for bit
        if float64:
            color = color64
        out = color64.copy()
        image = given
    else:
        out = color.copy()
    boxes = crop_boxes(mask, margin) if crops else [(slice(0, mask.shape[0]), slice(0, mask.shape[1]))]
    for ys, xs in boxes:
        sub_mask = mask[ys, xs]
        if not sub_mask.any():
            continue
        sub = np.ascontiguousarray(color[ys, xs])
        sub_extras = {k: np.ascontiguousarray(v[ys, xs]) for k, v in extras.items()}
        filled = core(sub, sub_mask, **sub_extras, **options)
        if filled.shape != sub.shape:
            raise AssertionError(f"inpainting core returned shape {filled.shape}, expected {sub.shape}")
        region = out[ys, xs]
        region[sub_mask] = filled[sub_mask].astype(out.dtype, copy=False)
    return merge_alpha(out, alpha, like=image)


def blend(original: np.ndarray, filled: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Mix a fill back into the original with a soft mask.

    Parameters
    ----------
    original, filled : ndarray
        Images of the same shape and dtype.
    weight : ndarray of float32
        ``H x W`` weights in [0, 1] (see :func:`retouch.refine.feather`):
        1 takes the filled pixel, 0 keeps the original.

    Returns
    -------
    ndarray
        ``original * (1 - weight) + filled * weight`` in the images' dtype
        (two float64 images give float64; float64 with another dtype is
        taken as float32); where the weight is 0 the pixel is bit-identical to ``original``.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.zeros((1, 3), np.uint8); b = np.full((1, 3), 200, np.uint8)
    >>> blend(a, b, np.array([[0, 0.5, 1]], np.float32))
    array([[  0, 100, 200]], dtype=uint8)
    """
    both64 = all(isinstance(a, np.ndarray) and a.dtype == np.float64 for a in (original, filled))
    checked = check_image(original, "original"), check_image(filled, "filled")
    original, filled = (original, filled) if both64 else checked  # float64 stays float64
    if original.shape != filled.shape or original.dtype != filled.dtype:
        raise RetouchError(
            f"filled must match original: got {filled.shape} {filled.dtype} and {original.shape} {original.dtype}"
        )
    if weight.shape != original.shape[:2]:
        raise RetouchError(f"weight is {weight.shape[1]}x{weight.shape[0]} but the image is {original.shape[1]}x{original.shape[0]}")
    w = np.clip(weight.astype(np.float32), 0, 1)
    if original.ndim == 3:
        w = w[..., None]
    work = np.float64 if both64 else np.float32
    mixed = original.astype(work) * (1 - w) + filled.astype(work) * w
    if original.dtype.kind != "f":
        mixed = np.rint(mixed)
    out = mixed.astype(original.dtype)
    keep = weight <= 0
    out[keep] = original[keep]
    return out
