"""Synthetic damage with a known position: scratches, dust spots and overlaid text.

Used by ``benchmarks/restore.py`` (and small enough for tests to reuse).
Everything is drawn from a :class:`numpy.random.Generator`, so a fixed seed
gives the same damage on every machine; text uses Pillow's built-in scalable
font (``ImageFont.load_default(size=...)``), never a system font.

Each layer is drawn as a coverage map (anti-aliased by 4x supersampling) and
a colour, then alpha-composited over the photo in float [0, 1]:

- scratches: 1 to 4 long thin gently curved lines (quadratic Bezier curves
  80 px to the image's longer side long), 1 to 4 px wide, light (0.8 to 1.0)
  or dark (0 to 0.2), opacity 0.55 to 1;
- spots: 5 to 60 irregular blotches 2 to 15 px across (log-uniform, so most
  are small), light or dark, opacity 0.7 to 1, some with soft edges;
- text: a camera date stamp (orange / red / yellow, near a corner) or a
  one- or two-line caption (white, black, yellow, red, blue, green), 12 to
  34 px, opaque.

The true damage mask is the set of pixels that the damage visibly changed:
at least ``VISIBLE`` (10/255) in some channel. A dark spot laid on black hair
changes nothing and is not counted as damage a detector should find.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

__all__ = ["VISIBLE", "KINDS", "SCRATCH_STYLES", "draw_scratches", "draw_spots", "draw_text", "damage"]

VISIBLE = 10 / 255
KINDS = ("scratches", "spots", "text")
_SS = 4  # supersampling factor for anti-aliasing

Layer = tuple[np.ndarray, np.ndarray]  # (coverage H x W float32 in [0, 1], colour H x W x 3 float32)


def _coverage(canvas: Image.Image, shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    small = canvas.resize((w, h), Image.Resampling.BOX)
    return np.asarray(small, np.float32) / 255.0


def _bezier(p0: np.ndarray, p1: np.ndarray, p2: np.ndarray, n: int) -> np.ndarray:
    t = np.linspace(0.0, 1.0, n)[:, None]
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2


SCRATCH_STYLES = ("curved", "straight", "film")


def draw_scratches(shape: tuple[int, int], rng: np.random.Generator, style: str = "curved") -> list[Layer]:
    """1 to 4 long thin curves; one layer per scratch.

    ``style``: ``"curved"`` (the benchmark's: any direction, bowed by up to
    15 % of the length), ``"straight"`` (any direction, not bowed) or
    ``"film"`` (straight and within 3 degrees of vertical, as a scratch along
    a film strip). Each draws the same random numbers, so one seed gives the
    same scratches but for their bow and direction.
    """
    if style not in SCRATCH_STYLES:
        raise ValueError(f"style must be one of {SCRATCH_STYLES}, not {style!r}")
    h, w = shape
    layers: list[Layer] = []
    for _ in range(int(rng.integers(1, 5))):
        length = rng.uniform(80, max(h, w))
        angle = rng.uniform(0, np.pi)
        if style == "film":
            angle = np.pi / 2 + (angle / np.pi - 0.5) * np.deg2rad(6)
        centre = np.array([rng.uniform(0.1 * w, 0.9 * w), rng.uniform(0.1 * h, 0.9 * h)])
        d = np.array([np.cos(angle), np.sin(angle)]) * length / 2
        normal = np.array([-d[1], d[0]]) / (length / 2)
        p0, p2 = centre - d, centre + d
        bow = rng.uniform(-0.15, 0.15)
        p1 = centre + normal * (bow if style == "curved" else 0.0) * length
        pts = _bezier(p0, p1, p2, 64) * _SS
        width = rng.uniform(1.0, 4.0)
        canvas = Image.new("L", (w * _SS, h * _SS), 0)
        ImageDraw.Draw(canvas).line([tuple(p) for p in pts], fill=255, width=max(1, round(width * _SS)), joint="curve")
        cov = _coverage(canvas, shape) * rng.uniform(0.55, 1.0)
        grey = rng.uniform(0.8, 1.0) if rng.random() < 0.5 else rng.uniform(0.0, 0.2)
        tint = rng.uniform(-0.03, 0.03, 3)
        colour = np.broadcast_to(np.clip(grey + tint, 0, 1).astype(np.float32), (h, w, 3))
        layers.append((cov, colour))
    return layers


def draw_spots(shape: tuple[int, int], rng: np.random.Generator) -> list[Layer]:
    """5 to 60 irregular blotches 2 to 15 px across, light or dark; one layer per polarity."""
    h, w = shape
    n = int(rng.integers(5, 61))
    light_share = rng.uniform(0, 1)
    layers: list[Layer] = []
    for light in (True, False):
        canvas = Image.new("L", (w * _SS, h * _SS), 0)
        soft = Image.new("L", (w * _SS, h * _SS), 0)
        draw, draw_soft = ImageDraw.Draw(canvas), ImageDraw.Draw(soft)
        count = 0
        for _ in range(n):
            if (rng.random() < light_share) != light:
                continue
            count += 1
            size = float(np.exp(rng.uniform(np.log(2), np.log(15))))
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            k = int(rng.integers(7, 13))
            theta = np.sort(rng.uniform(0, 2 * np.pi, k))
            aspect = rng.uniform(0.5, 1.0)
            rot = rng.uniform(0, np.pi)
            r = size / 2 * rng.uniform(0.7, 1.0, k)
            x, y = r * np.cos(theta), r * aspect * np.sin(theta)
            xs = cx + x * np.cos(rot) - y * np.sin(rot)
            ys = cy + x * np.sin(rot) + y * np.cos(rot)
            level = int(255 * rng.uniform(0.7, 1.0))
            poly = [(float(a * _SS), float(b * _SS)) for a, b in zip(xs, ys)]
            (draw_soft if rng.random() < 0.3 else draw).polygon(poly, fill=level)
        if not count:
            continue
        soft = soft.filter(ImageFilter.GaussianBlur(0.8 * _SS))
        cov = np.maximum(_coverage(canvas, shape), _coverage(soft, shape))
        grey = rng.uniform(0.85, 1.0) if light else rng.uniform(0.0, 0.15)
        colour = np.full((h, w, 3), grey, np.float32)
        layers.append((cov, colour))
    return layers


_WORDS = (
    "summer holiday", "grandma's garden", "our first house", "happy birthday",
    "lake tahoe", "christmas morning", "family reunion", "the old farm",
    "paris", "graduation day", "trip to the coast", "uncle joe", "spring",
    "wedding", "camping", "the harbour", "first day of school", "picnic",
)
_STAMP_COLOURS = ((1.0, 0.55, 0.1), (1.0, 0.35, 0.15), (1.0, 0.8, 0.2), (0.95, 0.2, 0.1))
_CAPTION_COLOURS = (
    (1.0, 1.0, 1.0), (0.02, 0.02, 0.02), (1.0, 0.9, 0.1), (0.9, 0.1, 0.1),
    (0.15, 0.3, 0.95), (0.1, 0.75, 0.2), (1.0, 0.55, 0.1),
)


def _stamp(rng: np.random.Generator) -> str:
    y, m, d = int(rng.integers(70, 100)), int(rng.integers(1, 13)), int(rng.integers(1, 29))
    style = int(rng.integers(0, 4))
    if style == 0:
        return f"'{y:02d} {m} {d}"
    if style == 1:
        return f"19{y:02d}.{m:02d}.{d:02d}"
    if style == 2:
        return f"{m:02d}/{d:02d}/19{y:02d}"
    return f"{d} {m} '{y:02d}"


def draw_text(shape: tuple[int, int], rng: np.random.Generator) -> list[Layer]:
    """A date stamp or a caption (one or two lines), in Pillow's built-in font."""
    h, w = shape
    stamp = rng.random() < 0.5
    if stamp:
        lines = [_stamp(rng)]
        colour = _STAMP_COLOURS[int(rng.integers(len(_STAMP_COLOURS)))]
        size = int(rng.integers(14, 29))
    else:
        words = _WORDS[int(rng.integers(len(_WORDS)))]
        year = f" {int(rng.integers(1950, 2000))}" if rng.random() < 0.5 else ""
        lines = [words + year]
        if rng.random() < 0.3:
            lines.append(_WORDS[int(rng.integers(len(_WORDS)))])
        if rng.random() < 0.5:
            lines = [ln.title() for ln in lines]
        colour = _CAPTION_COLOURS[int(rng.integers(len(_CAPTION_COLOURS)))]
        size = int(rng.integers(12, 35))
    font = ImageFont.load_default(size=size * _SS)
    canvas = Image.new("L", (w * _SS, h * _SS), 0)
    draw = ImageDraw.Draw(canvas)
    boxes = [draw.textbbox((0, 0), ln, font=font) for ln in lines]
    tw = max(b[2] for b in boxes)
    line_h = int(size * _SS * 1.25)
    th = line_h * len(lines)
    margin = int(0.04 * min(w, h) * _SS)
    max_x, max_y = max(margin, w * _SS - tw - margin), max(margin, h * _SS - th - margin)
    if stamp:  # camera date stamps sit near a corner, mostly bottom right
        x = max_x if rng.random() < 0.75 else margin
        y = max_y if rng.random() < 0.75 else margin
    else:
        x = int(rng.uniform(margin, max_x))
        y = int(max_y if rng.random() < 0.5 else rng.uniform(margin, max_y))
    for i, ln in enumerate(lines):
        draw.text((x, y + i * line_h), ln, font=font, fill=255)
    cov = _coverage(canvas, shape)
    col = np.broadcast_to(np.asarray(colour, np.float32), (h, w, 3))
    return [(cov, col)]


