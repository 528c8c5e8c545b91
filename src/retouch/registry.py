"""Every segmenter, refinement and inpainter by name, with a settings model.

The one list that the CLI, the web app, recipes and ``retouch methods`` read.
A method registers itself with :func:`register` beside its definition; its
pydantic settings model is built from the function's keyword-only parameters
(types and defaults from the signature, descriptions from the numpydoc
``Parameters`` section), so the function stays the one source of truth.
Keyword parameters that take arrays (a prior mask, a source mask) are not
settings: they are listed in :attr:`Method.arrays` and passed by the caller.

>>> from retouch import registry
>>> m = registry.get("inpaint", "telea")
>>> m.settings().radius
3
>>> "region_grow" in registry.names("segment")
True
"""

from __future__ import annotations

import functools
import importlib
import inspect
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from .validate import RetouchError

__all__ = ["Method", "Kind", "KINDS", "register", "get", "names", "methods", "validate_settings", "error_text"]

Kind = Literal["segment", "refine", "inpaint"]
KINDS: tuple[str, ...] = ("segment", "refine", "inpaint")

RESERVED = frozenset({"method", "mode", "settings", "kind"})
"""Names a setting may not take: recipes, the CLI and the web API use them for the step."""

_REGISTRY: dict[str, dict[str, "Method"]] = {k: {} for k in KINDS}
_ALIASES: dict[str, dict[str, str]] = {k: {} for k in KINDS}
"""Former method names, per kind: alias -> name."""
_PACKAGES = ("retouch.segment", "retouch.refine", "retouch.inpaint")
_loaded = False


class Settings(BaseModel):
    """Base of every method's settings model: unknown keys are an error."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=False)

    def kwargs(self) -> dict[str, Any]:
        """The settings as keyword arguments, with tuples and lists kept."""
        return {name: getattr(self, name) for name in type(self).model_fields}


@dataclass(frozen=True)
class Method:
    """One registered method."""

    kind: str
    name: str
    func: Callable[..., Any]
    settings: type[Settings]
    summary: str
    arrays: tuple[str, ...] = field(default=())

    def validate(self, settings: dict[str, Any] | BaseModel | None = None) -> Settings:
        """Validate ``settings`` (a dict or a settings model) into this method's model."""
        return validate_settings(self, settings)

    def __call__(self, *args: Any, settings: dict[str, Any] | BaseModel | None = None, **arrays: Any) -> Any:
        """Run the method: positional arrays, validated settings, and array keywords."""
        unknown = set(arrays) - set(self.arrays)
        if unknown:
            raise RetouchError(
                f"{self.kind} method '{self.name}' takes no array input {', '.join(sorted(unknown))}"
            )
        s = self.validate(settings)
        return self.func(*args, **s.kwargs(), **arrays)

    def describe(self) -> list[tuple[str, str, Any, str]]:
        """Rows of (setting, type, default, description) for help texts."""
        rows = []
        for fname, f in self.settings.model_fields.items():
            default = "required" if f.is_required() else f.default
            rows.append((fname, _type_text(f.annotation), default, f.description or ""))
        return rows


def _type_text(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) if not typing.get_args(annotation) else None
    if text is None:
        text = str(annotation).replace("typing.", "")
    return text.replace("NoneType", "None")


_PARAM_RE = re.compile(r"^(\w+)\s*:\s*(.*)$")


def _param_docs(doc: str | None) -> dict[str, str]:
    """Map parameter name -> first sentence of its numpydoc description."""
    if not doc:
        return {}
    lines = inspect.cleandoc(doc).splitlines()
    try:
        start = next(i for i, ln in enumerate(lines) if ln.strip() == "Parameters") + 2
    except StopIteration:
        return {}
    out: dict[str, str] = {}
    names: list[str] = []
    for i in range(start, len(lines)):
        ln = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if ln and not ln.startswith(" ") and re.match(r"^-{3,}$", nxt.strip()):
            break  # the next numpydoc section
        if ln and not ln.startswith(" "):
            m = _PARAM_RE.match(ln.strip())
            names = [n.strip() for n in m.group(1).split(",")] if m else []
            for n in names:
                out[n] = ""
        elif names and ln.strip():
            for n in names:
                out[n] = (out[n] + " " + ln.strip()).strip()
    # the first sentence is enough for help texts
    return {k: (v.split(". ")[0].rstrip(".") + "." if v else "") for k, v in out.items()}


def _is_array_annotation(annotation: Any) -> bool:
    if annotation is np.ndarray:
        return True
    return any(_is_array_annotation(a) for a in typing.get_args(annotation))


def _build_settings(kind: str, name: str, func: Callable[..., Any]) -> tuple[type[Settings], tuple[str, ...]]:
    hints = typing.get_type_hints(func, include_extras=True)
    docs = _param_docs(func.__doc__)
    fields: dict[str, Any] = {}
    arrays: list[str] = []
    for p in inspect.signature(func).parameters.values():
        if p.kind is not inspect.Parameter.KEYWORD_ONLY:
            continue
        ann = hints.get(p.name, Any)
        if _is_array_annotation(ann):
            arrays.append(p.name)
            continue
        if p.name in RESERVED:
            raise TypeError(
                f"{kind} method '{name}': a setting may not be called {p.name!r}, which recipes, the CLI and "
                f"the web API use for the step itself (reserved: {', '.join(sorted(RESERVED))}); "
                "call it for example 'algorithm' or 'variant'"
            )
        default = ... if p.default is inspect.Parameter.empty else p.default
        fields[p.name] = (ann, Field(default, description=docs.get(p.name) or None))
    model_name = "".join(part.capitalize() for part in name.split("_")) + "Settings"
    model = create_model(model_name, __base__=Settings, __doc__=f"Settings of {kind} method '{name}'.", **fields)
    return model, tuple(arrays)


