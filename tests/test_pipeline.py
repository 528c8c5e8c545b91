"""retouch.pipeline: Recipe, remove, restore."""

from __future__ import annotations

import json

import numpy as np
import pytest

import retouch
from retouch.validate import RetouchError
from retouch.inpaint import EmptyMaskWarning
from retouch.pipeline import Recipe, recipe_for_remove, recipe_for_restore


def test_recipe_settings_inline_or_nested_are_the_same():
    a = Recipe.from_dict({"refine": [{"method": "grow", "pixels": 4}], "inpaint": {"method": "telea", "radius": 5}})
    b = Recipe.from_dict({"refine": [{"method": "grow", "settings": {"pixels": 4}}], "inpaint": {"method": "telea", "settings": {"radius": 5}}})
    assert a.to_dict() == b.to_dict()
    assert a.refine[0].settings == {"pixels": 4.0}


def test_recipe_round_trips_json_and_loads_toml(tmp_path):
    r = Recipe.from_dict(
        {
            "segment": [{"method": "region_grow", "seeds": [[10, 10]], "tolerance": 8}, {"method": "threshold", "mode": "subtract"}],
            "refine": [{"method": "fill_holes"}, {"method": "grow", "pixels": 2}],
            "inpaint": {"method": "navier_stokes", "radius": 4},
        }
    )
    p = tmp_path / "r.json"
    p.write_text(r.to_json())
    assert Recipe.load(p).to_dict() == r.to_dict()
    t = tmp_path / "r.toml"
    t.write_text(
        """
[[segment]]
method = "region_grow"
seeds = [[10, 10]]
tolerance = 8

[[segment]]
method = "threshold"
mode = "subtract"

[[refine]]
method = "fill_holes"

[[refine]]
method = "grow"
pixels = 2

[inpaint]
method = "navier_stokes"
radius = 4
"""
    )
    assert Recipe.load(t).to_dict() == r.to_dict()


@pytest.mark.parametrize(
    "data, message",
    [
        ({"inpaint": {"method": "magic"}}, r"unknown inpaint method 'magic'; known: .*telea"),
        ({"refine": [{"method": "grow", "pixels": -1}]}, r"refine method 'grow': pixels: Input should be greater than or equal to 0"),
        ({"refine": [{"method": "grow", "size": 1}]}, r"size is not a setting of refine method 'grow' \(settings: pixels\)"),
        ({"segmnt": []}, r"recipe: segmnt: Extra inputs are not permitted"),
    ],
)
def test_recipe_errors_are_one_line(data, message):
    with pytest.raises(RetouchError, match=message) as e:
        Recipe.from_dict(data)
    assert "\n" not in str(e.value)


def test_recipe_bad_files(tmp_path):
    with pytest.raises(RetouchError, match=r"recipe .*nope.toml does not exist; check the path"):
        Recipe.load(tmp_path / "nope.toml")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(RetouchError, match=r"bad.json is not valid JSON"):
        Recipe.load(bad)


def test_apply_combines_modes_and_leaves_outside_untouched(coffee):
    image = coffee
    start = np.zeros(image.shape[:2], bool)
    start[50:100, 50:100] = True
    sub = np.zeros_like(start)
    r = Recipe.from_dict({"refine": [{"method": "grow", "pixels": 1}], "inpaint": {"method": "telea"}})
    res = r.apply(image, mask=start)
    assert res.mask.sum() > start.sum()
    assert np.array_equal(res.image[~res.mask], image[~res.mask])
    assert res.weight is None
    del sub


def test_apply_with_feather_blends_inside_the_mask_only(coffee):
    start = np.zeros(coffee.shape[:2], bool)
    start[100:160, 100:160] = True
    r = Recipe.from_dict({"refine": [{"method": "grow", "pixels": 3}, {"method": "feather", "radius": 3}], "inpaint": {"method": "telea"}})
    res = r.apply(coffee, mask=start)
    assert res.weight is not None and res.weight.max() == 1
    assert np.array_equal(res.image[~res.mask], coffee[~res.mask])


