"""retouch.registry: names, settings models, validation."""

from __future__ import annotations

from typing import Annotated

import numpy as np
import pytest
from pydantic import BaseModel, Field

from retouch import registry
from retouch.validate import RetouchError


def test_every_kind_has_methods():
    for kind in registry.KINDS:
        assert registry.names(kind), kind


def test_the_foundation_methods_are_registered():
    assert {"telea", "navier_stokes", "biharmonic", "fsr_fast", "fsr_best"} <= set(registry.names("inpaint"))
    assert {"grow", "shrink", "opening", "closing", "fill_holes", "remove_small", "keep_largest", "invert", "feather"} <= set(
        registry.names("refine")
    )
    assert {"threshold", "color_range", "edges", "region_grow", "grabcut", "superpixels"} <= set(registry.names("segment"))


@pytest.mark.parametrize("method", registry.methods(), ids=lambda m: f"{m.kind}:{m.name}")
def test_each_method_is_documented_and_has_a_settings_model(method):
    assert issubclass(method.settings, BaseModel)
    assert method.summary and not method.summary.startswith(method.name + "(")
    schema = method.settings.model_json_schema()
    assert schema["type"] == "object"
    for name, field in method.settings.model_fields.items():
        assert field.description, f"{method.kind}:{method.name} setting {name} has no description"
    for array in method.arrays:
        assert array not in method.settings.model_fields


def test_unknown_names_list_the_known_ones():
    with pytest.raises(RetouchError, match=r"unknown inpaint method 'magic'; known: .*telea"):
        registry.get("inpaint", "magic")
    with pytest.raises(RetouchError, match=r"kind must be one of segment, refine, inpaint, got 'paint'"):
        registry.names("paint")


def test_validate_settings_messages():
    m = registry.get("refine", "grow")
    assert m.validate({"pixels": "4"}).pixels == 4.0  # strings coerce, as from a form or the CLI
    with pytest.raises(RetouchError, match=r"refine method 'grow': pixels: Input should be greater than or equal to 0 \(got -2\)"):
        m.validate({"pixels": -2})
    with pytest.raises(RetouchError, match=r"refine method 'grow': size is not a setting of refine method 'grow' \(settings: pixels\)"):
        m.validate({"size": 3})
    with pytest.raises(RetouchError, match=r"refine method 'grow': pixels: Input should be a valid number"):
        m.validate({"pixels": "wide"})


def test_call_through_the_registry_equals_direct_call(coffee):
    mask = np.zeros(coffee.shape[:2], bool)
    mask[100:110, 100:130] = True
    m = registry.get("inpaint", "telea")
    from retouch.inpaint import telea

    assert np.array_equal(m(coffee, mask, settings={"radius": 5}), telea(coffee, mask, radius=5))
    with pytest.raises(RetouchError, match="takes no array input source_mask"):
        m(coffee, mask, source_mask=mask)


def test_describe_rows():
    rows = registry.get("refine", "remove_small").describe()
    assert ("min_size", "int", 64, "Parts with fewer pixels than this are removed.") in rows


def test_register_builds_model_from_signature():
    def toy(mask: np.ndarray, *, size: Annotated[int, Field(ge=1)] = 3, prior: np.ndarray | None = None) -> np.ndarray:
        """Toy refinement.

        Parameters
        ----------
        mask : ndarray
            The mask.
        size : int
            How big. More words here.
        prior : ndarray, optional
            An array input.
        """
        return mask

    try:
        wrapped = registry.register("refine", "toy_for_test")(toy)
        m = registry.get("refine", "toy_for_test")
        assert m.summary == "Toy refinement."
        assert list(m.settings.model_fields) == ["size"]
        assert m.settings.model_fields["size"].description == "How big."
        assert m.arrays == ("prior",)
        with pytest.raises(RetouchError, match=r"size: Input should be greater than or equal to 1 \(got 0\)"):
            wrapped(np.zeros((2, 2), bool), size=0)
    finally:
        registry._REGISTRY["refine"].pop("toy_for_test", None)


def test_package_names_are_the_functions_not_the_modules():
    # The modules share their function's name (segment/threshold.py defines
    # threshold); the package must expose the function, even after pytest has
    # imported every module for its doctests.
    import types

    import retouch

    for kind in ("segment", "inpaint"):
        package = getattr(retouch, kind)
        for name in registry.names(kind):
            obj = getattr(package, name, None)
            assert obj is not None, f"retouch.{kind}.{name} is missing"
            assert not isinstance(obj, types.ModuleType), f"retouch.{kind}.{name} is the module, not the function"
            assert getattr(obj, "__wrapped__", None) is registry.get(kind, name).func, f"retouch.{kind}.{name}"


@pytest.mark.parametrize(
    "call, given",
    [
        (lambda im: __import__("retouch.segment", fromlist=["clicks"]).clicks(im, [(30, 20, True)]), "clicks"),
        (lambda im: __import__("retouch.segment", fromlist=["region_grow"]).region_grow(im, [(30, 20)]), "seeds"),
        (lambda im: __import__("retouch.inpaint", fromlist=["telea"]).telea(im, im[..., 0] > 0, 3), "radius"),
    ],
    ids=["clicks", "region_grow", "telea"],
)
def test_a_keyword_only_setting_given_by_position_says_so(call, given):
    """Python's own refusal, naming the keyword form, not 'Field required' from the settings model."""
    image = np.zeros((40, 60, 3), np.uint8)
    with pytest.raises(TypeError, match=rf"takes \d positional arguments? but \d were given; {given}\b.* keyword-only: call \w+\(image.*{given}=\.\.\.\)"):
        call(image)


def test_positional_parameters_of_a_registered_function_still_pass_by_position():
    def toy(mask: np.ndarray, extra: int = 0, *, size: int = 1) -> np.ndarray:
        """Toy: return the mask."""
        return mask if extra == 0 else ~mask

    try:
        wrapped = registry.register("refine", "toy_positional")(toy)
        m = np.zeros((3, 3), bool)
        assert wrapped(m, 1, size=2).all()
        with pytest.raises(TypeError, match="toy\\(\\) takes 2 positional arguments but 3 were given; size is keyword-only"):
            wrapped(m, 1, 2)
    finally:
        registry._REGISTRY["refine"].pop("toy_positional", None)


def test_a_former_name_still_finds_its_method():
    """open / close were the registry's names for refine.opening / closing: one name now, the old one accepted."""
    from retouch import refine
    from retouch.pipeline import Recipe

    assert registry.get("refine", "open") is registry.get("refine", "opening")
    assert registry.get("refine", "close").func is refine.closing.__wrapped__
    assert "open" not in registry.names("refine") and "close" not in registry.names("refine")
    mask = np.zeros((20, 20), bool)
    mask[5:15, 5:15] = True
    mask[9, 9:11] = False
    old = Recipe.from_dict({"refine": [{"method": "close", "pixels": 2}], "inpaint": "telea"})
    assert np.array_equal(old.make_mask(np.zeros((20, 20), np.uint8), mask)[0], refine.closing(mask, pixels=2))
    with pytest.raises(RetouchError, match="unknown refine method 'shut'"):
        registry.get("refine", "shut")
