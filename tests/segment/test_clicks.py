"""Tests of retouch.segment.clicks and ClickSession (interactive click segmentation)."""

from __future__ import annotations

import numpy as np
import pytest

from retouch import registry
from retouch.validate import RetouchError
from retouch.segment import ClickSession, clicks

from ..conftest import as_dtypes


def _iou(a: np.ndarray, b: np.ndarray, scored: np.ndarray | bool = True) -> float:
    return np.count_nonzero(a & b & scored) / max(1, np.count_nonzero((a | b) & scored))


@pytest.fixture(scope="module")
def disk_image() -> np.ndarray:
    """A 120x160 grey-blue background with a red disk of radius 30 at (80, 60), mild noise."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:120, 0:160]
    disk = (xx - 80) ** 2 + (yy - 60) ** 2 <= 30**2
    img = np.empty((120, 160, 3), np.float32)
    img[:] = (0.35, 0.45, 0.55)
    img[disk] = (0.85, 0.15, 0.1)
    img += rng.normal(0, 0.03, img.shape).astype(np.float32)
    img = (np.clip(img, 0, 1) * 255).astype(np.uint8)
    img.setflags(write=False)
    return img


@pytest.fixture(scope="module")
def disk_truth() -> np.ndarray:
    yy, xx = np.mgrid[0:120, 0:160]
    return (xx - 80) ** 2 + (yy - 60) ** 2 <= 30**2


_CUP_BOX = (70, 15, 420, 355)  # x, y, w, h around cup, saucer and spoon


@pytest.fixture(scope="module")
def cup_truth(coffee) -> tuple[np.ndarray, np.ndarray]:
    """Cup and saucer of skimage's coffee photo as GrabCut finds them from a box, and where to score.

    A box is far more information than one click, and GrabCut with a box is
    within a few percent of hand-drawn masks on clear objects like this one
    (checked by eye: the cup, its handle, the saucer and most of the spoon,
    none of the table). The box cuts off the saucer's lowest rim, so the
    truth is only defined inside the box: IoU is scored there.
    """
    import cv2

    bgr = np.ascontiguousarray(coffee[..., ::-1])
    m = np.zeros(coffee.shape[:2], np.uint8)
    cv2.setRNGSeed(0)
    cv2.grabCut(bgr, m, _CUP_BOX, np.zeros((1, 65)), np.zeros((1, 65)), 5, cv2.GC_INIT_WITH_RECT)
    x, y, w, h = _CUP_BOX
    scored = np.zeros(coffee.shape[:2], bool)
    scored[y:y + h, x:x + w] = True
    return (m == cv2.GC_FGD) | (m == cv2.GC_PR_FGD), scored


# ------------------------------------------------------------------ smoke, shapes, dtypes
def test_smoke(disk_image):
    m = clicks(disk_image, clicks=[(80, 60, True)])
    assert m.shape == disk_image.shape[:2] and m.dtype == bool and m[60, 80]


@pytest.mark.parametrize("kind", ["uint8", "uint16", "float32"])
def test_dtypes(disk_image, disk_truth, kind):
    img = as_dtypes(disk_image)[kind]
    m = clicks(img, clicks=[(80, 60, True)])
    assert m.dtype == bool and m.shape == (120, 160)
    assert _iou(m, disk_truth) > 0.9


def test_grey_and_rgba(disk_image, disk_truth):
    grey = disk_image.mean(axis=2).astype(np.uint8)
    rgba = np.dstack([disk_image, np.full(disk_image.shape[:2], 255, np.uint8)])
    assert clicks(grey, clicks=[(80, 60, True)]).shape == (120, 160)
    assert _iou(clicks(rgba, clicks=[(80, 60, True)]), disk_truth) > 0.9


def test_input_unchanged(disk_image):
    before = disk_image.copy()
    prev = np.zeros(disk_image.shape[:2], bool)
    prev.setflags(write=False)
    clicks(disk_image, clicks=[(80, 60, True), (10, 10, False)], previous=prev)
    assert np.array_equal(before, disk_image)
    assert not prev.any()


def test_registered():
    m = registry.get("segment", "clicks")
    assert "previous" in m.arrays
    assert {"max_pixels", "superpixel_size", "stability", "band"} <= set(m.settings.model_fields)


# ------------------------------------------------------------------ bad input
def test_click_outside_image_is_an_error(disk_image):
    with pytest.raises(RetouchError, match=r"clicks\[1\] \(200, 10\) is outside the 160x120 image"):
        clicks(disk_image, clicks=[(80, 60, True), (200, 10, False)])


def test_session_click_outside_image_is_an_error(disk_image):
    s = ClickSession(disk_image)
    with pytest.raises(RetouchError, match=r"is outside the 160x120 image"):
        s.add(-3, 5)
    assert s.clicks == []


def test_no_click_is_an_error(disk_image):
    with pytest.raises(RetouchError, match="clicks is empty; give at least one click"):
        clicks(disk_image, clicks=[])


def test_bad_setting(disk_image):
    with pytest.raises(RetouchError, match="superpixel_size"):
        clicks(disk_image, clicks=[(80, 60, True)], superpixel_size=1)
    with pytest.raises(RetouchError, match="ClickSession takes clicks through add"):
        ClickSession(disk_image, clicks=[(1, 1, True)])


def test_bad_previous(disk_image):
    with pytest.raises(RetouchError, match="previous is 10x10 but the image is 160x120"):
        clicks(disk_image, clicks=[(80, 60, True)], previous=np.zeros((10, 10), bool))


# ------------------------------------------------------------------ hand-checked cases
def test_disk_one_click(disk_image, disk_truth):
    m = clicks(disk_image, clicks=[(80, 60, True)])
    # a clean disk on a flat background: one click gets it to the pixel band
    assert _iou(m, disk_truth) > 0.95


def test_negative_click_removes_the_clicked_region():
    # two touching squares of the same colour: one positive click takes both,
    # a negative click on the right one removes it and keeps the left one
    img = np.full((100, 160, 3), 40, np.uint8)
    img[30:70, 30:80] = (200, 60, 60)
    img[30:70, 80:130] = (190, 70, 60)
    img[30:70, 79:81] = (120, 40, 40)  # a faint seam
    left = np.zeros((100, 160), bool)
    left[30:70, 30:80] = True
    right = np.zeros((100, 160), bool)
    right[30:70, 80:130] = True
    s = ClickSession(img)
    m1 = s.add(55, 50, True)
    assert m1[50, 55]
    m2 = s.add(105, 50, False)
    assert not m2[50, 105]
    assert np.count_nonzero(m2 & right) < 0.1 * right.sum()  # the clicked region went
    assert np.count_nonzero(m2 & left) > 0.9 * left.sum()  # the rest stayed


def test_negative_click_on_a_thin_strip_removes_the_whole_strip():
    # an object with a thin bar of a close colour running off it (a rail
    # behind a motorbike): one positive click takes both; a negative click in
    # the middle of the bar removes all of it, not just a disc around the click
    # (before the strip term, the size guard held the bar beyond twice its
    # half-width: half of it stayed)
    rng = np.random.default_rng(0)
    img = np.full((160, 240, 3), (60, 90, 60), np.float32)
    img[40:110, 40:100] = (200, 60, 60)
    img[70:76, 100:220] = (185, 75, 60)
    img = np.clip(img + rng.normal(0, 4, img.shape), 0, 255).astype(np.uint8)
    obj = np.zeros((160, 240), bool)
    obj[40:110, 40:100] = True
    bar = np.zeros((160, 240), bool)
    bar[70:76, 100:220] = True
    s = ClickSession(img)
    m1 = s.add(70, 75, True)
    assert np.count_nonzero(m1 & bar) > 0.9 * bar.sum()  # the bar was taken with the object
    m2 = s.add(160, 72, False)
    assert np.count_nonzero(m2 & bar) < 0.1 * bar.sum()
    assert np.count_nonzero(m2 & obj) > 0.95 * obj.sum()


def test_session_undo_reset(disk_image):
    s = ClickSession(disk_image)
    m1 = s.add(80, 60)
    m2 = s.add(5, 5, False)
    assert s.clicks == [(80, 60, True), (5, 5, False)]
    assert np.array_equal(s.undo(), m1)
    assert np.array_equal(s.mask, m1)
    assert not s.reset().any() and s.clicks == []
    assert np.array_equal(s.undo(), np.zeros((120, 160), bool))
    assert m2.dtype == bool


def test_session_downscales_large_images(disk_image, disk_truth):
    big = np.repeat(np.repeat(disk_image, 2, axis=0), 2, axis=1)
    truth = np.repeat(np.repeat(disk_truth, 2, axis=0), 2, axis=1)
    s = ClickSession(big, max_pixels=20_000)
    m = s.add(160, 120)
    assert m.shape == truth.shape
    assert _iou(m, truth) > 0.9


def test_order_of_clicks_does_not_matter(coffee):
    cl = [(300, 190, True), (60, 360, False), (520, 60, False), (300, 330, True)]
    a = clicks(coffee, clicks=cl)
    b = clicks(coffee, clicks=cl[::-1])
    c = clicks(coffee, clicks=[cl[2], cl[0], cl[3], cl[1]])
    # the same set of clicks: the same mask up to ties (well under 0.5 % of the pixels)
    assert np.count_nonzero(a != b) < 0.005 * a.size
    assert np.count_nonzero(a != c) < 0.005 * a.size


def test_new_click_changes_little_elsewhere(coffee):
    s = ClickSession(coffee)
    m1 = s.add(300, 190, True)
    m2 = s.add(570, 30, False)  # a negative click in the far corner of the table
    yy, xx = np.mgrid[0:400, 0:600]
    far = (xx - 570) ** 2 + (yy - 30) ** 2 > 120**2
    assert np.count_nonzero((m1 != m2) & far) < 0.01 * far.sum()


# ------------------------------------------------------------------ quality on a real photo
def test_quality_one_click_on_the_coffee_cup(coffee, cup_truth):
    truth, scored = cup_truth
    m = clicks(coffee, clicks=[(300, 250, True)])
    # Bound 0.55: the object is two-coloured (red porcelain with a white rim
    # and coffee inside); one click on the red cup body cannot know that the
    # rim and the coffee belong to it, and takes the red porcelain (cup and
    # saucer, the larger part: about 0.62 here). On the GrabCut set this
    # method's mean IoU after one click is about 0.78, with single images down
    # to about 0.3 (benchmarks/segment_clicks.py).
    assert _iou(m, truth, scored) > 0.55


def test_quality_more_clicks_do_not_hurt(coffee, cup_truth):
    truth, scored = cup_truth
    s = ClickSession(coffee)
    cl = [(300, 250, True), (290, 110, True), (40, 380, False), (210, 140, True)]
    masks = [s.add(*c) for c in cl]
    ious = [_iou(m, truth, scored) for m in masks]
    # The first two clicks correct the mask (the coffee, the white rim):
    # measured 0.63 -> 0.67. The last two agree with the mask where they are
    # given: (40, 380) is on the table, already background, and (210, 140) on
    # the cup, already taken. A click that corrects nothing must change
    # nothing; before that rule a re-solve with the retrained colour models
    # removed 645 (superpixel_size 10) to 1,545 (size 8) cup pixels at the far
    # side of the cup (IoU 0.675 -> 0.661), which this test caught.
    assert all(b >= a - 0.01 for a, b in zip(ious, ious[1:]))
    assert np.array_equal(masks[2], masks[1]) and np.array_equal(masks[3], masks[2])
    # the same rule where the CLI and the web app call it: the clicks at once, with the mask before the last
    assert np.array_equal(clicks(coffee, clicks=cl[:3], previous=masks[1]), masks[1])
    assert ious[-1] > 0.6


def _next_click(pred, truth, scored, not_clicked):
    """The benchmark's simulated user: the interior-most pixel of the largest error."""
    import cv2

    fn = np.pad(truth & ~pred & scored, 1).astype(np.uint8)
    fp = np.pad(~truth & pred & scored, 1).astype(np.uint8)
    fn_dt = cv2.distanceTransform(fn, cv2.DIST_L2, 0)[1:-1, 1:-1] * not_clicked
    fp_dt = cv2.distanceTransform(fp, cv2.DIST_L2, 0)[1:-1, 1:-1] * not_clicked
    positive = bool(fn_dt.max() > fp_dt.max())
    dt = fn_dt if positive else fp_dt
    ys, xs = np.nonzero(dt == dt.max())
    return int(xs[0]), int(ys[0]), positive


