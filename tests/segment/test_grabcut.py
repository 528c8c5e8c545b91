"""retouch.segment.grabcut: from a box, a rough mask, and foreground / background marks."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage import data
from skimage.filters import sobel
from skimage.segmentation import watershed

from retouch import RetouchError, registry
from retouch.segment.grabcut import grabcut

GREEN, RED, BLUE = (40, 140, 50), (210, 40, 40), (40, 60, 220)


def _scene(h: int = 60, w: int = 80, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A noisy red square on green; returns (RGB uint8, true mask)."""
    rng = np.random.default_rng(seed)
    image = np.empty((h, w, 3), np.float64)
    image[:] = GREEN
    truth = np.zeros((h, w), bool)
    truth[20:40, 30:50] = True
    image[truth] = RED
    image += rng.normal(0, 6, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8), truth


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def test_registered():
    m = registry.get("segment", "grabcut")
    assert set(m.arrays) == {"mask", "foreground_mask", "background_mask"}
    assert m.settings().iterations == 5 and m.settings().rim == 0.7


def test_smoke():
    image, truth = _scene()
    mask = grabcut(image, box=(25, 15, 30, 30))
    assert mask.shape == truth.shape and mask.dtype == bool
    assert _iou(mask, truth) > 0.97


@pytest.mark.parametrize("form", ["u16", "f32", "rgba", "grey", "hw1"])
def test_shapes_and_dtypes(form):
    image, truth = _scene()
    if form == "u16":
        image = image.astype(np.uint16) * 257
    elif form == "f32":
        image = image.astype(np.float32) / 255
    elif form == "rgba":
        image = np.dstack([image, np.full(truth.shape, 128, np.uint8)])
    elif form in ("grey", "hw1"):
        image = np.ascontiguousarray(image[..., 0])  # the red channel: square bright, field dark
        image = image[..., None] if form == "hw1" else image
    mask = grabcut(image, box=(25, 15, 30, 30), iterations=3)
    assert mask.shape == truth.shape and mask.dtype == bool
    assert _iou(mask, truth) > 0.95


def test_same_result_for_uint8_and_uint16():
    image, _ = _scene()
    a = grabcut(image, box=(25, 15, 30, 30), iterations=2)
    b = grabcut(image.astype(np.uint16) * 257, box=(25, 15, 30, 30), iterations=2)
    assert np.array_equal(a, b)  # 8-bit inside, and seeded: repeatable


def test_input_unchanged():
    image, truth = _scene()
    image.setflags(write=False)
    rough = ndi.binary_dilation(truth, iterations=3)
    rough.setflags(write=False)
    fg = np.zeros_like(truth)
    fg[30, 40] = True
    fg.setflags(write=False)
    before = (image.copy(), rough.copy(), fg.copy())
    grabcut(image, box=(25, 15, 30, 30), mask=rough, foreground_mask=fg, background=[(2, 2)], iterations=2)
    assert np.array_equal(image, before[0]) and np.array_equal(rough, before[1]) and np.array_equal(fg, before[2])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, r"grabcut needs a box, a mask or foreground marks to know the object; give box=\(x, y, w, h\)"),
        ({"box": (100, 100, 10, 10)}, r"box \(100, 100, 10, 10\) lies outside the 80x60 image"),
        ({"box": (5, 5, 0, 10)}, "box width and height must be positive"),
        ({"box": (5, 5, 10)}, "box: Tuple should have at least 4 items|box.3: Field required"),
        ({"box": (0, 0, 80, 60)}, "nothing is left as background to learn from"),
        ({"box": (5, 5, 20, 20), "foreground": [(80, 5)]}, r"foreground\[0\] \(80, 5\) is outside the 80x60 image"),
        ({"box": (5, 5, 20, 20), "background": [(5, -3)]}, r"background\[0\] \(5, -3\) is outside"),
        ({"box": (5, 5, 20, 20), "mask": np.zeros((10, 10), bool)}, "mask is 10x10 but the image is 80x60"),
        ({"box": (5, 5, 20, 20), "mask": np.zeros((60, 80), np.uint8)}, "mask must be a bool array"),
        ({"box": (5, 5, 20, 20), "mask": np.zeros((60, 80), bool)}, "nothing is marked as the object"),
        ({"box": (5, 5, 2, 2)}, "GrabCut needs at least 5 object pixels to learn colours from, got 4"),
        ({"box": (5, 5, 20, 20), "iterations": 0}, "iterations: Input should be greater than or equal to 1"),
        ({"box": (5, 5, 20, 20), "radius": -1}, "radius: Input should be greater than or equal to 0"),
        ({"box": (5, 5, 20, 20), "color_space": "hsv"}, "color_space: Input should be 'lab' or 'rgb'"),
    ],
)
def test_bad_input(kwargs, message):
    image, _ = _scene()
    with pytest.raises(RetouchError, match=message):
        grabcut(image, **kwargs)


