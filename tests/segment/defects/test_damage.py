"""retouch.segment.damage: cracks, hair and dust as real scans show them, found on real photos.

The damage is drawn here (branching cracks as random walks, curled hairs,
irregular dust, with OpenCV) over scikit-image's photos, so these tests need
neither the benchmark data nor its film-dust scans. A detection counts when
it lies within 2 px of the drawn damage, as in ``benchmarks/restore_real.py``.
The peer is the median-filter "dust & scratches" of that benchmark (a pixel
differing from its 5 x 5 median by more than 24 levels).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from scipy import ndimage as ndi

from retouch import RetouchError, registry
from retouch.segment import damage
from retouch.segment.defects import damage_net
from retouch.segment.defects.detectors import damage_labels


def _near(a: np.ndarray, b: np.ndarray, tol: float = 2) -> float:
    if not a.any():
        return 1.0
    if not b.any():
        return 0.0
    return float((ndi.distance_transform_edt(~b)[a] <= tol).mean())


def _f1(mask: np.ndarray, truth: np.ndarray) -> float:
    p, r = _near(mask, truth), _near(truth, mask)
    return 2 * p * r / (p + r) if p + r else 0.0


def _peer(image: np.ndarray) -> np.ndarray:
    med = cv2.medianBlur(image, 5)
    return np.abs(image.astype(np.int16) - med.astype(np.int16)).max(axis=2) > 24


def draw_real_damage(image: np.ndarray, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Branching white cracks (1 to 3 px, some with a dark rim), dark curled hairs and dust specks."""
    rng = np.random.default_rng(seed)
    h, w = image.shape[:2]
    s = 4
    cracks = np.zeros((h * s, w * s), np.uint8)
    rims = np.zeros_like(cracks)
    for _ in range(3):
        pts = [np.array([rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h])]
        angle = rng.uniform(0, 2 * np.pi)
        for _ in range(60):
            angle += rng.normal(0, 0.35)
            pts.append(pts[-1] + 3 * np.array([np.cos(angle), np.sin(angle)]))
        p = np.round(np.array(pts) * s).astype(np.int32).reshape(-1, 1, 2)
        width = int(rng.integers(1, 4))
        cv2.polylines(rims, [p], False, 255, (width + 2) * s)
        cv2.polylines(cracks, [p], False, 255, width * s)
    hairs = np.zeros_like(cracks)
    for _ in range(4):
        c = np.array([rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h]) * s
        t = np.linspace(0, rng.uniform(2, 5), 40)
        r = rng.uniform(6, 14) * s
        p = np.stack([c[0] + r * np.cos(t) * (1 + 0.2 * t), c[1] + r * np.sin(t)], 1).round().astype(np.int32)
        cv2.polylines(hairs, [p.reshape(-1, 1, 2)], False, 255, s)
    dust = np.zeros_like(cracks)
    for _ in range(30):
        cv2.circle(dust, (int(rng.uniform(0, w) * s), int(rng.uniform(0, h) * s)), int(rng.uniform(0.8, 3) * s), 255, -1)

    def cover(c):
        return cv2.resize(c, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)[..., None] / 255

    f = image.astype(np.float32)
    f = f * (1 - 0.35 * cover(rims))
    f = f * (1 - cover(cracks)) + 240 * cover(cracks)
    f = f * (1 - 0.9 * cover(hairs)) + 15 * 0.9 * cover(hairs)
    f = f * (1 - cover(dust)) + 235 * cover(dust)
    out = np.clip(np.rint(f), 0, 255).astype(np.uint8)
    truth = np.abs(out.astype(np.int16) - image.astype(np.int16)).max(axis=2) >= 10
    return out, truth


@pytest.fixture(scope="module")
def cracked(astronaut):
    return draw_real_damage(np.ascontiguousarray(astronaut))


def test_registered_and_smoke():
    assert "damage" in registry.names("segment")
    assert registry.get("segment", "damage").settings().certainty == pytest.approx(0.4)
    mask = damage(np.full((64, 96, 3), 128, np.uint8))
    assert mask.shape == (64, 96) and mask.dtype == bool and not mask.any()