def _corrective_clicks(image, truth, scored, n=6):
    s = ClickSession(image)
    pred = np.zeros(truth.shape, bool)
    not_clicked = np.ones(truth.shape, np.float32)
    ious = []
    for _ in range(n):
        x, y, p = _next_click(pred, truth & scored, scored, not_clicked)
        not_clicked[y, x] = 0
        pred = s.add(x, y, p)
        ious.append(_iou(pred, truth, scored))
    return ious


def test_quality_grey_photo(coffee, cup_truth):
    """The coffee photo in black and white: six corrective clicks get near what they get in colour.

    Measured 0.810 after six clicks (colour 0.842); the colour models and the
    geodesic distances learn luminance, local deviation and gradient there
    (0.819 on the luminance alone, but 0.09 to 0.15 lower after clicks 1 to 3:
    0.45, 0.48, 0.59 against 0.55, 0.60, 0.75).
    """
    import cv2

    truth, scored = cup_truth
    grey = cv2.cvtColor(coffee, cv2.COLOR_RGB2GRAY)
    ious = _corrective_clicks(grey, truth, scored)
    assert ious[-1] > 0.9 * _corrective_clicks(coffee, truth, scored)[-1], ious


def test_quality_corrective_clicks_do_not_hurt(coffee, cup_truth):
    truth, scored = cup_truth
    ious = _corrective_clicks(coffee, truth, scored)
    # Every click is where the mask is wrong (the NoC protocol's user). Measured
    # 0.47, 0.51, 0.63, 0.72, 0.82, 0.85 (superpixel_size 8; size 10 within 0.02 of
    # that). A click may cost at most 0.01 (pixel ties at the band), and six
    # clicks must get well past the one-click figure: a click that flips a
    # far part of the mask or a drifting colour model fails one of the two.
    assert all(b >= a - 0.01 for a, b in zip(ious, ious[1:])), ious
    assert ious[-1] > 0.8, ious