def test_hand_checked_marks():
    image, truth = _scene()
    # a blue square inside the box too: the box alone takes both squares
    image[22:30, 52:58] = BLUE
    blue = np.zeros_like(truth)
    blue[22:30, 52:58] = True
    both = grabcut(image, box=(25, 15, 38, 30))
    assert both[blue].all() and _iou(both & ~blue, truth) > 0.97
    # a background click on the blue square teaches GrabCut that blue is background
    red_only = grabcut(image, box=(25, 15, 38, 30), background=[(55, 26)], radius=2)
    assert not red_only[blue].any() and _iou(red_only, truth) > 0.97
    # foreground marks are always kept, even outside the box
    kept = grabcut(image, box=(25, 15, 30, 30), foreground=[(5, 5)], radius=1)
    assert kept[4:7, 4:7].sum() == 5 and kept[5, 5]


def test_hand_checked_mask_and_marks_only():
    image, truth = _scene()
    rough = ndi.binary_dilation(truth, iterations=4)  # a sloppy selection, no box
    assert _iou(grabcut(image, mask=rough), truth) > 0.97
    # scribbles only: one stroke on the square, one on the green
    fg = np.zeros_like(truth)
    fg[28:32, 35:45] = True
    bg = np.zeros_like(truth)
    bg[5:8, 5:70] = True
    assert _iou(grabcut(image, foreground_mask=fg, background_mask=bg), truth) > 0.97
    # points only
    assert _iou(grabcut(image, foreground=[(40, 30)], background=[(10, 10), (70, 50)], radius=3), truth) > 0.97


def test_min_part_drops_small_parts():
    image, truth = _scene()
    image[44:46, 52:54] = RED  # a 2x2 red speck inside the box, far from the square
    keep = grabcut(image, box=(25, 15, 33, 33), min_part=0)
    drop = grabcut(image, box=(25, 15, 33, 33))
    assert keep[44:46, 52:54].all() and not drop[44:46, 52:54].any()
    assert np.array_equal(keep & ~drop, np.pad(np.ones((2, 2), bool), ((44, 14), (52, 26))))


def test_quality_coin():
    """A box around one coin of data.coins: the coin as scikit-image's tutorial segments it."""
    coins = data.coins()
    markers = np.zeros(coins.shape, np.uint8)
    markers[coins < 30] = 1
    markers[coins > 150] = 2
    reference = ndi.binary_fill_holes(watershed(sobel(coins), markers) == 2)
    x, y, w, h = box = (305, 156, 75, 70)
    truth = np.zeros_like(reference)
    truth[y : y + h, x : x + w] = reference[y : y + h, x : x + w]
    assert _iou(grabcut(coins, box=box), truth) > 0.95


def test_quality_photo_composite(coffee, chelsea):
    """A disk cut from the coffee photo pasted on the cat photo: the box finds the disk."""
    background = chelsea[50:200, 100:300].copy()
    yy, xx = np.mgrid[:150, :200]
    truth = (yy - 75) ** 2 / 45**2 + (xx - 100) ** 2 / 60**2 <= 1
    obj = coffee[75:225, 190:390]  # the cup and its crema
    image = np.where(truth[..., None], obj, background)
    mask = grabcut(image, box=(30, 20, 140, 110))
    assert _iou(mask, truth) > 0.9


