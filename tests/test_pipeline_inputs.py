"""Recipe extensions for batches: per-image inputs ("@name" settings, [inputs]) and [output]."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from retouch import RetouchError, registry
from retouch.inpaint import EmptyMaskWarning
from retouch.pipeline import EXAMPLE_TOML, Inputs, Output, Recipe, box_mask

GROW_FROM_INPUT = {"refine": [{"method": "grow", "pixels": "@grow"}], "inpaint": {"method": "telea"}}


# ---------------------------------------------------------------------- smoke / round trip


def test_placeholder_is_recorded_and_round_trips():
    r = Recipe.from_dict(GROW_FROM_INPUT)
    assert r.refine[0].from_inputs == {"pixels": "grow"}
    assert "pixels" not in r.refine[0].settings
    assert r.needs == {"grow": ["refine[0].pixels"]}
    again = Recipe.from_text(r.to_json(), format="json")
    assert again.to_dict() == r.to_dict()
    assert again.to_dict()["refine"][0]["pixels"] == "@grow"


def test_plain_recipe_dict_unchanged_by_the_new_sections():
    r = Recipe(refine=[{"method": "grow", "pixels": 2}], inpaint={"method": "telea"})
    assert set(r.to_dict()) == {"segment", "refine", "inpaint"}
    assert r.inputs is None and r.output == Output()


def test_inputs_and_output_round_trip_through_toml_and_json():
    text = """
[inputs]
sidecar = "/data/boxes.csv"
box_as_mask = true
missing = "skip"

[inpaint]
method = "telea"