def test_quality_one_click_on_a_head_stays_on_the_head():
    """One click on the astronaut's face takes her head, not the wall around it.

    Reference: cv2.grabCut from a box around the head and hair (checked by
    eye: hair, face and neck, none of the wall). Measured IoU 0.80 (mask 8.6 %
    of the photo, reference 6.9 %). Before the first click was solved at
    several scales, it took the head and most of the wall beside it (25.7 %
    of the photo, IoU 0.27): a click on a person took what was behind them.
    """
    import cv2
    from skimage import data

    image = data.astronaut()
    bgr = np.ascontiguousarray(image[..., ::-1])
    m = np.zeros(image.shape[:2], np.uint8)
    cv2.setRNGSeed(0)
    cv2.grabCut(bgr, m, (140, 8, 175, 185), np.zeros((1, 65)), np.zeros((1, 65)), 5, cv2.GC_INIT_WITH_RECT)
    ref = (m == cv2.GC_FGD) | (m == cv2.GC_PR_FGD)
    out = clicks(image, clicks=[(215, 110, True)])
    assert _iou(out, ref) > 0.6


def _late_click_image() -> tuple[np.ndarray, np.ndarray]:
    """A red square on a dark left half, a wide light right half (a wall or the sea behind someone)."""
    rng = np.random.default_rng(0)
    img = np.full((160, 240, 3), (70, 70, 70), np.float32)
    img[:, 120:] = (150, 140, 120)
    img[60:100, 30:70] = (200, 50, 50)
    obj = np.zeros((160, 240), bool)
    obj[60:100, 30:70] = True
    return np.clip(img + rng.normal(0, 4, img.shape), 0, 255).astype(np.uint8), obj