def test_shapes_dtypes_and_input_unchanged(cracked):
    crop = np.ascontiguousarray(cracked[0][:200, :260])
    crop.setflags(write=False)
    before = crop.copy()
    ref = damage(crop)
    assert np.array_equal(crop, before)
    assert ref.any()
    for form in (crop.astype(np.uint16) * 257, crop.astype(np.float32) / 255,
                 np.dstack([crop, np.full(crop.shape[:2], 7, np.uint8)])):
        mask = damage(form)
        assert mask.shape == crop.shape[:2] and mask.dtype == bool
        assert np.mean(mask != ref) < 0.002
    grey = damage(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY))
    assert grey.shape == crop.shape[:2] and grey.dtype == bool


def test_bad_input():
    with pytest.raises(RetouchError, match=r"^image must be a NumPy array, got list; read files with retouch.read\(path\)$"):
        damage([[1, 2], [3, 4]])
    with pytest.raises(RetouchError, match=r"^segment method 'damage': certainty: Input should be less than or equal to 1 \(got 2\)$"):
        damage(np.zeros((8, 8), np.uint8), certainty=2)


def test_hand_checked_speck_and_crack():
    """A white speck and a 1 px light crack on flat grey are found; the grey around them is not."""
    image = np.full((96, 128, 3), 110, np.uint8)
    image[40:44, 30:34] = 235
    cv2.polylines(image, [np.array([[70, 10], [80, 40], [76, 60], [90, 85]], np.int32).reshape(-1, 1, 2)], False, (230, 230, 230), 1)
    mask = damage(image)
    assert mask[41, 31] and mask[40:44, 30:34].mean() > 0.5
    assert mask[25, 75] or mask[25, 74] or mask[25, 76]
    assert not mask[:, :20].any() and not mask[:, 100:].any()


def test_clean_up_keeps_groups_with_a_sure_pixel():
    p = np.zeros((20, 20), np.float32)
    p[2:5, 2:5] = 0.6  # a group with no sure pixel
    p[10:13, 10:13] = 0.6
    p[11, 11] = 0.95
    p[18, 18] = 0.99  # sure but a single pixel
    m = damage_net.clean_up(p, 0.5, seed=0.9)
    assert m[10:13, 10:13].all() and not m[2:5, 2:5].any() and not m[18, 18]
    assert np.array_equal(damage_net.clean_up(p, 0.5, min_pixels=1), p >= 0.5)


def test_quality_against_the_median_peer(cracked, astronaut):
    """On drawn cracks, hair and dust over the astronaut, damage's F1 is well above the median filter's,
    and it marks a small fraction of what the median filter marks on the clean photo."""
    damaged, truth = cracked
    ours, theirs = _f1(damage(damaged), truth), _f1(_peer(damaged), truth)
    assert ours >= 1.3 * theirs
    # measured with the network (issue 19): 1.20 % of the clean astronaut against the peer's 4.28 % (0.91 % by the
    # network before the hard negatives, at its certainty 0.6)
    # (0.21 times; the boosted trees before it marked under 0.43 %: this bound was 0.1 times)
    assert damage(astronaut).mean() <= 0.3 * _peer(np.ascontiguousarray(astronaut)).mean()


def test_clean_photos_nearly_untouched(camera, chelsea, coffee):
    """Each clean photo: well under a third of what the median peer marks on it, and under 2 %. Measured with
    the network: camera 0.39 % (peer 4.02 %), chelsea 0.21 % (2.21 %), coffee 1.74 % (6.30 %: glints on the
    spoon and rims); the network before the hard negatives 0.77 %, 0.13 %, 1.60 %. The boosted trees before it
    kept all three under 0.5 %, this test's bound then."""
    for photo in (camera, chelsea, coffee):
        photo = np.ascontiguousarray(photo)
        rgb = photo if photo.ndim == 3 else np.dstack([photo] * 3)
        marked = damage(photo).mean()
        assert marked < 0.3 * _peer(rgb).mean() and marked < 0.02


def test_tiles_give_the_whole_photos_answer(cracked):
    """Run tile by tile (each with its halo), the network gives what one run over the whole photo gives."""
    photo = np.ascontiguousarray(cracked[0][:300, :400])
    p, category = damage_net.damage_map(photo, tile=128)
    whole = damage_net.probabilities(photo)
    assert np.abs(p - (1 - whole[..., 0])).max() < 1e-4
    sure = p >= 0.5
    assert np.mean(category[sure] == whole[..., 1:].argmax(axis=2)[sure] + 1) > 0.999


