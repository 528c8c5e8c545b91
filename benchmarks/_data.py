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

__all__ = ["Pair", "IMAGE_EXTS", "list_images", "list_pairs", "grabcut_pairs", "cbsd68_images", "davis_pairs", "davis_object", "DAVIS_TUNE", "DAVIS_SCORE", "read_image", "read_gt"]

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


# DAVIS 345's frames are numbered 000-344 in video order, so neighbouring frames
# come from the same clip. The split is by contiguous blocks, fixed by file
# name, so that the held-out half shares (almost) no clip with the tuning half:
# choose settings on DAVIS_TUNE only; report DAVIS_SCORE.
DAVIS_TUNE = range(0, 172)
DAVIS_SCORE = range(172, 345)


def davis_pairs(data: str | Path, split: str = "all") -> list[Pair]:
    """DAVIS 345 frames and object masks under ``data/davis345`` (img/*.jpg, gt/*.png).

    ``split`` is ``"tune"`` (frames 000-171), ``"score"`` (172-344, never used to
    choose a setting) or ``"all"``. A mask's every non-zero value is the object
    (see :func:`read_gt` and ``davis_object``).
    """
    if split not in ("tune", "score", "all"):
        raise ValueError(f"split must be 'tune', 'score' or 'all', not {split!r}")
    root = Path(data) / "davis345"
    pairs = list_pairs(root / "img", root / "gt")
    if split == "all":
        return pairs
    keep = DAVIS_TUNE if split == "tune" else DAVIS_SCORE
    return [p for p in pairs if int(p.name) in keep]


def davis_object(gt: np.ndarray) -> np.ndarray:
    """A DAVIS mask (palette values 0, 1-4, 255) as a bool object mask."""
    return np.asarray(gt) != 0


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