def register(
    kind: str, name: str | None = None, *, summary: str | None = None, aliases: tuple[str, ...] = ()
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: register ``func`` as a method of ``kind`` under ``name`` (default: the function's name).

    The summary defaults to the first line of the docstring. ``aliases`` are
    former names that :func:`get` still accepts (recipes written with them
    keep working); :func:`names` lists only ``name``.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")

    def deco(func: Callable[..., Any]) -> Callable[..., Any]:
        mname = name or func.__name__
        model, arrays = _build_settings(kind, mname, func)
        first = (inspect.getdoc(func) or "").strip().splitlines()
        text = summary or (first[0] if first else mname)
        array_names = frozenset(arrays)
        params = inspect.signature(func).parameters.values()
        positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        keyword_only = [p.name for p in params if p.kind is p.KEYWORD_ONLY]
        takes_varargs = any(p.kind is p.VAR_POSITIONAL for p in params)

        @functools.wraps(func)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if len(args) > len(positional) and not takes_varargs:
                # What Python says for a keyword-only parameter given by position,
                # before the settings model could call it missing.
                n = len(positional)
                more = " and every setting after it" if len(keyword_only) > 1 else ""
                hint = f"; {keyword_only[0]}{more} {'are' if more else 'is'} keyword-only" if keyword_only else ""
                example = ", ".join(positional + ([f"{keyword_only[0]}=..."] if keyword_only else []))
                raise TypeError(
                    f"{func.__name__}() takes {n} positional argument{'s' if n != 1 else ''} but {len(args)} "
                    f"were given{hint}: call {func.__name__}({example})"
                )
            # The same settings model checks direct Python calls, the CLI, the
            # web app and recipes: one place for types, ranges and messages.
            settings = {k: v for k, v in kwargs.items() if k not in array_names}
            given = {k: v for k, v in kwargs.items() if k in array_names}
            method = _REGISTRY[kind][mname]
            return func(*args, **validate_settings(method, settings).kwargs(), **given)

        checked.__wrapped_settings__ = model  # type: ignore[attr-defined]
        _REGISTRY[kind][mname] = Method(kind, mname, func, model, text, arrays)
        for alias in aliases:
            _ALIASES[kind][alias] = mname
        return checked

    return deco


def checked(kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: check a public helper's keyword settings like a method's, without registering it.

    For functions beside a method that take the same kind of settings (such as
    :func:`retouch.segment.superpixels.superpixel_labels`): unknown keywords, wrong types
    and ranges give the same one-line :class:`RetouchError` as a method's.
    """

    def deco(func: Callable[..., Any]) -> Callable[..., Any]:
        model, arrays = _build_settings(kind, func.__name__, func)
        method = Method(kind, func.__name__, func, model, func.__name__, arrays)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            settings = {k: v for k, v in kwargs.items() if k not in arrays}
            given = {k: v for k, v in kwargs.items() if k in arrays}
            try:
                valid = validate_settings(method, settings)
            except RetouchError as err:  # name the function, not a method it is not
                raise RetouchError(str(err).replace(f"{kind} method '{method.name}'", method.name)) from None
            return func(*args, **valid.kwargs(), **given)

        wrapper.__wrapped_settings__ = model  # type: ignore[attr-defined]
        return wrapper

    return deco


def _ensure_loaded() -> None:
    global _loaded
    if not _loaded:
        for pkg in _PACKAGES:
            importlib.import_module(pkg)
        _loaded = True


def names(kind: str) -> list[str]:
    """The registered method names of ``kind``, sorted."""
    _ensure_loaded()
    if kind not in KINDS:
        raise RetouchError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return sorted(_REGISTRY[kind])


def get(kind: str, name: str) -> Method:
    """The method ``name`` of ``kind``; an unknown name lists the known ones."""
    known = names(kind)
    name = _ALIASES[kind].get(name, name)
    if name not in _REGISTRY[kind]:
        raise RetouchError(f"unknown {kind} method {name!r}; known: {', '.join(known)}")
    return _REGISTRY[kind][name]


def methods(kind: str | None = None) -> list[Method]:
    """All registered methods (of one kind, or of every kind in order)."""
    kinds = KINDS if kind is None else (kind,)
    return [get(k, n) for k in kinds for n in names(k)]


def error_text(method: Method, err: ValidationError) -> str:
    """One line naming each setting a :class:`pydantic.ValidationError` refused, what it got and what it takes."""
    parts = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "settings"
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            known = ", ".join(method.settings.model_fields) or "none"
            msg = f"is not a setting of {method.kind} method '{method.name}' (settings: {known})"
            parts.append(f"{loc} {msg}")
            continue
        got = e.get("input")
        got_text = "" if isinstance(got, dict) else f" (got {got!r})"
        parts.append(f"{loc}: {msg}{got_text}")
    return f"{method.kind} method '{method.name}': " + "; ".join(parts)


def validate_settings(method: Method, settings: dict[str, Any] | BaseModel | None) -> Settings:
    """Validate settings for ``method``; errors become one-line :class:`RetouchError`."""
    if settings is None:
        settings = {}
    if isinstance(settings, method.settings):
        return settings
    if isinstance(settings, BaseModel):
        settings = settings.model_dump(exclude_unset=True)
    try:
        return method.settings.model_validate(settings)
    except ValidationError as err:
        raise RetouchError(error_text(method, err)) from None