def test_a_large_photo_does_not_leave_its_tiles_buffers_behind(cracked):
    """cv2.dnn keeps the buffers of the largest input a network ran for as long as it lives (about 350 MiB
    after one 768 px tile: six copies of a 20 MP scan, held through the rest of restore). A photo of more
    than one tile drops this thread's network when done, and the next photo reads it again with the
    same answer; a photo of one tile keeps it (small photos in a row do not read it each time)."""
    photo = np.ascontiguousarray(cracked[0][:200, :260])
    small = damage_net.damage_labels(photo, 0.5)  # one tile
    assert damage_net._local.net is not None
    tiled = damage_net.damage_labels(photo, 0.5, tile=96)
    assert damage_net._local.net is None
    assert np.array_equal(tiled, small)
    assert np.array_equal(damage_net.damage_labels(photo, 0.5), small)


def test_labels_tile_by_tile_are_the_maps_thresholded(cracked):
    """damage_labels (what damage() runs: no float map of the photo's size) is damage_map thresholded."""
    from retouch.segment.defects.detectors import damage_labels

    photo = np.ascontiguousarray(cracked[0][:300, :400])
    p, category = damage_net.damage_map(photo, tile=128)
    for sure in (0.5, 0.6):
        labels = damage_net.damage_labels(photo, sure, tile=128)
        assert labels.dtype == np.uint8 and (labels > 0).any()
        assert np.array_equal(labels, np.where(p >= sure, category, 0))
    assert np.array_equal(damage_labels(photo, certainty=0.6), damage_net.judged_labels(photo, 0.6))


def test_parts_are_cut_from_the_map_and_judged(cracked):
    """damage keeps whole parts of the network's map cut at damage_parts.LOW: every kept pixel is at least
    LOW, and a part is kept or dropped whole; a higher certainty keeps a subset."""
    from retouch.segment.defects import damage_parts

    photo = np.ascontiguousarray(cracked[0][:300, :400])
    p, _ = damage_net.damage_map(photo)
    loose, strict = damage_labels(photo, certainty=0.2) > 0, damage_labels(photo, certainty=0.8) > 0
    assert loose.any() and p[loose].min() >= damage_parts.LOW - 1e-6
    assert not (strict & ~loose).any() and strict.sum() < loose.sum()
    count, parts = cv2.connectedComponents((p >= damage_parts.LOW).view(np.uint8), connectivity=8)
    share = np.bincount(parts.ravel(), weights=loose.ravel(), minlength=count) / np.bincount(parts.ravel(), minlength=count)
    assert np.all((share[1:] == 0) | (share[1:] == 1))


def test_a_loss_needs_a_hard_edge_and_the_border_when_large():
    """The rule damage_parts.kept adds to the trees for a part the network calls a loss: kept with a hard
    edge (its ring unlike it, a step to it), dropped when its ring continues it (a sky, paper, a shirt), and
    a large one only where it touches the photo's edge."""
    from retouch.segment.defects import damage_parts

    image = np.full((200, 240, 3), 90, np.uint8)
    image += np.random.default_rng(0).integers(0, 40, image.shape, dtype=np.uint8)  # texture around
    corner = np.array([[0, 120], [0, 200], [90, 200], [60, 170], [40, 160], [20, 135]], np.int32)
    cv2.fillPoly(image, [corner.reshape(-1, 1, 2)], (246, 242, 232))  # a torn corner: paper white, hard-edged
    p = np.zeros(image.shape[:2], np.float32)
    cv2.fillPoly(p, [corner.reshape(-1, 1, 2)], 0.9)
    cats = np.zeros((3, *p.shape), np.float32)
    cats[2] = p  # the network calls it a loss
    _, x = damage_parts.measure(image, p, cats)
    assert len(x) == 1
    column = {name: k for k, name in enumerate(damage_parts.FEATURES)}
    assert x[0, column["border"]] == 1 and x[0, column["ring_alike"]] < 0.2
    assert damage_parts.kept(x, -1)[0]  # the trees aside (keep -1), the rule keeps it
    _, x_cut = damage_parts.measure(image, p, cats, (True, False, True, True))  # a tile whose bottom is cut
    assert x_cut[0, column["ring_alike_cut"]] > x[0, column["ring_alike_cut"]] == x[0, column["ring_alike"]]
    flat = image.copy()
    flat[110:] = (246, 242, 232)  # the same part's surroundings as white as it: a sky it runs on into
    _, x_flat = damage_parts.measure(flat, p, cats)
    assert x_flat[0, column["ring_alike"]] > 0.9 and not damage_parts.kept(x_flat, -1)[0]
    inside = x.copy()
    inside[0, column["border"]] = 0
    assert not damage_parts.kept(inside, -1)[0]  # large (over LOSS_INSIDE px) and away from every edge
    inside[0, column["log_area"]] = np.log(200)
    assert damage_parts.kept(inside, -1)[0]  # a flake of lost emulsion
    thin = x_flat.copy()
    thin[0, column["thin"]], thin[0, column["losses"]] = 0.9, 0.0
    assert damage_parts.kept(thin, -1)[0]  # the rule is only for losses