[output]
format = "PNG"
quality = 80
"""
    r = Recipe.from_text(text, format="toml")
    assert r.inputs == Inputs(sidecar="/data/boxes.csv", box_as_mask=True, missing="skip")
    assert r.output.format == "png" and r.output.quality == 80
    d = r.to_dict()
    assert d["inputs"] == {"sidecar": "/data/boxes.csv", "box_as_mask": True, "missing": "skip"}
    assert d["output"] == {"format": "png", "quality": 80}
    assert Recipe.from_text(json.dumps(d)).to_dict() == d


def test_example_recipe_loads_as_is():
    r = Recipe.from_text(EXAMPLE_TOML, format="toml", source="example")
    assert r.inputs is not None and r.inputs.box_as_mask and r.inputs.sidecar == "boxes.csv"
    assert r.inpaint.method == "telea"
    assert [s.method for s in r.refine] == ["fill_holes", "grow"]


def test_load_resolves_input_paths_relative_to_the_recipe(tmp_path):
    (tmp_path / "sub").mkdir()
    f = tmp_path / "sub" / "r.toml"
    f.write_text('[inputs]\nmasks = "masks"\nsidecar = "s3://bucket/boxes.csv"\n[inpaint]\nmethod = "telea"\n')
    r = Recipe.load(f)
    assert r.inputs.masks == str(tmp_path / "sub" / "masks")
    assert r.inputs.sidecar == "s3://bucket/boxes.csv"


# ---------------------------------------------------------------------- binding and applying


def test_bind_fills_and_validates_per_image_values():
    r = Recipe.from_dict(GROW_FROM_INPUT)
    bound = r.bind({"grow": 4})
    assert bound.refine[0].settings["pixels"] == 4 and not bound.needs
    assert r.needs  # the original is unchanged
    with pytest.raises(RetouchError, match=r"refine method 'grow': pixels: Input should be greater than or equal to 0"):
        r.bind({"grow": -3})


def test_apply_with_inputs_matches_the_plain_recipe(astronaut):
    mask = np.zeros(astronaut.shape[:2], bool)
    mask[200:230, 200:240] = True
    via_input = Recipe.from_dict(GROW_FROM_INPUT).apply(astronaut, mask=mask, inputs={"grow": 3})
    plain = Recipe.from_dict({"refine": [{"method": "grow", "pixels": 3}], "inpaint": "telea"}).apply(astronaut, mask=mask)
    np.testing.assert_array_equal(via_input.image, plain.image)
    np.testing.assert_array_equal(via_input.mask, plain.mask)


def test_box_as_mask_fills_exactly_the_box(camera):
    r = Recipe.from_dict({"inputs": {"box_as_mask": True}, "inpaint": "telea"})
    res = r.apply(camera, inputs={"box": (100, 50, 20, 10)})
    expected = np.zeros(camera.shape, bool)
    expected[50:60, 100:120] = True
    np.testing.assert_array_equal(res.mask, expected)
    np.testing.assert_array_equal(res.image[~expected], camera[~expected])
    assert (res.image[expected] != camera[expected]).any()


def test_box_as_mask_adds_to_a_given_mask(camera):
    r = Recipe.from_dict({"inputs": {"box_as_mask": True}, "inpaint": "telea"})
    given = np.zeros(camera.shape, bool)
    given[300:310, 300:310] = True
    mask, _ = r.make_mask(camera, given, inputs={"box": (10, 10, 5, 5)})
    assert mask.sum() == 100 + 25


def test_box_mask_clips_to_the_image():
    m = box_mask((10, 10), (8, 8, 5, 5))
    assert m.dtype == bool and m.shape == (10, 10) and m.sum() == 4


def test_segment_step_takes_its_clicks_from_inputs(astronaut):
    assert "clicks" in registry.names("segment")
    r = Recipe.from_dict({"segment": [{"method": "clicks", "clicks": "@clicks"}], "inpaint": "telea"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyMaskWarning)
        res = r.apply(astronaut, inputs={"clicks": [[400, 80, True]]})
    assert res.image.shape == astronaut.shape and res.mask.any()


def test_input_image_unchanged(astronaut):
    before = astronaut.copy()
    Recipe.from_dict({"inputs": {"box_as_mask": True}, "inpaint": "telea"}).apply(astronaut, inputs={"box": (0, 0, 9, 9)})
    np.testing.assert_array_equal(astronaut, before)


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32"])
def test_dtypes_kept_with_inputs(astronaut, dtype):
    img = {"uint8": astronaut, "uint16": astronaut.astype(np.uint16) * 257, "float32": astronaut.astype(np.float32) / 255}[dtype]
    res = Recipe.from_dict({"inputs": {"box_as_mask": True}, "inpaint": "telea"}).apply(img, inputs={"box": (10, 10, 20, 20)})
    assert res.image.dtype == img.dtype and res.image.shape == img.shape


def test_fill_quality_inside_the_box_on_a_real_photo(astronaut):
    """Telea over a small box on a smooth part of the photo stays close to what was there."""
    box = (40, 400, 16, 16)  # a plain part of the background
    res = Recipe.from_dict({"inputs": {"box_as_mask": True}, "inpaint": "telea"}).apply(astronaut, inputs={"box": box})
    m = res.mask
    err = np.abs(res.image[m].astype(float) - astronaut[m].astype(float)).mean()
    assert err < 20


# ---------------------------------------------------------------------- fingerprint


def test_fingerprint_follows_settings_not_input_locations():
    a = Recipe.from_dict({"inputs": {"masks": "/a"}, "inpaint": {"method": "telea", "radius": 3}})
    b = Recipe.from_dict({"inputs": {"masks": "/b"}, "inpaint": {"method": "telea", "radius": 3}})
    c = Recipe.from_dict({"inputs": {"masks": "/a"}, "inpaint": {"method": "telea", "radius": 4}})
    d = Recipe.from_dict({"inputs": {"masks": "/a"}, "inpaint": {"method": "telea", "radius": 3}, "output": {"format": "png"}})
    assert a.fingerprint() == b.fingerprint()
    assert len({a.fingerprint(), c.fingerprint(), d.fingerprint()}) == 3


# ---------------------------------------------------------------------- bad input, exact messages


def test_unbound_placeholder_says_what_to_pass(camera):
    r = Recipe.from_dict(GROW_FROM_INPUT)
    mask = np.zeros(camera.shape, bool)
    mask[5:9, 5:9] = True
    with pytest.raises(RetouchError, match=r"^refine\[0\]\.pixels takes the per-image input @grow, which was not given; pass inputs=\{'grow': \.\.\.\}"):
        r.apply(camera, mask=mask)


def test_placeholder_on_an_unknown_setting():
    with pytest.raises(RetouchError, match=r"refine\.0: size is not a setting of refine method 'grow' \(settings: pixels"):
        Recipe.from_dict({"refine": [{"method": "grow", "size": "@grow"}]})


def test_other_settings_are_still_checked_beside_a_placeholder():
    with pytest.raises(RetouchError, match=r"inpaint: inpaint method 'telea': nope is not a setting of inpaint method 'telea' \(settings: radius\)"):
        Recipe.from_dict({"refine": [{"method": "grow", "pixels": "@g"}], "inpaint": {"method": "telea", "radius": "@r", "nope": 1}})


def test_bad_placeholder_name():
    with pytest.raises(RetouchError, match=r"pixels = '@1x': a per-image input is written \"@name\""):
        Recipe.from_dict({"refine": [{"method": "grow", "pixels": "@1x"}]})


def test_unknown_output_format_lists_the_known_ones():
    with pytest.raises(RetouchError, match=r"output\.format: Input should be 'same', 'png', 'jpg', 'jpeg', 'tif', 'tiff', 'webp' or 'bmp'"):
        Recipe.from_dict({"output": {"format": "gif"}})


def test_bad_inputs_section():
    with pytest.raises(RetouchError, match=r"inputs\.missing: Input should be 'fail', 'skip', 'copy' or 'run'"):
        Recipe.from_dict({"inputs": {"missing": "ignore"}})
    with pytest.raises(RetouchError, match=r"inputs\.mask_threshold: Input should be less than 255"):
        Recipe.from_dict({"inputs": {"mask_threshold": 300}})
    with pytest.raises(RetouchError, match=r"inputs\.maks: Extra inputs are not permitted"):
        Recipe.from_dict({"inputs": {"maks": "x"}})


def test_output_quality_range():
    with pytest.raises(RetouchError, match=r"output\.quality: Input should be less than or equal to 100"):
        Recipe.from_dict({"output": {"quality": 101}})


def test_output_suffix():
    assert Output().suffix(".JPG") == ".JPG"
    assert Output(format="png").suffix(".jpg") == ".png"