_DRAW = {"scratches": draw_scratches, "spots": draw_spots, "text": draw_text}


def damage(image: np.ndarray, kinds: tuple[str, ...] | str, seed: int, *,
           scratch_style: str = "curved") -> tuple[np.ndarray, np.ndarray]:
    """Lay damage of ``kinds`` over ``image`` (uint8 RGB); return (damaged uint8, true mask).

    The same ``(seed, kind)`` gives the same damage whichever other kinds are
    drawn with it, so the combined photo carries exactly the single-kind damage.
    ``scratch_style`` is :func:`draw_scratches`' ``style``.
    """
    if isinstance(kinds, str):
        kinds = (kinds,)
    h, w = image.shape[:2]
    draw = dict(_DRAW, scratches=partial(draw_scratches, style=scratch_style))
    f = image.astype(np.float32) / 255.0
    out = f.copy()
    for kind in KINDS:
        if kind not in kinds:
            continue
        rng = np.random.default_rng([seed, KINDS.index(kind)])
        for cov, colour in draw[kind]((h, w), rng):
            a = cov[..., None]
            out = out * (1 - a) + colour * a
    damaged = np.clip(np.rint(out * 255), 0, 255).astype(np.uint8)
    truth = np.abs(damaged.astype(np.int16) - image.astype(np.int16)).max(axis=2) >= round(VISIBLE * 255)
    return damaged, truth
