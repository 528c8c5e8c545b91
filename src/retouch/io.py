"""Read and write images and masks.

Reading applies the EXIF orientation, keeps grey as grey, RGB as RGB, keeps
an alpha channel and 16-bit depth, and refuses files that are missing,
not images, truncated, or larger than a pixel limit, each with a one-line
message. Writing is atomic (a temporary file in the same folder, then a
rename), keeps EXIF (with the orientation reset) and the ICC profile, picks
the format from the extension, and never replaces an existing file unless
asked to.

Pillow reads and writes every format; the two things it cannot hold, 16-bit
colour PNG and 16-bit or float colour TIFF, go through OpenCV's PNG codec and
tifffile (with imagecodecs for LZW, JPEG and the other TIFF codecs)
respectively. A TIFF keeps its compression (none, LZW, Deflate, PackBits or
JPEG) when written back with the :class:`ImageInfo` it was read with. Files
of several pages or frames (multi-page TIFF, animated GIF, WebP or PNG) are
refused: retouch works on one picture and would silently drop the others.

>>> import numpy as np, tempfile, os
>>> from retouch import io
>>> folder = tempfile.mkdtemp()
>>> path = io.write(os.path.join(folder, "grey16.png"), np.full((4, 6), 40000, np.uint16))
>>> image = io.read(path)
>>> image.shape, image.dtype, int(image[0, 0])
((4, 6), dtype('uint16'), 40000)
"""

from __future__ import annotations

import contextlib
import os
import struct
import tempfile
import threading
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from .convert import from_float, to_uint8
from .validate import ImageFileError, RetouchError, check_image, check_mask

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "ImageInfo",
    "read",
    "read_with_info",
    "read_mask",
    "binarize",
    "write",
    "write_mask",
    "write_all",
    "check_writable",
    "check_destination",
    "FORMATS",
]

DEFAULT_MAX_PIXELS = 200_000_000
"""Refuse images with more pixels than this (a decompression-bomb guard)."""

FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".jpe": "JPEG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".bmp": "BMP",
    ".webp": "WEBP",
}

_ORIENTATION = 274
_PIL_LOCK = threading.Lock()


@dataclass
class ImageInfo:
    """What :func:`write` needs to give back a file like the one read."""

    format: str | None = None
    mode: str | None = None
    exif: bytes | None = None
    icc_profile: bytes | None = None
    dpi: tuple[float, float] | None = None
    orientation: int = 1
    extra: dict[str, Any] = field(default_factory=dict)


def _display(path: Path) -> str:
    return str(path)


@contextlib.contextmanager
def _pillow_unlimited():
    """Let Pillow open any size: retouch applies its own pixel limit."""
    with _PIL_LOCK:
        old = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = old


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _check_path(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.exists():
        raise ImageFileError(f"{_display(p)} does not exist; check the path")
    if p.is_dir():
        raise ImageFileError(f"{_display(p)} is a folder, not an image file")
    return p


def _apply_orientation(arr: np.ndarray, orientation: int) -> np.ndarray:
    """Turn ``arr`` upright for EXIF orientation 1..8 (as Pillow's exif_transpose)."""
    if orientation == 2:
        arr = arr[:, ::-1]
    elif orientation == 3:
        arr = arr[::-1, ::-1]
    elif orientation == 4:
        arr = arr[::-1, :]
    elif orientation == 5:
        arr = np.swapaxes(arr, 0, 1)
    elif orientation == 6:
        arr = np.rot90(arr, -1)
    elif orientation == 7:
        arr = np.swapaxes(arr[::-1, ::-1], 0, 1)
    elif orientation == 8:
        arr = np.rot90(arr, 1)
    else:
        return arr
    return np.ascontiguousarray(arr)


def _png_header(path: Path) -> tuple[int, int] | None:
    """(bit depth, colour type) from a PNG's IHDR chunk, or None."""
    with open(path, "rb") as f:
        head = f.read(26)
    if len(head) < 26 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return head[24], head[25]


def _decode_with_opencv(path: Path) -> np.ndarray:
    data = np.fromfile(path, dtype=np.uint8)
    arr = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if arr is None:
        raise ImageFileError(f"{_display(path)} is truncated or corrupt; re-export or copy it again")
    if arr.ndim == 3 and arr.shape[2] == 3:
        arr = cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)
    elif arr.ndim == 3 and arr.shape[2] == 4:
        arr = cv2.cvtColor(arr, cv2.COLOR_BGRA2RGBA)
    return arr


