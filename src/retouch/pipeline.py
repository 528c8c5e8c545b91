"""Recipes: segment -> refine -> inpaint as one validated, loadable model.

A :class:`Recipe` is what every front end runs: the CLI, the web app and the
batch runner build one (or load one from JSON / TOML) and call
:meth:`Recipe.apply`. The one-call conveniences :func:`remove` and
:func:`restore` build a Recipe too.

A recipe file names methods from the registry and gives their settings inline:

.. code-block:: toml

    [[segment]]
    method = "grabcut"
    box = [120, 40, 200, 260]

    [[refine]]
    method = "grow"
    pixels = 4

    [inpaint]
    method = "auto"

>>> import numpy as np
>>> from skimage import data
>>> from retouch.pipeline import Recipe
>>> recipe = Recipe(refine=[{"method": "grow", "pixels": 2}], inpaint={"method": "telea"})
>>> image = data.camera()
>>> mask = np.zeros(image.shape, bool); mask[100:110, 100:110] = True
>>> result = recipe.apply(image, mask=mask)
>>> int(result.mask.sum()) > int(mask.sum())
True
"""

from __future__ import annotations

import json
import tomllib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import registry
from ._validate import RetouchError, check_fill_mask, check_image, check_mask
from .inpaint._base import EmptyMaskWarning, blend

__all__ = ["Step", "SegmentStep", "RefineStep", "InpaintStep", "Recipe", "Result", "remove", "restore", "DEFAULT_INPAINT"]


def _default_inpaint() -> str:
    return "auto" if "auto" in registry.names("inpaint") else "telea"


DEFAULT_INPAINT = "auto"
"""The inpainter a recipe uses when it names none."""


class Step(BaseModel):
    """One method and its settings. Settings may be given inline or under ``settings``."""

    model_config = ConfigDict(extra="forbid")
    method: str
    settings: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _inline_settings(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"method": data}
        if isinstance(data, dict):
            known = set(cls.model_fields) - {"settings"}
            inline = {k: v for k, v in data.items() if k not in known and k != "settings"}
            if inline:
                data = {k: v for k, v in data.items() if k in known or k == "settings"}
                data["settings"] = {**dict(data.get("settings") or {}), **inline}
        return data

    @model_validator(mode="after")
    def _check_method(self) -> "Step":
        kind = self._kind()
        method = registry.get(kind, self.method)  # unknown names list the known ones
        self.settings = method.validate(self.settings).kwargs()
        return self

    def _kind(self) -> str:
        return "segment"

    def resolve(self) -> registry.Method:
        """The registry entry of this step."""
        return registry.get(self._kind(), self.method)


class SegmentStep(Step):
    """A segmenter, and how its mask joins the masks before it."""

    mode: Literal["add", "subtract", "intersect"] = "add"


class RefineStep(Step):
    """A refinement of the mask (``feather`` sets the soft edge used when blending)."""

    def _kind(self) -> str:
        return "refine"


class InpaintStep(Step):
    """The inpainter."""

    method: str = Field(default_factory=lambda: _default_inpaint())

    def _kind(self) -> str:
        return "inpaint"


@dataclass
class Result:
    """What :meth:`Recipe.apply` returns."""

    image: np.ndarray
    mask: np.ndarray
    weight: np.ndarray | None = None