def test_apply_empty_and_full(coffee):
    r = Recipe.from_dict({"inpaint": {"method": "telea"}})
    with pytest.warns(EmptyMaskWarning):
        res = r.apply(coffee, mask=np.zeros(coffee.shape[:2], bool))
    assert np.array_equal(res.image, coffee)
    with pytest.raises(RetouchError, match="covers the whole image"):
        r.apply(coffee, mask=np.ones(coffee.shape[:2], bool))
    with pytest.raises(RetouchError, match="the recipe has no segment step and no mask was given"):
        r.apply(coffee)


def test_remove_recipe_choice():
    assert [s.method for s in recipe_for_remove(box=(1, 2, 30, 40)).segment] == ["grabcut"]
    r = recipe_for_remove(box=(1, 2, 30, 40), points=[(5, 6)])
    assert r.segment[0].settings["foreground"] == [(5, 6)] or r.segment[0].settings["foreground"] == [[5, 6]] or list(map(tuple, r.segment[0].settings["foreground"])) == [(5, 6)]
    assert [s.method for s in recipe_for_remove(points=[(5, 6)]).segment] == ["region_grow"]
    assert [s.method for s in recipe_for_remove(color=(255, 0, 0), tolerance=5).segment] == ["color_range"]
    with pytest.raises(RetouchError, match="say what to remove"):
        recipe_for_remove()


def test_remove_with_box_and_point_on_a_real_photo():
    from skimage import data

    rocket = data.rocket()
    out = retouch.remove(rocket, box=(296, 122, 50, 290), points=[(321, 140)], method="telea")
    result = recipe_for_remove(box=(296, 122, 50, 290), points=[(321, 140)], method="telea").apply(rocket)
    mask = result.mask
    assert np.array_equal(result.image, out)  # remove is that recipe
    assert out.shape == rocket.shape and out.dtype == rocket.dtype
    assert np.array_equal(out[~mask], rocket[~mask])
    # hand-checked: the rocket's body and nose are columns 312..331, rows 135..400
    assert mask[135:400, 312:331].mean() > 0.97
    box = np.zeros_like(mask)
    box[122 - 4 : 412 + 4, 296 - 4 : 346 + 4] = True
    assert not (mask & ~box).any()  # nothing outside the box (plus the 3 px growth)
    # the fill is sky-dark where the white rocket was
    assert out[200:300, 318:326].mean() < 0.6 * rocket[200:300, 318:326].mean()


def test_remove_input_unchanged(astronaut):
    before = astronaut.copy()
    retouch.remove(astronaut, points=[(60, 60)], tolerance=10, method="telea")
    assert np.array_equal(astronaut, before)


def test_recipe_json_is_plain_data():
    r = recipe_for_remove(box=(1, 2, 30, 40), grow=4)
    data = json.loads(r.to_json())
    assert data["segment"][0] == {"method": "grabcut", "box": [1.0, 2.0, 30.0, 40.0]} or data["segment"][0]["method"] == "grabcut"
    assert data["refine"][-1] == {"method": "grow", "pixels": 4.0}


def test_restore_fills_only_what_it_found_and_passes_spot_certainty(coffee):
    from retouch.segment import spots

    rng = np.random.default_rng(5)
    damaged = coffee.copy()
    for _ in range(20):
        y, x = int(rng.integers(20, 380)), int(rng.integers(20, 580))
        damaged[y - 3 : y + 3, x - 3 : x + 3] = 245
    before = damaged.copy()
    restored = retouch.restore(damaged, damage=False, spots=True, text=False, spot_certainty=0.2)
    result = recipe_for_restore(damage=False, spots=True, text=False, spot_certainty=0.2).apply(damaged)
    mask = result.mask
    assert np.array_equal(result.image, restored)  # restore is that recipe
    assert np.array_equal(damaged, before)  # the input is left alone
    assert np.array_equal(restored[~mask], damaged[~mask])
    assert np.array_equal(mask, retouch.refine.grow(spots(damaged, certainty=0.2), pixels=1))
    default = recipe_for_restore(damage=False, spots=True, text=False).apply(damaged).mask
    assert (mask >= default).all() and mask.sum() > default.sum()  # measured 135 px more (before growing)
    with pytest.raises(RetouchError, match=r"^spot_certainty is a setting of the spots detector, which is not chosen; choose it too"):
        retouch.restore(damaged, spot_certainty=0.2)  # spots is not among the defaults