def _tiff_needs_tifffile(im: Image.Image) -> bool:
    try:
        bits = im.tag_v2.get(258)
        fmt = im.tag_v2.get(339)
    except AttributeError:
        return False
    bits = bits if isinstance(bits, tuple) else (bits,)
    samples = len(bits)
    wide = any(b and b > 8 for b in bits)
    is_float = fmt is not None and (fmt == 3 or (isinstance(fmt, tuple) and 3 in fmt))
    return (wide and samples >= 3) or (is_float and samples >= 1 and im.mode not in ("F",)) or (samples >= 3 and is_float)


_TIFF_COMPRESSION = {1: "none", 5: "lzw", 7: "jpeg", 8: "deflate", 32946: "deflate", 32773: "packbits"}
"""TIFF compression codes retouch decodes and writes back: code -> name kept in ``ImageInfo.extra``."""


@dataclass
class _TiffProbe:
    pages: int  # full-resolution pages (reduced-resolution previews not counted)
    compression: int
    predictor: int


def _tiff_probe(path: Path) -> _TiffProbe | None:
    """Page count and compression of a TIFF from its header (no pixels decoded); None if unreadable."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            first = tif.pages.first
            pages = 0
            for page in tif.pages:
                if not int(getattr(page, "subfiletype", 0) or 0) & 1:  # bit 0: a reduced-resolution copy
                    pages += 1
            return _TiffProbe(max(pages, 1), int(first.compression), int(first.predictor))
    except Exception:  # tifffile raises many types for broken files; Pillow gives the message then
        return None


def _tiff_failure(path: Path, probe: _TiffProbe | None, error: BaseException) -> ImageFileError:
    """'unsupported' when retouch cannot decode the TIFF's compression, otherwise 'truncated or corrupt'."""
    if probe is not None and probe.compression not in _TIFF_COMPRESSION:
        import tifffile

        try:
            name = tifffile.COMPRESSION(probe.compression).name
        except ValueError:
            name = f"code {probe.compression}"
        return ImageFileError(
            f"{_display(path)} uses TIFF compression {name}, which retouch cannot decode (unsupported, not damaged); "
            "save it again with LZW, Deflate, PackBits, JPEG or no compression"
        )
    reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    return ImageFileError(f"{_display(path)} is truncated or corrupt ({reason}); re-export or copy it again")


def _refuse_pages(path: Path, count: int, fmt: str | None) -> None:
    if count > 1:
        what = "pages" if fmt in ("TIFF", None) else "frames"
        raise ImageFileError(
            f"{_display(path)} has {count} {what}; retouch works on one picture and would drop the others, "
            f"so it refuses the file: save each of its {what} as a file of its own first"
        )


def _read_tifffile(path: Path, probe: _TiffProbe | None = None) -> np.ndarray:
    import tifffile

    try:
        arr = tifffile.imread(path, key=0)
    except Exception as e:  # tifffile raises many types for broken files
        raise _tiff_failure(path, probe or _tiff_probe(path), e) from None
    return arr


def _keep_compression(info: ImageInfo, compression: int, predictor: int) -> None:
    name = _TIFF_COMPRESSION.get(compression)
    if name is not None:
        info.extra["compression"] = name
        if predictor > 1 and name in ("lzw", "deflate"):
            info.extra["predictor"] = predictor