def test_large_image_works_at_reduced_size():
    """Above work_size GrabCut cuts a smaller copy, then recuts the outline band at full size."""
    truth = np.zeros((120, 160), bool)
    truth[40:80, 60:100] = True
    rng = np.random.default_rng(1)
    big = np.where(truth[..., None], RED, GREEN) + rng.normal(0, 6, (120, 160, 3))
    big = np.clip(big, 0, 255).astype(np.uint8)
    box = (50, 30, 60, 60)
    full = grabcut(big, box=box, work_size=None, iterations=3)
    coarse = grabcut(big, box=box, work_size=64, iterations=3)
    assert _iou(full, truth) > 0.98
    assert _iou(coarse, truth) > 0.97
    # the outline is recut at full resolution: no blocky 2.5-pixel steps
    assert np.mean(coarse != truth) < 0.005
    # marks survive the shrinking, even a one-pixel stroke
    stroke = np.zeros_like(truth)
    stroke[10, 5:150] = True
    kept = grabcut(big, box=box, work_size=64, foreground_mask=stroke, iterations=2)
    assert kept[stroke].all()


def _grey_astronaut() -> np.ndarray:
    """skimage's astronaut as a black-and-white scan would give it: its red channel, H x W."""
    return np.ascontiguousarray(data.astronaut()[..., 0])


@pytest.mark.parametrize(
    "box, bound",
    [
        # Measured 0.989 (head) and 0.721 (body: the grey suit and the grey
        # flag behind it are hard to tell apart without colour; 0.688 when
        # this bound was set). Before the
        # texture features both boxes selected nothing (0.00 %), as plain
        # cv2.grabCut on the grey photo still does.
        ((145, 10, 160, 180), 0.9),  # the head
        ((20, 140, 350, 372), 0.68),  # the body in its suit
    ],
)
def test_grey_photo_box_selects_the_object(box, bound):
    """A grey photo: the box finds what the colour photo's box finds, not nothing and not the whole box."""
    colour = grabcut(data.astronaut(), box=box)
    grey = grabcut(_grey_astronaut(), box=box)
    x, y, w, h = box
    assert 0.2 < grey[y : y + h, x : x + w].mean() < 0.9
    assert _iou(grey, colour) > bound


def test_grey_photo_box_needs_the_texture_planes(chelsea):
    """Chelsea in black and white: the box around the cat needs texture, not only luminance.

    Measured IoU with the colour photo's mask 0.505 (its luminance, ``cv2.COLOR_RGB2GRAY``;
    0.508 on its red channel too); with the luminance alone in all three planes (what the
    grey path would be without ``_grey.grey_features``' deviation and gradient) 0.098 and
    0.097: the fur's greys are the wall's.
    """
    import cv2

    box = (20, 5, 400, 295)
    colour = grabcut(chelsea, box=box)
    grey = grabcut(cv2.cvtColor(chelsea, cv2.COLOR_RGB2GRAY), box=box)
    assert _iou(grey, colour) > 0.4


def test_grey_as_rgb_is_cut_like_grey():
    """A black-and-white photo saved as RGB (three equal channels) is cut on the same features."""
    grey = _grey_astronaut()[::2, ::2]
    box = (72, 5, 80, 90)
    assert np.array_equal(grabcut(np.dstack([grey] * 3), box=box), grabcut(grey, box=box))