class Recipe(BaseModel):
    """Segment -> refine -> inpaint, with every method's settings validated.

    Parameters
    ----------
    segment : list of SegmentStep
        Segmenters run on the image; their masks are combined in order
        (``mode`` = add, subtract or intersect) onto the starting mask.
    refine : list of RefineStep
        Refinements applied to the combined mask, in order.
    inpaint : InpaintStep
        The inpainter (default ``auto``).
    """

    model_config = ConfigDict(extra="forbid")
    segment: list[SegmentStep] = Field(default_factory=list)
    refine: list[RefineStep] = Field(default_factory=list)
    inpaint: InpaintStep = Field(default_factory=lambda: InpaintStep())

    @field_validator("segment", "refine", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, (dict, str)) else v

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "recipe") -> "Recipe":
        """Validate a dict; errors become one :class:`RetouchError` line."""
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise RetouchError(f"{source}: {_validation_text(err)}") from None

    @classmethod
    def from_text(cls, text: str, *, format: Literal["json", "toml"] = "json", source: str = "recipe") -> "Recipe":
        """Parse JSON or TOML text into a recipe."""
        try:
            data = json.loads(text) if format == "json" else tomllib.loads(text)
        except (json.JSONDecodeError, tomllib.TOMLDecodeError) as e:
            raise RetouchError(f"{source} is not valid {format.upper()}: {e}") from None
        if not isinstance(data, dict):
            raise RetouchError(f"{source} must hold a table / object at the top level")
        return cls.from_dict(data, source=source)

    @classmethod
    def load(cls, path: str | Path) -> "Recipe":
        """Load a recipe from a ``.json`` or ``.toml`` file."""
        p = Path(path)
        if not p.is_file():
            raise RetouchError(f"recipe {p} does not exist; check the path")
        fmt = "toml" if p.suffix.lower() == ".toml" else "json"
        return cls.from_text(p.read_text(encoding="utf-8"), format=fmt, source=str(p))

    def to_json(self) -> str:
        """The recipe as indented JSON that :meth:`load` reads back."""
        return json.dumps(self.to_dict(), indent=2)

    def to_dict(self) -> dict[str, Any]:
        """The recipe as plain data with settings inline."""

        def step(s: Step, extra: dict[str, Any] | None = None) -> dict[str, Any]:
            out: dict[str, Any] = {"method": s.method}
            if extra:
                out.update(extra)
            out.update({k: list(v) if isinstance(v, tuple) else v for k, v in s.settings.items()})
            return out

        return {
            "segment": [step(s, {"mode": s.mode} if s.mode != "add" else None) for s in self.segment],
            "refine": [step(s) for s in self.refine],
            "inpaint": step(self.inpaint),
        }

    # ------------------------------------------------------------------ running
    def make_mask(self, image: np.ndarray, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """Run the segment and refine steps; return the bool mask and the soft weight (or None)."""
        image = check_image(image)
        if mask is not None:
            current = check_mask(mask, image.shape).copy()
        elif self.segment:
            current = np.zeros(image.shape[:2], bool)
        else:
            raise RetouchError("the recipe has no segment step and no mask was given; add one or pass a mask")
        for s in self.segment:
            m = s.resolve().func(image, **s.settings)
            if s.mode == "add":
                current |= m
            elif s.mode == "subtract":
                current &= ~m
            else:
                current &= m
        radius = None
        for r in self.refine:
            if r.method == "feather":  # a soft edge for blending, applied last
                radius = r.settings["radius"]
            else:
                current = r.resolve().func(current, **r.settings)
        weight = None if radius is None else registry.get("refine", "feather").func(current, radius=radius)
        return current, weight

    def apply(self, image: np.ndarray, *, mask: np.ndarray | None = None) -> Result:
        """Segment, refine and fill ``image``; pixels outside the mask are left untouched.

        An empty mask returns a copy of the image (with an
        :class:`~retouch.inpaint.EmptyMaskWarning`); a mask that covers the
        whole image is a :class:`~retouch.RetouchError`.
        """
        image = check_image(image)
        current, weight = self.make_mask(image, mask)
        if not current.any():
            warnings.warn("the mask is empty: nothing to fill, image returned unchanged", EmptyMaskWarning, stacklevel=2)
            return Result(image.copy(), current, weight)
        check_fill_mask(current, image.shape)
        method = self.inpaint.resolve()
        filled = method.func(image, current, **self.inpaint.settings)
        if weight is not None:
            filled = blend(image, filled, weight)
        return Result(filled, current, weight)


def _validation_text(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"])
        msg = e["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


# ---------------------------------------------------------------------- conveniences


def remove(
    image: np.ndarray,
    *,
    box: tuple[float, float, float, float] | None = None,
    points: list[tuple[float, float]] | None = None,
    clicks: list[tuple[float, float, bool]] | None = None,
    color: tuple[float, float, float] | None = None,
    tolerance: float | None = None,
    mask: np.ndarray | None = None,
    grow: float = 3,
    method: str | None = None,
    return_mask: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Select something and fill it, in one call.

    What is given decides how the selection is made; several are combined
    (union):

    - ``box`` alone: GrabCut inside the box; with ``points`` too, the points
      are extra foreground seeds for GrabCut;
    - ``clicks``: the click segmenter (positive and negative clicks);
    - ``points`` alone: region growing (magic wand) from the points, within
      ``tolerance`` (Lab delta E);
    - ``color``: every pixel within ``tolerance`` of the colour;
    - ``mask``: a mask you already have.

    The selection's holes are filled, it is grown by ``grow`` pixels so no
    fringe is left, and it is filled with ``method`` (default ``auto``).

    Parameters
    ----------
    image : ndarray
        Grey, RGB or RGBA; uint8, uint16 or float32.
    box : (x, y, width, height), optional
        Box around the object.
    points : list of (x, y), optional
        Points on the object.
    clicks : list of (x, y, positive), optional
        Positive and negative clicks.
    color : (r, g, b), optional
        Colour to remove, 0..255 per channel.
    tolerance : float, optional
        Colour tolerance for ``points`` and ``color`` (the method's default if None).
    mask : ndarray of bool, optional
        A selection to start from.
    grow : float
        Pixels to grow the selection by before filling.
    method : str, optional
        Inpainting method (see ``retouch methods inpaint``); default ``auto``.
    return_mask : bool
        Also return the mask that was filled.

    Returns
    -------
    ndarray, or (ndarray, ndarray of bool)
        The filled image (and the mask).

    Examples
    --------
    >>> import numpy as np
    >>> from skimage import data
    >>> import retouch
    >>> image = data.astronaut()
    >>> out, mask = retouch.remove(image, box=(350, 0, 160, 120), method="telea", return_mask=True)
    >>> out.shape == image.shape and bool(mask.any())
    True
    """
    recipe = recipe_for_remove(
        box=box, points=points, clicks=clicks, color=color, tolerance=tolerance, has_mask=mask is not None, grow=grow, method=method
    )
    result = recipe.apply(image, mask=mask)
    return (result.image, result.mask) if return_mask else result.image


def recipe_for_remove(
    *,
    box: Any = None,
    points: Any = None,
    clicks: Any = None,
    color: Any = None,
    tolerance: float | None = None,
    has_mask: bool = False,
    grow: float = 3,
    method: str | None = None,
) -> Recipe:
    """The :class:`Recipe` that :func:`remove` runs for these inputs."""
    steps: list[dict[str, Any]] = []
    tol = {} if tolerance is None else {"tolerance": tolerance}
    if box is not None:
        step: dict[str, Any] = {"method": "grabcut", "box": box}
        if points:
            step["foreground"] = points
        steps.append(step)
    elif points:
        steps.append({"method": "region_grow", "seeds": points, **tol})
    if clicks:
        steps.append({"method": "clicks", "clicks": clicks})
    if color is not None:
        steps.append({"method": "color_range", "color": color, **tol})
    if not steps and not has_mask:
        raise RetouchError("say what to remove: give a box, points, clicks, a colour or a mask")
    refine: list[dict[str, Any]] = [{"method": "fill_holes"}]
    if grow:
        refine.append({"method": "grow", "pixels": grow})
    return Recipe(segment=steps, refine=refine, inpaint={"method": method or _default_inpaint()})


def recipe_for_restore(
    *, scratches: bool = True, spots: bool = True, text: bool = True, grow: float = 2, method: str | None = None
) -> Recipe:
    """The :class:`Recipe` that :func:`restore` runs."""
    steps = [name for name, on in (("scratches", scratches), ("spots", spots), ("text", text)) if on]
    if not steps:
        raise RetouchError("choose at least one detector: scratches, spots or text")
    refine = [{"method": "grow", "pixels": grow}] if grow else []
    return Recipe(segment=[{"method": s} for s in steps], refine=refine, inpaint={"method": method or _default_inpaint()})


def restore(
    image: np.ndarray,
    *,
    scratches: bool = True,
    spots: bool = True,
    text: bool = True,
    grow: float = 2,
    method: str | None = None,
    return_mask: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Find scratches, dust spots and overlaid text, and fill them.

    Parameters
    ----------
    image : ndarray
        Grey, RGB or RGBA; uint8, uint16 or float32.
    scratches, spots, text : bool
        Which detectors to run (all by default).
    grow : float
        Pixels to grow the detected mask by, so no fringe is left.
    method : str, optional
        Inpainting method; default ``auto``.
    return_mask : bool
        Also return the mask that was filled.

    Returns
    -------
    ndarray, or (ndarray, ndarray of bool)
        The restored image (and the mask). A photo with no damage found
        comes back unchanged.
    """
    recipe = recipe_for_restore(scratches=scratches, spots=spots, text=text, grow=grow, method=method)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyMaskWarning)
        result = recipe.apply(image)
    return (result.image, result.mask) if return_mask else result.image
