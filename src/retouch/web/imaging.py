"""Pictures the web app sends and receives: previews, overlays, histograms, strokes, files.

The browser works on a downscaled preview; every coordinate it sends is in
full-resolution image pixels and every computation runs on the full image.
Files go in and out through :mod:`retouch.io` on temporary paths that the
server makes itself: no name or path given by a client is ever used to open
or write a file (upload names are sanitised and used only to suggest the
download name).
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from .. import io
from ..convert import split_alpha, to_uint8
from ..validate import ImageFileError, RetouchError

__all__ = [
    "UploadTooLarge",
    "sanitize_filename",
    "preview_scale",
    "preview_bytes",
    "overlay_png",
    "outline_png",
    "histogram",
    "stroke_mask",
    "decode_upload",
    "decode_mask_upload",
    "encode_image",
    "encode_mask",
    "OUTPUT_EXTENSIONS",
]

OUTPUT_EXTENSIONS = {"PNG": ".png", "JPEG": ".jpg", "TIFF": ".tif", "BMP": ".bmp", "WEBP": ".webp"}
"""Download extension per format read; anything else comes back as PNG."""

MEDIA_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".tif": "image/tiff", ".bmp": "image/bmp", ".webp": "image/webp"}


_FAST_PNG = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_NONE]
"""PNG settings for overlays: unfiltered, light deflate (4x faster than the defaults, and small on masks)."""


class UploadTooLarge(RetouchError):
    """An upload over the server's byte or pixel limit (HTTP 413)."""


def sanitize_filename(name: str | None, default: str = "image") -> str:
    """A safe base name from a client's file name: no folders, only plain characters.

    >>> sanitize_filename("../../etc/pass wd.png")
    'pass wd.png'
    >>> sanitize_filename("C:\\\\Users\\\\me\\\\Été photo?.JPG")
    'Ete photo_.JPG'
    >>> sanitize_filename("")
    'image'
    """
    if not name:
        return default
    name = name.replace("\\", "/").split("/")[-1]
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    name = re.sub(r"[^A-Za-z0-9._ -]", "_", name).strip(" .")
    if len(name) > 100:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 90] + dot + ext[:9]) if dot and len(ext) <= 9 else name[:100]
    return name or default


def preview_scale(shape: tuple[int, ...], max_side: int) -> float:
    """Scale (<= 1) that fits an image of ``shape`` within ``max_side`` pixels.

    >>> preview_scale((4000, 3000, 3), 2000)
    0.5
    >>> preview_scale((300, 200), 2000)
    1.0
    """
    return min(1.0, float(max_side) / float(max(shape[0], shape[1])))


def preview_size(shape: tuple[int, ...], scale: float) -> tuple[int, int]:
    """(width, height) of the preview of an image of ``shape`` at ``scale``."""
    return max(1, int(round(shape[1] * scale))), max(1, int(round(shape[0] * scale)))


def preview_bytes(image: np.ndarray, scale: float) -> tuple[bytes, str]:
    """An 8-bit preview: JPEG for grey / RGB, PNG when there is an alpha channel.

    Returns the encoded bytes and their media type.
    """
    small = to_uint8(image)
    if scale < 1.0:
        small = cv2.resize(small, preview_size(image.shape, scale), interpolation=cv2.INTER_AREA)
    if small.ndim == 3 and small.shape[2] == 4:
        ok, buf = cv2.imencode(".png", cv2.cvtColor(small, cv2.COLOR_RGBA2BGRA), [cv2.IMWRITE_PNG_COMPRESSION, 1])
        return buf.tobytes(), "image/png"
    if small.ndim == 3:
        small = cv2.cvtColor(small, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 92])
    return buf.tobytes(), "image/jpeg"


def overlay_png(mask: np.ndarray, scale: float, *, color: tuple[int, int, int] = (255, 0, 64), opacity: float = 0.45) -> bytes:
    """The mask as a transparent RGBA PNG at preview size: tinted inside, outlined.

    Drawn by the browser over the preview; a pixel is as opaque as the part
    of it the mask covers.
    """
    h, w = mask.shape
    size = preview_size(mask.shape, scale)
    cover = mask.view(np.uint8) * np.uint8(255)  # coverage 0..255, averaged by the resize
    if (size[0], size[1]) != (w, h):
        cover = cv2.resize(cover, size, interpolation=cv2.INTER_AREA)
    inside = (cover >= 128).view(np.uint8)
    edge = cv2.morphologyEx(inside, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)).view(bool) & (cover > 0)
    alpha = cv2.convertScaleAbs(cover, alpha=opacity)  # rounded, saturated uint8
    alpha[edge] = 255
    out = np.empty((size[1], size[0], 4), np.uint8)
    out[..., 0] = color[2]
    out[..., 1] = color[1]
    out[..., 2] = color[0]
    out[..., 3] = alpha
    ok, buf = cv2.imencode(".png", out, _FAST_PNG)
    return buf.tobytes()