def test_box_inside_an_object_gives_the_box(chelsea):
    """A 50 x 50 box on chelsea's fur: the object's part inside the box, not an empty selection.

    The fur's colours are all around the box, so GrabCut finds no boundary
    in it and used to return nothing (then `remove` stopped with "the
    selection is empty").
    """
    box = (250, 200, 50, 50)
    mask = grabcut(chelsea, box=box)
    expected = np.zeros(mask.shape, bool)
    expected[200:250, 250:300] = True
    assert np.array_equal(mask, expected)
    # background marks in the box stay out of it
    marked = grabcut(chelsea, box=box, background=[(260, 210)], radius=3)
    assert not marked[210, 260] and marked[240, 290]


def test_box_whose_surroundings_share_the_object_colour_cuts_the_whole_photo():
    """A white square in a box beside a white strip (a boat beside its wake): the object, not the box.

    Near the box the strip makes white background, so the cut on the box and
    its surroundings keeps nothing of the box; the box used to be returned
    whole (six times the object). The whole photo's background is mostly
    other colours, and its cut finds the square (16 % of the box, more than
    the tenth below which a re-cut counts as a sliver and the box is given).
    """
    rng = np.random.default_rng(0)
    image = np.empty((400, 400, 3), np.uint8)
    image[:] = (40, 80, 170)
    image[:200] = (120, 140, 60)
    image = np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)
    image[240:260, 190:210] = 240  # the object
    image[180:320, 226:246] = 240  # the strip just right of the box
    square = np.zeros((400, 400), bool)
    square[240:260, 190:210] = True
    mask = grabcut(image, box=(175, 225, 50, 50))
    assert np.count_nonzero(mask & square) / np.count_nonzero(mask | square) > 0.9


def test_box_learns_the_background_around_it():
    # with a box, GrabCut learns the background from the box grown by
    # ``context`` only: repainting the photo far from the box changes nothing,
    # where plain GrabCut (context=None, the whole photo's colours) is moved by it
    image = data.astronaut().copy()
    box = (150, 20, 130, 190)  # the head and shoulders
    before = grabcut(image, box=box)
    far = image.copy()
    far[:, 380:] = np.random.default_rng(0).integers(0, 256, far[:, 380:].shape, dtype=np.uint8)
    assert np.array_equal(grabcut(far, box=box), before)
    assert not np.array_equal(grabcut(far, box=box, context=None), grabcut(image, box=box, context=None))
    # the crop covers the marks too: a foreground mark far from the box stays selected
    marked = grabcut(image, box=box, foreground=[(500, 300)])
    assert marked[300, 500] and marked[:, 300:].sum() < 200


@pytest.mark.parametrize("rows, whole_kept", [(5, False), (20, True)])
def test_whole_photo_recut_is_kept_only_beyond_a_sliver(monkeypatch, rows, whole_kept):
    """When the cut near the box keeps nothing, the whole photo's cut is kept if it holds a tenth of the box, else the box.

    The cuts are stand-ins: the first (the box and its surroundings) keeps
    nothing, the second (the whole photo) keeps ``rows`` of the box's 100
    rows: 5 % is a sliver (grey held-out DAVIS frames 288 and 292 kept 2 %
    and 1 % of their boxes there, IoU 0.04 and 0.03, where the box has 0.47
    and 0.41), 20 % an object.
    """
    module = sys.modules["retouch.segment.grabcut"]
    shapes = []

    def cut(image, box, rough, fg_marks, bg_marks, settings):
        shapes.append(image.shape[:2])
        out = np.zeros(image.shape[:2], bool)
        if len(shapes) == 2:
            x, y, bw, bh = box
            out[y : y + rows, x : x + bw] = True
        return out

    monkeypatch.setattr(module, "_segment", cut)
    image = np.zeros((400, 400, 3), np.uint8)
    mask = grabcut(image, box=(150, 150, 100, 100))
    # a black photo is grey: the box grown by 2.5 x 0.2 of its size each side, then the whole photo
    assert shapes == [(200, 200), (400, 400)]
    box = np.zeros((400, 400), bool)
    box[150:250, 150:250] = True
    if whole_kept:
        assert np.count_nonzero(mask) == rows * 100 and mask[150:150 + rows, 150:250].all()
    else:
        assert np.array_equal(mask, box)