@pytest.mark.parametrize("budget", [0.5, 0.0])
def test_a_late_click_changes_at_most_its_budget(budget):
    """After six clicks one click may change at most budget / sqrt(clicks - 5) of the mask.

    The seventh click (positive, on the wide right half, far from the square)
    took that whole half (19,200 px, 12x the mask) before the budget: the
    size guard allows 40 r^2 with r the click's distance to the mask, 110 px
    here. On the DAVIS tuning frames such clicks (on a hockey stick, a kite
    line) dropped IoU from 0.82 to 0.22 and from 0.87 to 0.34. With the budget off (0) the same
    click takes the half: what the guard holds is what the test measures.
    """
    img, obj = _late_click_image()
    s = ClickSession(img)
    s._engine.p.budget = budget
    for x, y in [(50, 80), (40, 70), (60, 70), (40, 90), (60, 90), (50, 65)]:
        m = s.add(x, y, True)
    assert _iou(m, obj) > 0.95
    m2 = s.add(180, 80, True)
    assert m2[80, 180]  # the click itself is taken
    changed = np.count_nonzero(m2 != m)
    if budget > 0:
        assert changed <= budget / np.sqrt(2) * obj.sum(), changed
        assert _iou(m2, obj) > 0.7
    else:
        assert changed > 5 * obj.sum(), changed