def outline_png(labels: np.ndarray, scale: float, *, opacity: float = 0.55) -> bytes:
    """Borders between labelled segments as a transparent RGBA PNG at preview size (white lines)."""
    size = preview_size(labels.shape, scale)
    small = labels
    if (size[0], size[1]) != (labels.shape[1], labels.shape[0]):
        small = cv2.resize(labels.astype(np.int32), size, interpolation=cv2.INTER_NEAREST)
    edge = np.zeros(small.shape, bool)
    edge[:, 1:] |= small[:, 1:] != small[:, :-1]
    edge[1:, :] |= small[1:, :] != small[:-1, :]
    out = np.zeros((size[1], size[0], 4), np.uint8)
    out[edge] = (255, 255, 255, int(opacity * 255))
    ok, buf = cv2.imencode(".png", out, _FAST_PNG)
    return buf.tobytes()


def _triangle(counts: np.ndarray) -> float:
    """The triangle threshold of a histogram (Zack et al. 1977), as ``skimage.filters.threshold_triangle``."""
    nbins = len(counts)
    hist = counts.astype(np.float64)
    peak = int(np.argmax(hist))
    low, high = np.flatnonzero(hist)[[0, -1]]
    flip = peak - low < high - peak
    if flip:
        hist = hist[::-1]
        low, peak = nbins - high - 1, nbins - peak - 1
    width = peak - low
    if width <= 0:
        return float(nbins - peak - 1 if flip else peak)
    x = np.arange(width)
    y = hist[x + low]
    norm = np.hypot(hist[peak], width)
    level = int(np.argmax(hist[peak] / norm * x - width / norm * y)) + low
    return float(nbins - level - 1 if flip else level)


def histogram(image: np.ndarray) -> dict[str, object]:
    """256-bin histogram of the luminance on a 0..255 scale, with Otsu's and the triangle threshold.

    The luminance is the one :func:`retouch.segment.threshold` thresholds
    (BT.601 luma, alpha ignored), rounded to 8 bits. The thresholds are in
    the same 0..255 scale.

    >>> h = histogram(np.array([[0, 0, 255, 255]], np.uint8))
    >>> h["counts"][0], h["counts"][255], h["pixels"]
    (2, 2, 4)
    """
    from skimage.filters import threshold_otsu

    small = to_uint8(split_alpha(image)[0])
    lum = small if small.ndim == 2 else cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    counts = np.bincount(lum.ravel(), minlength=256)
    levels = np.flatnonzero(counts)
    if len(levels) > 1:
        otsu = float(threshold_otsu(hist=(counts, np.arange(256))))
        tri = _triangle(counts) if len(levels) > 2 else otsu
    else:
        otsu = tri = float(levels[0]) if len(levels) else 0.0
    return {"counts": [int(c) for c in counts], "otsu": round(otsu, 2), "triangle": round(tri, 2), "pixels": int(lum.size)}


def stroke_mask(shape: tuple[int, int], points: list[tuple[float, float]], radius: float) -> np.ndarray:
    """The pixels a round brush of ``radius`` covers along a polyline of (x, y) points.

    >>> m = stroke_mask((9, 9), [(2, 4), (6, 4)], 1)
    >>> bool(m[4, 1:8].all()), bool(m[0].any())
    (True, False)
    """
    h, w = shape
    canvas = np.zeros((h, w), np.uint8)
    shift = 4  # sub-pixel precision of OpenCV's drawing
    f = 1 << shift
    r = max(0, int(round(radius * f)))
    thickness = max(1, int(round(2 * radius)))
    # Only what lies within the brush's reach of the image is drawn: a segment is cut to the image
    # grown by the radius (and 2 px), so coordinates stay small for OpenCV's fixed-point drawing.
    box = (-radius - 2.0, -radius - 2.0, w + radius + 2.0, h + radius + 2.0)

    def fixed(x: float, y: float) -> tuple[int, int]:
        return int(round(x * f)), int(round(y * f))

    for i, (x, y) in enumerate(points):
        if box[0] <= x <= box[2] and box[1] <= y <= box[3]:
            cv2.circle(canvas, fixed(x, y), r, 1, -1, cv2.LINE_8, shift)
        if i:
            cut = _clip_segment(points[i - 1], (x, y), box)
            if cut is not None:
                cv2.line(canvas, fixed(*cut[0]), fixed(*cut[1]), 1, thickness, cv2.LINE_8, shift)
    return canvas.astype(bool)