def _is_tiff(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def _read_tiff_with_info(path: Path, max_pixels: int | None) -> tuple[np.ndarray, ImageInfo]:
    """TIFF files Pillow cannot open (float colour, for example), with tifffile."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages.first
            h, w = page.shape[:2]
            if max_pixels is not None and w * h > max_pixels:
                raise ImageFileError(
                    f"{_display(path)} is {w}x{h} = {w * h / 1e6:.0f} megapixels, more than the limit of "
                    f"{max_pixels / 1e6:.0f}; raise the limit (--max-pixels) if you trust the file"
                )
            info = ImageInfo(format="TIFF", mode="tifffile")
            _keep_compression(info, int(page.compression), int(page.predictor))
            tags = page.tags
            if 34675 in tags:
                info.icc_profile = bytes(tags[34675].value)
            if 274 in tags:
                info.orientation = int(tags[274].value)
            arr = page.asarray()
    except RetouchError:
        raise
    except Exception as e:  # tifffile raises many types for broken files
        raise _tiff_failure(path, _tiff_probe(path), e) from None
    return arr, info


def _normalise_array(arr: np.ndarray, path: Path) -> np.ndarray:
    """Bring a decoded array to one of retouch's image forms."""
    if arr.dtype == bool:
        return arr.astype(np.uint8) * 255
    if arr.dtype in (np.uint8, np.uint16):
        return arr
    if arr.dtype in (np.int32, np.int64, np.uint32, np.int16):
        lo, hi = int(arr.min()), int(arr.max())
        if lo >= 0 and hi <= 65535:
            return arr.astype(np.uint16)
        raise ImageFileError(
            f"{_display(path)} holds {arr.dtype} values in [{lo}, {hi}], outside 16 bits; "
            "convert it to 8- or 16-bit first"
        )
    if arr.dtype.kind == "f":
        arr = arr.astype(np.float32)
        lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
        if not np.isfinite(arr).all() or lo < 0 or hi > 1:
            raise ImageFileError(
                f"{_display(path)} is a float image with values in [{lo:.4g}, {hi:.4g}]; "
                "retouch reads float images in [0, 1] only"
            )
        return arr
    raise ImageFileError(f"{_display(path)} has pixel type {arr.dtype}, which retouch cannot use")


def _pil_to_array(im: Image.Image) -> np.ndarray:
    mode = im.mode
    if mode in ("1",):
        return np.asarray(im.convert("L"))
    if mode in ("L", "RGB", "RGBA"):
        return np.asarray(im)
    if mode == "LA":
        return np.asarray(im.convert("RGBA"))
    if mode in ("P", "PA"):
        has_alpha = "transparency" in im.info or mode == "PA"
        return np.asarray(im.convert("RGBA" if has_alpha else "RGB"))
    if mode.startswith("I;16"):
        return np.asarray(im).astype(np.uint16)
    if mode in ("I", "F"):
        return np.asarray(im)
    if mode in ("RGBX", "RGBa", "CMYK", "YCbCr", "LAB", "HSV"):
        return np.asarray(im.convert("RGB"))
    if mode == "La":
        return np.asarray(im.convert("RGBA"))
    return np.asarray(im.convert("RGB"))


def read_with_info(path: str | os.PathLike[str], *, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> tuple[np.ndarray, ImageInfo]:
    """Read an image and what is needed to write it back alike.

    Parameters
    ----------
    path : str or path-like
        A PNG, JPEG, TIFF, BMP or WebP file (anything Pillow opens).
    max_pixels : int or None
        Refuse images with more pixels than this (default 200 million);
        None for no limit.

    Returns
    -------
    image : ndarray
        ``H x W`` grey, ``H x W x 3`` RGB or ``H x W x 4`` RGBA; uint8, uint16
        (16-bit files) or float32 (float TIFF), turned upright by the EXIF
        orientation.
    info : ImageInfo
        Format, EXIF (orientation reset to 1), ICC profile and resolution.
    """
    p = _check_path(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Pillow's notes on odd EXIF: we report errors ourselves
        return _read_with_info(p, max_pixels)


def _read_with_info(p: Path, max_pixels: int | None) -> tuple[np.ndarray, ImageInfo]:
    if max_pixels is not None and max_pixels < 1:
        raise RetouchError(f"the pixel limit (--max-pixels) must be a positive number of pixels, got {max_pixels}")
    probe = _tiff_probe(p) if _is_tiff(p) else None
    if probe is not None:
        _refuse_pages(p, probe.pages, "TIFF")
    try:
        with _pillow_unlimited():
            im = Image.open(p)
        with im:
            if im.format in ("GIF", "PNG", "WEBP"):  # animated; a TIFF's pages were counted above
                _refuse_pages(p, int(getattr(im, "n_frames", 1) or 1), im.format)
            w, h = im.size
            if max_pixels is not None and w * h > max_pixels:
                raise ImageFileError(
                    f"{_display(p)} is {w}x{h} = {w * h / 1e6:.0f} megapixels, more than the limit of "
                    f"{max_pixels / 1e6:.0f}; raise the limit (--max-pixels) if you trust the file"
                )
            bands = len(im.getbands())
            need = w * h * max(bands, 1) * (2 if im.mode.startswith("I") else 1)
            avail = _available_memory()
            if avail is not None and need * 3 > avail:
                raise ImageFileError(
                    f"{_display(p)} needs about {need * 3 / 2**30:.1f} GiB to work on but only "
                    f"{avail / 2**30:.1f} GiB of memory is free; close other programs or split the image"
                )
            info = ImageInfo(format=im.format, mode=im.mode)
            if probe is not None:
                _keep_compression(info, probe.compression, probe.predictor)
            info.icc_profile = im.info.get("icc_profile")
            dpi = im.info.get("dpi")
            if dpi:
                info.dpi = (float(dpi[0]), float(dpi[1]))
            exif = im.getexif()
            info.orientation = int(exif.get(_ORIENTATION, 1) or 1)
            if len(exif):
                if _ORIENTATION in exif:
                    exif[_ORIENTATION] = 1
                info.exif = exif.tobytes()
            png = _png_header(p) if im.format == "PNG" else None
            if png is not None and png[0] == 16 and png[1] in (2, 6):
                arr = _decode_with_opencv(p)
                info.extra["bit_depth"] = 16
            elif im.format == "TIFF" and _tiff_needs_tifffile(im):
                arr = _read_tifffile(p, probe)
            elif im.format == "TIFF":
                try:
                    im.load()
                except (OSError, SyntaxError, ValueError, struct.error, EOFError) as e:
                    raise _tiff_failure(p, probe, e) from None
                arr = _pil_to_array(im)
            else:
                im.load()
                arr = _pil_to_array(im)
    except RetouchError:
        raise
    except UnidentifiedImageError:
        if _is_tiff(p):  # float or unusual TIFF that Pillow cannot open
            arr, info = _read_tiff_with_info(p, max_pixels)
        else:
            raise ImageFileError(
                f"{_display(p)} is not an image retouch can read (PNG, JPEG, TIFF, BMP or WebP)"
            ) from None
    except (OSError, SyntaxError, ValueError, struct.error, EOFError) as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ImageFileError(f"{_display(p)} is truncated or corrupt ({reason}); re-export or copy it again") from None
    arr = _normalise_array(np.asarray(arr), p)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim == 3 and arr.shape[2] == 2:  # grey + alpha from tifffile
        arr = np.dstack([arr[..., 0]] * 3 + [arr[..., 1]])
    if arr.ndim == 3 and arr.shape[2] > 4:
        arr = arr[..., :4]
    arr = _apply_orientation(arr, info.orientation)
    if not arr.flags.writeable:
        arr = arr.copy()
    return arr, info


def read(path: str | os.PathLike[str], *, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read an image file into an array, upright, with depth and alpha kept.

    See :func:`read_with_info` for the parameters; this returns only the image.

    Examples
    --------
    >>> import tempfile, os
    >>> from skimage import data
    >>> from retouch import io
    >>> path = os.path.join(tempfile.mkdtemp(), "cat.png")
    >>> _ = io.write(path, data.chelsea())
    >>> io.read(path).shape
    (300, 451, 3)
    """
    return read_with_info(path, max_pixels=max_pixels)[0]


def binarize(values: np.ndarray, threshold: float = 0) -> np.ndarray:
    """The one place a mask image becomes a bool mask: True where value > threshold.

    ``threshold`` is in 8-bit units (0..254) whatever the file's depth:
    16-bit values are divided by 257 and float values multiplied by 255 first.
    Colour masks count a pixel as set when any channel is above the threshold;
    a mask with a (not fully opaque) alpha channel uses the alpha.
    """
    if not (0 <= threshold < 255):
        raise RetouchError(f"mask threshold must be in 0..254 (8-bit units), got {threshold}")
    v = values
    if v.ndim == 3 and v.shape[2] == 4:
        alpha = v[..., 3]
        full = 255 if v.dtype == np.uint8 else (65535 if v.dtype == np.uint16 else 1.0)
        v = alpha if (alpha != full).any() else v[..., :3]
    if v.dtype == np.uint16:
        scaled = v.astype(np.float32) / 257.0
    elif v.dtype.kind == "f":
        scaled = v.astype(np.float32) * 255.0
    elif v.dtype == bool:
        scaled = v.astype(np.float32) * 255.0
    else:
        scaled = v
    out = scaled > threshold
    if out.ndim == 3:
        out = out.any(axis=2)
    return out


def read_mask(
    path: str | os.PathLike[str],
    *,
    shape: tuple[int, ...] | None = None,
    threshold: float = 0,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
) -> np.ndarray:
    """Read a mask file: any image, non-zero (or above ``threshold``) = fill.

    Parameters
    ----------
    path : str or path-like
        Any image file. White (non-zero) marks the pixels to fill.
    shape : tuple, optional
        The image's shape; a mask of another size is refused with both sizes.
    threshold : float
        Pixels above this value (in 8-bit units) are set.

    Returns
    -------
    ndarray of bool
        ``H x W``, True = fill.
    """
    arr = read(path, max_pixels=max_pixels)
    mask = binarize(arr, threshold)
    if shape is not None and mask.shape != tuple(shape[:2]):
        raise RetouchError(
            f"the mask {_display(Path(path))} is {mask.shape[1]}x{mask.shape[0]} but the image is "
            f"{shape[1]}x{shape[0]} (width x height); they must be the same size"
        )
    return mask


# --------------------------------------------------------------------------- writing


def _format_for(path: Path) -> str:
    ext = path.suffix.lower()
    if ext not in FORMATS:
        raise ImageFileError(
            f"cannot tell the format of {_display(path)} from its extension; "
            f"use one of {', '.join(sorted(FORMATS))}"
        )
    return FORMATS[ext]


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _encode_png16(image: np.ndarray, info: ImageInfo | None) -> bytes:
    bgr = image
    if image.ndim == 3 and image.shape[2] == 3:
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    elif image.ndim == 3 and image.shape[2] == 4:
        bgr = cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA)
    ok, buf = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise ImageFileError("OpenCV could not encode the 16-bit PNG")
    data = buf.tobytes()
    extra = b""
    if info is not None and info.icc_profile:
        extra += _png_chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(info.icc_profile))
    if info is not None and info.exif:
        exif = info.exif[6:] if info.exif.startswith(b"Exif\x00\x00") else info.exif
        extra += _png_chunk(b"eXIf", exif)
    if extra:
        ihdr_end = 8 + 4 + 4 + 13 + 4
        data = data[:ihdr_end] + extra + data[ihdr_end:]
    return data


def _prepare_for_format(image: np.ndarray, fmt: str, path: Path) -> np.ndarray:
    """Convert dtype / channels to what ``fmt`` can hold, refusing silent loss of alpha."""
    has_alpha = image.ndim == 3 and image.shape[2] == 4
    if fmt in ("JPEG", "BMP") and has_alpha:
        raise ImageFileError(
            f"{fmt} cannot store the alpha channel of this image; write {path.stem}.png, .tif or .webp instead"
        )
    if fmt in ("JPEG", "BMP", "WEBP"):
        return to_uint8(image)
    if fmt == "PNG" and image.dtype == np.float32:
        return from_float(image, np.uint16)
    return image


def check_writable(path: str | os.PathLike[str], image: np.ndarray) -> None:
    """Refuse, before any work is done, an output that cannot hold ``image``.

    Checks the extension names a known format and that the format can store
    the image's channels (JPEG and BMP have no alpha channel).
    """
    p = Path(path)
    _prepare_for_format(image[:1, :1], _format_for(p), p)


def _tiff_compression(image: np.ndarray, info: ImageInfo | None) -> str:
    """The compression a TIFF is written with: the input's (``info.extra``), else Deflate.

    JPEG holds 8-bit grey or RGB only; another image read from a JPEG TIFF is
    written with (lossless) Deflate.
    """
    name = (info.extra.get("compression") if info is not None else None) or "deflate"
    if name == "jpeg" and not (image.dtype == np.uint8 and (image.ndim == 2 or image.shape[2] == 3)):
        name = "deflate"
    return name


def _save(image: np.ndarray, fmt: str, fileobj: Any, path: Path, info: ImageInfo | None, quality: int) -> None:
    icc = info.icc_profile if info else None
    exif = info.exif if info else None
    if fmt == "PNG" and image.dtype == np.uint16 and image.ndim == 3:
        fileobj.write(_encode_png16(image, info))
        return
    compression = _tiff_compression(image, info)
    if fmt == "TIFF" and (image.dtype == np.float32 or (image.dtype == np.uint16 and image.ndim == 3) or compression == "jpeg"):
        import tifffile  # Pillow holds no 16-bit colour or float, and its JPEG-in-TIFF encoder fails on some sizes

        kwargs: dict[str, Any] = {
            "photometric": "rgb" if image.ndim == 3 else "minisblack",
            "compression": {"none": None, "deflate": "zlib"}.get(compression, compression),
        }
        if compression == "jpeg":
            kwargs["compressionargs"] = {"level": quality}
        if info is not None and info.extra.get("predictor") and compression in ("lzw", "deflate"):
            kwargs["predictor"] = int(info.extra["predictor"])
        if image.ndim == 3 and image.shape[2] == 4:
            kwargs["extrasamples"] = ["unassalpha"]
        if icc:
            kwargs["iccprofile"] = icc
        if info is not None and info.dpi:
            kwargs["resolution"] = info.dpi
            kwargs["resolutionunit"] = "INCH"
        buf = __import__("io").BytesIO()  # tifffile wants a named file or a buffer
        tifffile.imwrite(buf, image, **kwargs)
        fileobj.write(buf.getbuffer())
        return
    if image.ndim == 2 and image.dtype == np.uint16:
        pil = Image.fromarray(image, mode=None)
    else:
        pil = Image.fromarray(image)
    params: dict[str, Any] = {}
    if icc and fmt in ("PNG", "JPEG", "TIFF", "WEBP"):
        params["icc_profile"] = icc
    if exif and fmt in ("PNG", "JPEG", "TIFF", "WEBP"):
        params["exif"] = exif
    if info is not None and info.dpi and fmt in ("PNG", "JPEG", "TIFF", "BMP"):
        params["dpi"] = info.dpi
    if fmt == "JPEG":
        params.update(quality=quality, subsampling=0 if quality >= 90 else 2)
    elif fmt == "WEBP":
        params.update(quality=quality, lossless=quality >= 100, exact=True)
    elif fmt == "TIFF":
        params["compression"] = {"none": "raw", "lzw": "tiff_lzw", "deflate": "tiff_adobe_deflate"}.get(compression, compression)
    elif fmt == "PNG":
        params["compress_level"] = 3  # zlib level: level 6 took 1.7x the time for a larger file on photos
    pil.save(fileobj, format=fmt, **params)


def write(
    path: str | os.PathLike[str],
    image: np.ndarray,
    *,
    info: ImageInfo | None = None,
    overwrite: bool = False,
    quality: int = 95,
) -> Path:
    """Write an image atomically, in the format its extension names.

    Parameters
    ----------
    path : str or path-like
        Output file; the extension (.png, .jpg, .tif, .bmp, .webp) picks the format.
    image : ndarray
        Grey, RGB or RGBA; uint8, uint16 or float32. 16-bit is kept in PNG and
        TIFF (float32 goes to 16-bit PNG or float TIFF); JPEG, BMP and WebP
        store 8 bits.
    info : ImageInfo, optional
        From :func:`read_with_info`: EXIF (orientation reset), ICC profile and
        a TIFF's compression are written back.
    overwrite : bool
        Replace an existing file. Without it an existing file is an error and
        is left untouched.
    quality : int
        JPEG / WebP quality (1..100).

    Returns
    -------
    Path
        The path written.

    Notes
    -----
    The file is written to a temporary name in the same folder and renamed
    into place, so a reader never sees a half-written file and an error
    leaves nothing behind.
    """
    return write_all([(path, image, info)], overwrite=overwrite, quality=quality)[0]


def _temp_beside(p: Path, folder: Path) -> tuple[int, str]:
    """A new temporary file in ``folder`` named after ``p``; one line if the folder takes none."""
    try:
        return tempfile.mkstemp(dir=folder, prefix=f".{p.name}.", suffix=".part")
    except OSError as e:
        raise ImageFileError(
            f"cannot write {_display(p)}: the folder {_display(folder)} does not take new files "
            f"({e.strerror or type(e).__name__}); choose another folder or change its permissions"
        ) from None


def check_destination(path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Refuse, before any work, a file that could not be written at the end of it.

    The extension must name a format, the folder must exist and take a new
    file (tried with a temporary file, removed at once), and an existing file
    is refused unless ``overwrite``. Each refusal is one line.
    """
    p = Path(path)
    _format_for(p)
    if p.is_dir():
        raise ImageFileError(f"{_display(p)} is a folder; give a file name such as {p / 'out.png'}")
    if p.exists() and not overwrite:
        raise ImageFileError(f"{_display(p)} already exists; choose another name or pass --overwrite to replace it")
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise ImageFileError(f"the folder {_display(folder)} does not exist; create it first")
    fd, probe = _temp_beside(p, folder)
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return p


def _stage(p: Path, image: np.ndarray, info: ImageInfo | None, overwrite: bool, quality: int) -> str:
    """Encode ``image`` into a temporary file beside ``p``; the caller renames it into place."""
    image = check_image(image)
    fmt = _format_for(p)
    if p.exists() and not overwrite:
        raise ImageFileError(f"{_display(p)} already exists; choose another name or pass --overwrite to replace it")
    if p.is_dir():
        raise ImageFileError(f"{_display(p)} is a folder; give a file name such as {p / 'out.png'}")
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.exists():
        raise ImageFileError(f"the folder {_display(folder)} does not exist; create it first")
    data = _prepare_for_format(image, fmt, p)
    fd, tmp = _temp_beside(p, folder)
    try:
        with os.fdopen(fd, "wb") as f:
            _save(data, fmt, f, p, info, quality)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, new_file_mode(p))
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError) and e.errno is not None:  # a full disk, a quota: the user's to fix
            raise ImageFileError(f"cannot write {_display(p)} ({e.strerror}); nothing was written") from None
        raise
    return tmp


def write_all(
    files: list[tuple[str | os.PathLike[str], np.ndarray, ImageInfo | None]],
    *,
    overwrite: bool = False,
    quality: int = 95,
) -> list[Path]:
    """Write several files, all or none (an output and its mask, say).

    Each ``(path, image, info)`` is encoded to a temporary file beside its
    path first; only when every one is ready are they renamed into place,
    and a failure in between puts back what was there before. A bool image is
    written as a mask (255 = fill). See :func:`write` for the rest.

    Returns
    -------
    list of Path
        The paths written, in order.
    """
    if not (1 <= int(quality) <= 100):
        raise RetouchError(f"quality must be in 1..100, got {quality}")
    staged: list[tuple[Path, str]] = []
    done: list[tuple[Path, str | None]] = []  # (target, backup of what it replaced)
    try:
        for path, image, info in files:
            p = Path(path)
            if isinstance(image, np.ndarray) and image.dtype == bool:
                image = check_mask(image).astype(np.uint8) * 255
            staged.append((p, _stage(p, image, info, overwrite, int(quality))))
        for p, tmp in staged:
            if p.exists() and not overwrite:  # appeared while we were writing
                raise ImageFileError(f"{_display(p)} already exists; choose another name or pass --overwrite to replace it")
            backup = None
            if p.exists() and len(staged) > 1:
                backup = f"{tmp}.old"
                os.link(p, backup)
            try:
                os.replace(tmp, p)
            except BaseException:
                if backup is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(backup)
                raise
            done.append((p, backup))
    except BaseException:
        for p, backup in reversed(done):  # put back what the finished renames replaced
            with contextlib.suppress(OSError):
                if backup is not None:
                    os.replace(backup, p)
                else:
                    os.unlink(p)
        for _p, tmp in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    for _p, backup in done:
        if backup is not None:
            with contextlib.suppress(OSError):
                os.unlink(backup)
    return [p for p, _tmp in staged]


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _umask()


def new_file_mode(target: str | os.PathLike[str]) -> int:
    """Permission bits for a file about to be renamed onto ``target``.

    Temporary files are created private (0600); the finished file gets what a
    plain ``open(target, "w")`` would give: the mode of the file it replaces,
    or 0666 less the process umask.
    """
    try:
        return os.stat(target).st_mode & 0o7777
    except OSError:
        return 0o666 & ~_UMASK


def write_mask(path: str | os.PathLike[str], mask: np.ndarray, *, overwrite: bool = False) -> Path:
    """Write a bool mask as an 8-bit image (255 = fill, 0 = keep), atomically.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from retouch import io
    >>> m = np.zeros((5, 5), bool); m[1:3, 1:3] = True
    >>> p = io.write_mask(os.path.join(tempfile.mkdtemp(), "m.png"), m)
    >>> bool((io.read_mask(p) == m).all())
    True
    """
    mask = check_mask(mask)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return write(path, mask.astype(np.uint8) * 255, overwrite=overwrite)
