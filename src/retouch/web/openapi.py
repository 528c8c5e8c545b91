"""The OpenAPI document, with every method's settings model as a schema the requests point to."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from .. import registry

__all__ = ["TAGS", "openapi"]

TAGS = [
    {"name": "sessions", "description": "Open an image; the server holds it for the session."},
    {"name": "mask", "description": "Mark what should go: every tool adds to or subtracts from the mask."},
    {"name": "history", "description": "Undo and redo over every mask and fill step."},
    {"name": "fill", "description": "Fill the mask in the background and poll its progress."},
    {"name": "images", "description": "Previews, overlay and histogram for the page."},
    {"name": "downloads", "description": "The result and the mask."},
    {"name": "info", "description": "Methods, tools and limits."},
]
# the requests whose ``settings`` are one method's settings, and the kind of that method
_SETTINGS_OF = (("SegmentRequest", "segment"), ("RefineRequest", "refine"), ("FillRequest", "inpaint"), ("ClickRequest", "segment"))


def openapi(app: FastAPI) -> dict[str, Any]:
    """``app``'s OpenAPI document (made once, then kept on the app)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, summary=app.summary, description=app.description, routes=app.routes, tags=TAGS)
    comps = schema.setdefault("components", {}).setdefault("schemas", {})
    refs = _add_settings_models(comps)
    for model, kind in _SETTINGS_OF:
        props = comps.get(model, {}).get("properties", {})
        if "settings" in props and refs.get(kind):
            options = refs[kind] if model != "ClickRequest" else [r for r in refs[kind] if r["$ref"].endswith("ClicksSettings")]
            props["settings"] = {
                "description": props["settings"].get("description", "") + " One of the settings models below, chosen by 'method'.",
                "anyOf": options or [{"type": "object"}],
                "default": {},
            }
    app.openapi_schema = schema
    return schema


def _add_settings_models(comps: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """Put every registered method's settings model into ``comps``; the references to them by kind."""
    refs: dict[str, list[dict[str, str]]] = {}
    for m in registry.methods():
        name = f"{m.kind.capitalize()}{m.settings.__name__}"
        sub = m.settings.model_json_schema(ref_template="#/components/schemas/{model}")
        for dname, d in sub.pop("$defs", {}).items():
            comps.setdefault(dname, d)
        sub["title"] = f"{m.kind} method '{m.name}'"
        sub["description"] = f"{m.summary} (settings of {m.kind} method '{m.name}')"
        comps[name] = sub
        refs.setdefault(m.kind, []).append({"$ref": f"#/components/schemas/{name}"})
    return refs