def _clip_segment(
    a: tuple[float, float], b: tuple[float, float], box: tuple[float, float, float, float]
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """The part of segment ``a``-``b`` inside ``box`` (x0, y0, x1, y1), or None (Liang-Barsky).

    >>> _clip_segment((-10, 5), (30, 5), (0, 0, 20, 10))
    ((0.0, 5.0), (20.0, 5.0))
    >>> _clip_segment((-10, -5), (-1, -5), (0, 0, 20, 10)) is None
    True
    """
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, ax - box[0]), (dx, box[2] - ax), (-dy, ay - box[1]), (dy, box[3] - ay)):
        if p == 0:
            if q < 0:
                return None
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return None
    return (float(ax + t0 * dx), float(ay + t0 * dy)), (float(ax + t1 * dx), float(ay + t1 * dy))


# ---------------------------------------------------------------------------- files in


def _pixel_count(path: Path) -> tuple[int, int] | None:
    """(width, height) from the file header without decoding, or None if Pillow cannot tell."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as im:
                return im.size
    except Image.DecompressionBombError:
        return None
    except Exception:  # not an image, or one only io's fallbacks read: io decides
        return None


def _clean_message(message: str, tmp: Path, display: str) -> str:
    return message.replace(str(tmp), display).replace(tmp.name, display)


def decode_upload(data_path: Path, display: str, *, max_pixels: int) -> tuple[np.ndarray, io.ImageInfo]:
    """Read an uploaded file (saved by the server at ``data_path``) with :func:`retouch.io.read_with_info`.

    Errors name the upload by ``display`` (its sanitised name), never the
    temporary path; too many pixels raise :class:`UploadTooLarge`.
    """
    size = _pixel_count(data_path)
    if size is not None and size[0] * size[1] > max_pixels:
        w, h = size
        raise UploadTooLarge(
            f"{display} is {w}x{h} = {w * h / 1e6:.1f} megapixels, more than this server's limit of "
            f"{max_pixels / 1e6:.1f}; scale it down, or start the server with a larger --max-pixels"
        )
    try:
        image, info = io.read_with_info(data_path, max_pixels=max_pixels)
    except ImageFileError as e:
        text = _clean_message(str(e), data_path, display)
        if "megapixels" in text and "limit" in text:
            raise UploadTooLarge(text.replace("(--max-pixels)", "(start the server with --max-pixels)")) from None
        raise ImageFileError(text) from None
    return image, info


def decode_mask_upload(data_path: Path, display: str, shape: tuple[int, ...], *, max_pixels: int) -> np.ndarray:
    """Read an uploaded mask file (white = selected) of the image's size."""
    size = _pixel_count(data_path)
    if size is not None and size[0] * size[1] > max_pixels:
        raise UploadTooLarge(f"{display} has more pixels than this server's limit of {max_pixels / 1e6:.1f} megapixels")
    try:
        return io.read_mask(data_path, shape=shape, max_pixels=max_pixels)
    except RetouchError as e:
        raise type(e)(_clean_message(str(e), data_path, display)) from None


# ---------------------------------------------------------------------------- files out


def _encode(name: str, image: np.ndarray, info: io.ImageInfo | None) -> bytes:
    folder = tempfile.mkdtemp(prefix="retouch-web-")
    path = Path(folder) / name
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            io.write(path, image, info=info)
        return path.read_bytes()
    finally:
        for p in Path(folder).iterdir():
            os.unlink(p)
        os.rmdir(folder)


def output_extension(info: io.ImageInfo) -> str:
    """The extension of the download: the upload's format, or PNG for formats retouch does not write."""
    return OUTPUT_EXTENSIONS.get((info.format or "").upper(), ".png")


def download_ext(info: io.ImageInfo, image: np.ndarray) -> str:
    """The extension the result is downloaded with: the upload's format when it can hold the image, else PNG.

    >>> download_ext(io.ImageInfo(format="JPEG"), np.zeros((2, 2, 3), np.uint8))
    '.jpg'
    >>> download_ext(io.ImageInfo(format="GIF"), np.zeros((2, 2), np.uint8))
    '.png'
    """
    ext = output_extension(info)
    if ext in (".jpg", ".bmp") and image.ndim == 3 and image.shape[2] == 4:
        ext = ".png"
    return ext


def encode_image(image: np.ndarray, info: io.ImageInfo) -> tuple[bytes, str, str]:
    """The image as a file in the upload's format and depth (EXIF, ICC kept).

    Returns the bytes, the extension and the media type.
    """
    ext = download_ext(info, image)
    return _encode("result" + ext, image, info), ext, MEDIA_TYPES[ext]


def encode_mask(mask: np.ndarray) -> bytes:
    """The mask as an 8-bit PNG (255 = selected)."""
    ok, buf = cv2.imencode(".png", mask.astype(np.uint8) * 255, [cv2.IMWRITE_PNG_COMPRESSION, 6])
    return buf.tobytes()
