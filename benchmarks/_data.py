"""Shared data loading for benchmarks: (image, ground truth) pairs and photo folders.

Generic over any folder laid out as images plus ground-truth masks with the
same base name; the helpers for the evaluation data described in
``/work/shared/data/README.md`` (``grabcut/``, ``cbsd68/``) are thin wrappers.
Images are returned as RGB (or grey) NumPy arrays, never BGR.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = ["Pair", "IMAGE_EXTS", "list_images", "list_pairs", "grabcut_pairs", "cbsd68_images", "read_image", "read_gt"]

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


@dataclass(frozen=True)
class Pair:
    """An image file and its ground-truth mask file (same base name)."""

    name: str
    image: Path
    gt: Path


def list_images(folder: str | Path, exts: tuple[str, ...] = IMAGE_EXTS) -> list[Path]:
    """Image files directly in ``folder``, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no folder {folder}")
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in exts)


def list_pairs(images: str | Path, gts: str | Path, exts: tuple[str, ...] = IMAGE_EXTS) -> list[Pair]:
    """(image, ground truth) pairs matched by base name; images without one are skipped."""
    by_stem = {p.stem: p for p in list_images(gts, exts)}
    return [Pair(p.stem, p, by_stem[p.stem]) for p in list_images(images, exts) if p.stem in by_stem]


def grabcut_pairs(data: str | Path) -> list[Pair]:
    """The GrabCut set under ``data/grabcut``: photos in data_GT, masks in boundary_GT."""
    root = Path(data) / "grabcut"
    return list_pairs(root / "data_GT", root / "boundary_GT")


def cbsd68_images(data: str | Path) -> list[Path]:
    """The 68 CBSD68 colour photos under ``data/cbsd68``."""
    return list_images(Path(data) / "cbsd68")


def read_image(path: str | Path) -> np.ndarray:
    """An image file as uint8 RGB (``H x W x 3``) or grey (``H x W``)."""
    with Image.open(path) as im:
        im = im.convert("RGB") if im.mode not in ("L", "RGB") else im
        return np.asarray(im).copy()


def read_gt(path: str | Path) -> np.ndarray:
    """A ground-truth mask file as a uint8 ``H x W`` array with its values as stored."""
    with Image.open(path) as im:
        arr = np.asarray(im)
    return arr if arr.ndim == 2 else arr[..., 0]
