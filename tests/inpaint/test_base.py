"""retouch.inpaint._base: the shared contract, crops around holes, blending."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from retouch import inpaint
from retouch.validate import RetouchError
from retouch.inpaint._base import _block_any, crop_boxes, fill


def test_crop_boxes_cover_each_hole_with_margin():
    mask = np.zeros((1000, 1200), bool)
    mask[100:110, 100:120] = True
    mask[800:805, 900:950] = True
    boxes = crop_boxes(mask, lambda h, w: 16)
    assert len(boxes) == 2
    covered = np.zeros_like(mask)
    for ys, xs in boxes:
        covered[ys, xs] = True
    assert covered[mask].all()
    assert covered.sum() < 0.02 * mask.size
    (ys, xs) = boxes[0]
    assert (ys.start, ys.stop, xs.start, xs.stop) == (84, 126, 84, 136)


def test_crop_boxes_merge_overlapping_and_fall_back_to_whole_image():
    mask = np.zeros((100, 100), bool)
    mask[10:12, 10:12] = True
    mask[10:12, 30:32] = True  # within each other's margin: one crop
    assert len(crop_boxes(mask, lambda h, w: 16)) == 1
    mask[80:90, 80:90] = True
    boxes = crop_boxes(mask, lambda h, w: 40)  # large margins cover most of the image
    assert boxes == [(slice(0, 100), slice(0, 100))]


def test_fill_calls_core_on_crops_only():
    image = np.random.default_rng(0).integers(0, 256, (2000, 3000, 3), dtype=np.uint8)
    mask = np.zeros(image.shape[:2], bool)
    mask[500:520, 500:530] = True
    mask[1500:1510, 2500:2560] = True
    seen = []

    def core(color, hole):
        seen.append(color.shape)
        out = color.copy()
        out[hole] = 0
        return out

    out = fill(image, mask, core, margin=lambda h, w: 20)
    assert sorted(seen) == sorted([(60, 70, 3), (50, 100, 3)])
    assert (out[mask] == 0).all() and np.array_equal(out[~mask], image[~mask])


def test_crops_give_the_same_pixels_as_the_whole_image(astronaut):
    mask = np.zeros(astronaut.shape[:2], bool)
    mask[50:54, 40:90] = True
    mask[400:403, 300:380] = True
    via_crops = inpaint.telea(astronaut, mask)
    whole = fill(astronaut, mask, lambda c, h: inpaint.telea(c, h), crops=False)
    assert np.array_equal(via_crops, whole)


def test_large_image_memory_stays_within_a_few_copies():
    # 24 megapixels with a few small holes: the work is on crops, and the
    # memory peak is a few copies of the image (the output plus small crops).
    image = np.zeros((4000, 6000, 3), np.uint8)
    image[:] = np.arange(6000, dtype=np.uint8)[None, :, None]
    mask = np.zeros(image.shape[:2], bool)
    for y, x in [(500, 500), (2000, 3000), (3500, 5500)]:
        mask[y : y + 12, x : x + 40] = True
    tracemalloc.start()
    try:
        out = inpaint.telea(image, mask)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert np.array_equal(out[~mask], image[~mask])
    assert peak < 1.5 * image.nbytes, peak / image.nbytes  # the output itself is one copy


def test_extras_are_cropped_alongside():
    image = np.zeros((300, 300), np.uint8)
    mask = np.zeros((300, 300), bool)
    mask[100:110, 100:110] = True
    source = np.zeros((300, 300), bool)
    source[:, :150] = True
    got = {}

    def core(color, hole, *, source_mask):
        got["shape"] = source_mask.shape
        got["frac"] = source_mask.mean()
        return color

    fill(image, mask, core, margin=lambda h, w: 20, extras={"source_mask": source})
    assert got["shape"] == (50, 50) and got["frac"] == 1.0


def test_extras_checked():
    image = np.zeros((30, 30), np.uint8)
    mask = np.zeros((30, 30), bool)
    mask[5, 5] = True
    with pytest.raises(RetouchError, match=r"source_mask is 3x3 but the image is 30x30"):
        fill(image, mask, lambda c, h, source_mask: c, extras={"source_mask": np.zeros((3, 3), bool)})


def test_blend():
    a = np.zeros((2, 2, 3), np.uint16)
    b = np.full((2, 2, 3), 1000, np.uint16)
    w = np.array([[0, 0.25], [0.5, 1]], np.float32)
    out = inpaint.blend(a, b, w)
    assert out.dtype == np.uint16
    assert out[..., 0].tolist() == [[0, 250], [500, 1000]]
    with pytest.raises(RetouchError, match="filled must match original"):
        inpaint.blend(a, b[..., 0], w)
    with pytest.raises(RetouchError, match=r"weight is 3x1 but the image is 2x2"):
        inpaint.blend(a, b, np.zeros((1, 3), np.float32))


def test_block_any_matches_a_plain_loop():
    rng = np.random.default_rng(0)
    for _ in range(100):
        h, w = rng.integers(1, 40, 2)
        m = rng.random((h, w)) > 0.9
        b = int(rng.integers(1, 9))
        ref = np.zeros((-(-h // b), -(-w // b)), bool)
        for y, x in zip(*np.nonzero(m)):
            ref[y // b, x // b] = True
        assert np.array_equal(_block_any(m, b), ref)


def test_crop_boxes_on_a_large_mask_are_exact():
    mask = np.zeros((3000, 2000), bool)  # 6 MP: found on the block grid
    mask[1001:1013, 503:541] = True
    assert crop_boxes(mask, lambda h, w: 10) == [(slice(991, 1023), slice(493, 551))]
