"""``retouch demo``: the main job on a photo that ships with scikit-image.

Removes the rocket from scikit-image's launch-pad photo (``data.rocket()``):
a box around it and one foreground point on its nose cone, GrabCut to find
it, holes filled and the mask grown, then the hole filled. Writes before,
mask, overlay, after and a side-by-side picture.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from rich.console import Console

from . import io
from .convert import overlay
from .validate import RetouchError
from .pipeline import Recipe

__all__ = ["DEMO_BOX", "DEMO_POINTS", "demo_recipe", "run_demo"]

DEMO_BOX = (296, 122, 50, 290)
"""x, y, width, height of the box around the rocket in ``skimage.data.rocket()``."""

DEMO_POINTS = [(321, 140)]
"""A foreground point on the nose cone, which GrabCut alone leaves out (its dark band looks like sky)."""


def demo_recipe() -> Recipe:
    """Box + point -> GrabCut -> fill holes -> grow 6 px -> fill with ``patchmatch``.

    The hole is a strip about 60 px wide over sky, gantry and lights. ``auto``
    treats it as narrow (its inscribed radius is under the 24 px threshold)
    and gives it to Telea, which leaves a visible vertical streak here; the
    exemplar fill copies sky and gantry texture and leaves none.
    """
    return Recipe.from_dict(
        {
            "segment": [{"method": "grabcut", "box": DEMO_BOX, "foreground": DEMO_POINTS}],
            "refine": [{"method": "fill_holes"}, {"method": "grow", "pixels": 6}],
            "inpaint": {"method": "patchmatch"},
        },
        source="demo recipe",
    )


def side_by_side(*images: np.ndarray, gap: int = 8) -> np.ndarray:
    """Images of the same height next to each other on a white background."""
    h = max(i.shape[0] for i in images)
    w = sum(i.shape[1] for i in images) + gap * (len(images) - 1)
    canvas = np.full((h, w, 3), 255, np.uint8)
    x = 0
    for im in images:
        canvas[: im.shape[0], x : x + im.shape[1]] = im if im.ndim == 3 else im[..., None]
        x += im.shape[1] + gap
    return canvas


def run_demo(out_dir: Path, *, console: Console | None = None) -> dict[str, Path]:
    """Run the demo and write its pictures into ``out_dir``; return their paths."""
    from skimage import data

    console = console or Console(stderr=True)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise RetouchError(f"{out_dir} exists and is not a folder; choose another --out")
    out_dir.mkdir(parents=True, exist_ok=True)
    image = data.rocket()
    recipe = demo_recipe()
    console.print(
        f"photo: scikit-image rocket, {image.shape[1]}x{image.shape[0]}; box {DEMO_BOX}, foreground point {DEMO_POINTS[0]}"
    )
    t0 = time.perf_counter()
    with console.status("segmenting with GrabCut from the box…"):
        mask, _ = recipe.make_mask(image)
    t1 = time.perf_counter()
    console.print(f"[green]✓[/] mask: {100 * mask.mean():.1f} % of the photo ({t1 - t0:.2f} s)")
    with console.status(f"filling with {recipe.inpaint.method}…"):
        after = recipe.inpaint.resolve().func(image, mask, **recipe.inpaint.settings)
    t2 = time.perf_counter()
    console.print(f"[green]✓[/] filled with {recipe.inpaint.method} ({t2 - t1:.2f} s)")
    preview = overlay(image, mask)
    paths = {
        "before": out_dir / "before.png",
        "mask": out_dir / "mask.png",
        "overlay": out_dir / "overlay.png",
        "after": out_dir / "after.png",
        "compare": out_dir / "compare.png",
    }
    io.write(paths["before"], image, overwrite=True)
    io.write_mask(paths["mask"], mask, overwrite=True)
    io.write(paths["overlay"], preview, overwrite=True)
    io.write(paths["after"], after, overwrite=True)
    io.write(paths["compare"], side_by_side(image, preview, after), overwrite=True)
    (out_dir / "recipe.json").write_text(recipe.to_json() + "\n", encoding="utf-8")
    console.print(f"wrote before, mask, overlay, after and compare (before | mask | after) PNGs and recipe.json into [bold]{out_dir.resolve()}[/]")
    return paths