def test_a_loss_is_not_a_surface_the_picture_goes_on_with():
    """A part the network calls a loss is dropped when a wider ring around it (damage_parts.FAR_IN px and
    beyond, far_alike) mostly has its grey: paper seen through a sign's digit, a patch of sky between two
    trees. A flake of the same size and edge whose surroundings beyond its ring are the picture is kept."""
    from retouch.segment.defects import damage_parts

    rng = np.random.default_rng(2)
    image = (90 + rng.integers(0, 40, (160, 160, 3))).astype(np.uint8)  # texture
    image[50:110, 50:110] = 30  # a dark stroke 8 px wide all round
    image[58:102, 58:102] = (240, 236, 226)  # the flake (or the counter): paper white, hard-edged
    p = np.zeros(image.shape[:2], np.float32)
    p[58:102, 58:102] = 0.9
    cats = np.zeros((3, *p.shape), np.float32)
    cats[2] = p
    column = {name: k for k, name in enumerate(damage_parts.FEATURES)}
    _, x = damage_parts.measure(image, p, cats)
    assert len(x) == 1 and x[0, column["far_alike"]] < 0.05
    assert damage_parts.kept(x, -1)[0]  # the trees aside: a loss's hard edge, and the picture beyond
    counter = image.copy()
    counter[:50], counter[110:], counter[:, :50], counter[:, 110:] = 240, 240, 240, 240  # paper beyond the stroke
    _, x_counter = damage_parts.measure(counter, p, cats)
    assert x_counter[0, column["ring_alike"]] < 0.2  # its near ring is the stroke: a hard edge
    assert x_counter[0, column["far_alike"]] > 0.5 and not damage_parts.kept(x_counter, -1)[0]
    small = x_counter.copy()
    small[0, column["log_area"]] = np.log(damage_parts.FAR_AREA - 1)
    assert damage_parts.kept(small, -1)[0]  # a speck's wider ring is its neighbourhood: not read
    thin = x_counter.copy()
    thin[0, column["thin"]], thin[0, column["losses"]] = 0.9, 0.0
    assert damage_parts.kept(thin, -1)[0]  # the rule is only for losses


def test_one_of_a_family_of_parallel_lines_is_not_damage():
    """A straight line beside at least damage_parts.FAMILY parallel ones (a corrugated roof, rails,
    girders) is the scene's: dropped whatever the trees say; a line alone, or one of a few parallel
    scratches, is kept. Lines are measured as lines from their moments (length, width)."""
    from retouch.segment.defects import damage_parts

    rng = np.random.default_rng(4)
    image = (100 + rng.integers(0, 30, (200, 240, 3))).astype(np.uint8)
    column = {name: k for k, name in enumerate(damage_parts.FEATURES)}

    def judged(rows):
        p = np.zeros(image.shape[:2], np.float32)
        for y in rows:
            cv2.line(p, (40, y), (200, y + 20), 0.9, 2)  # slanted, 160 px, 2 px wide
        cats = np.zeros((3, *p.shape), np.float32)
        cats[0] = p  # the network calls them thin
        parts, x = damage_parts.measure(image, p, cats)
        return parts, x, damage_parts.kept(x, -1)  # the trees aside

    parts, x, kept = judged([90])
    assert len(x) == 1 and kept[0] and x[0, column["parallels"]] == 0
    assert abs(x[0, column["line_length"]] - np.hypot(160, 20)) < 8 and x[0, column["line_width"]] < 4
    _, x, kept = judged([40, 70, 100])  # three scratches
    assert kept.all() and x[:, column["parallels"]].max() == 2
    parts, x, kept = judged(range(20, 150, 10))  # a roof's corrugations, 10 px apart
    assert len(x) == 13 and x[:, column["parallels"]].min() >= damage_parts.FAMILY and not kept.any()