def test_restore_erases_a_date_stamp_but_not_a_sign_within_the_picture(astronaut):
    """restore's text detector looks only along the top and bottom edges: a date stamp in the bottom corner
    is filled, a sign's lettering in the middle of the picture is left as it is (text() with its default
    placement takes both)."""
    from PIL import Image, ImageDraw, ImageFont

    from retouch.segment import text

    canvas = Image.fromarray(np.ascontiguousarray(astronaut))
    draw = ImageDraw.Draw(canvas)
    draw.text((330, 470), "1998 07 14", fill=(255, 140, 30), font=ImageFont.load_default(size=26))
    draw.text((150, 240), "MOULIN ROUGE", fill=(245, 245, 240), font=ImageFont.load_default(size=26))
    photo = np.asarray(canvas)
    anywhere = text(photo)
    assert anywhere[465:505, 320:].mean() > 0.1 and anywhere[235:275, 140:400].mean() > 0.1
    mask = recipe_for_restore(damage=False, spots=False).apply(photo).mask
    assert mask[465:505, 320:].mean() > 0.1
    assert not mask[230:280, 140:400].any()


def test_fill_is_the_method_then_the_blend(astronaut):
    """pipeline.fill: the inpaint method's own result, blended back with a weight when one is given."""
    from retouch import inpaint, registry
    from retouch.pipeline import DEFAULT_INPAINT, fill

    hole = np.zeros(astronaut.shape[:2], bool)
    hole[200:230, 240:280] = True
    telea = registry.get("inpaint", "telea")
    plain = fill(astronaut, hole, method="telea", settings={"radius": 4})
    assert np.array_equal(plain, telea.func(astronaut, hole, radius=4))
    weight = registry.get("refine", "feather").func(hole, radius=3)
    soft = fill(astronaut, hole, method="telea", settings={"radius": 4}, weight=weight)
    assert np.array_equal(soft, inpaint.blend(astronaut, plain, weight))
    assert not np.array_equal(soft, plain)  # the soft edge reaches past the hole
    assert np.array_equal(fill(astronaut, hole), registry.get("inpaint", DEFAULT_INPAINT).func(astronaut, hole))
    with pytest.raises(RetouchError, match="unknown inpaint method 'nope'"):
        fill(astronaut, hole, method="nope")
    with pytest.raises(RetouchError, match="radius"):
        fill(astronaut, hole, method="telea", settings={"radius": -1})
    assert fill.__module__ == "retouch.pipeline" and retouch.fill is fill


def test_remove_and_restore_return_the_image_only(astronaut):
    """One return type: the image; asking for the mask the old way says how to get it."""
    out = retouch.remove(astronaut, points=[(60, 60)], tolerance=10, method="telea")
    assert isinstance(out, np.ndarray) and out.shape == astronaut.shape
    for call in (lambda: retouch.remove(astronaut, points=[(60, 60)], return_mask=True),
                 lambda: retouch.restore(astronaut, return_mask=True)):
        with pytest.raises(TypeError, match=r"no longer takes return_mask: it returns the image; .*\.apply\(image\)"):
            call()
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        retouch.remove(astronaut, colour=(1, 2, 3))


def test_restore_defaults_are_one_set():
    """restore, recipe_for_restore and RESTORE_DEFAULTS (which the CLI reads) name the same default detectors:
    changing one of the three alone would make the library, the recipe and the CLI restore differently."""
    import inspect

    from retouch.pipeline import RESTORE_DEFAULTS

    for fn in (retouch.restore, recipe_for_restore):
        params = inspect.signature(fn).parameters
        assert {k: params[k].default for k in RESTORE_DEFAULTS} == RESTORE_DEFAULTS, fn.__name__