def test_categories_of_a_hand_drawn_case():
    """On flat grey: a 1 px crack is labelled thin, a 3 px speck spots, a torn-off white corner losses."""
    image = np.full((160, 200, 3), 105, np.uint8)
    cv2.polylines(image, [np.array([[120, 20], [130, 60], [124, 100], [140, 140]], np.int32).reshape(-1, 1, 2)], False, (235, 235, 235), 1)
    image[60:63, 40:43] = 240
    corner = np.array([[0, 100], [0, 160], [60, 160], [40, 140], [25, 130], [12, 112]], np.int32)
    cv2.fillPoly(image, [corner.reshape(-1, 1, 2)], (246, 242, 232))
    labels = damage_labels(image)
    assert labels[61, 41] == 2
    # the corner's pixels are labelled losses, all of them now that parts are cut from the map at 0.25 (at the
    # network's 0.55 alone it found its jagged edge more than its flat inside: 81 of these 500 pixels)
    corner_found = np.bincount(labels[140:160, 0:25].ravel(), minlength=4)[1:]
    assert corner_found.argmax() == 2 and corner_found.sum() >= 400
    # the crack near (127, 80): the part's trees, which learnt from photos with grain, give this noise-free 1 px
    # line on flat grey 0.27, under the default certainty; a lower certainty finds it
    labels = damage_labels(image, certainty=0.2)
    assert np.bincount(labels[78:84, 123:131].ravel(), minlength=4)[1] > 0
    assert not labels[:, 60:100].any() or labels[:, 60:100].mean() < 0.01


def test_one_category_at_a_time():
    """category= keeps the damage of one category only (what the web app's Detect tool offers); together they
    are all of it."""
    image = np.full((160, 200, 3), 105, np.uint8)
    cv2.polylines(image, [np.array([[120, 20], [130, 60], [124, 100], [140, 140]], np.int32).reshape(-1, 1, 2)], False, (235, 235, 235), 1)
    image[60:63, 40:43] = 240
    parts = {c: damage(image, certainty=0.5, category=c) for c in ("thin", "spots", "losses")}
    assert np.array_equal(parts["thin"] | parts["spots"] | parts["losses"], damage(image, certainty=0.5))
    assert parts["spots"][61, 41] and not parts["thin"][61, 41]
    assert registry.get("segment", "damage").settings().category == "all"
    with pytest.raises(RetouchError, match=r"^segment method 'damage': category: "):
        damage(image, category="text")


def _lattice(image: np.ndarray) -> np.ndarray:
    """A window's leads: dark 2 px lines 24 px apart across and 30 px apart down, over the middle half."""
    out = image.copy()
    h, w = out.shape[:2]
    for x in range(w // 4, 3 * w // 4, 24):
        cv2.line(out, (x, h // 4), (x, 3 * h // 4), (20, 20, 20), 2, cv2.LINE_AA)
    for y in range(h // 4, 3 * h // 4, 30):
        cv2.line(out, (w // 4, y), (3 * w // 4, y), (20, 20, 20), 2, cv2.LINE_AA)
    return out


def test_window_leads_are_not_damage(astronaut, chelsea):
    """A lattice of straight dark lines (a window's leads, a fence) belongs to the scene. Measured: 0.0 % and
    0.1 % of its lines marked on the astronaut and the cat; the network before it was trained with hard
    negatives (lattices and rails among them) marked 11.4 % and 11.5 %."""
    for photo in (astronaut, chelsea):
        photo = np.ascontiguousarray(photo)
        leaded = _lattice(photo)
        lines = np.abs(leaded.astype(int) - photo).max(axis=2) > 10
        assert damage(leaded)[lines].mean() < 0.02


def test_sharp_shrunk_photo_nearly_untouched(astronaut):
    """The astronaut shrunk to half (INTER_AREA: every edge one or two pixels, as a crisp digital photo's):
    measured 0.50 % marked; the network before the hard negatives marked 1.50 %, its peer (median filter)
    more still."""
    photo = np.ascontiguousarray(astronaut)
    half = cv2.resize(photo, (photo.shape[1] // 2, photo.shape[0] // 2), interpolation=cv2.INTER_AREA)
    marked = damage(half).mean()
    assert marked < 0.01 and marked < 0.2 * _peer(half).mean()


def test_bright_flat_areas_are_not_losses(astronaut, coffee):
    """The astronaut's white suit and the coffee's cup and saucer are bright, flat and hard-edged, but run on
    into their surroundings or lie away from the photo's edge: no loss there (the network alone at 0.55
    labelled 0.90 % and 0.54 % of these clean photos losses)."""
    for photo in (astronaut, coffee):
        assert damage(np.ascontiguousarray(photo), category="losses").mean() < 0.0005
