"""Health, the page's configuration, and the registered methods with their settings schemas."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from ... import __version__, registry
from ...pipeline import DEFAULT_INPAINT
from ...validate import RetouchError
from ..config import available_tools
from ..models import AppConfig, Health, Limits, MethodInfo, ToolInfo
from ..service import ApiError
from . import Svc

router = APIRouter(prefix="/api", tags=["info"])
Kind = Literal["segment", "refine", "inpaint"]


def method_info(m: registry.Method) -> MethodInfo:
    return MethodInfo(kind=m.kind, name=m.name, summary=m.summary, settings=m.settings.model_json_schema())


@router.get("/health", response_model=Health, summary="Server health and memory held")
def health(svc: Svc) -> Health:
    store = svc.store
    store.sweep()
    return Health(ok=True, sessions=len(store), bytes=store.total_bytes(), dropped=store.dropped)


@router.get("/config", response_model=AppConfig, summary="Tools, methods and limits for the page")
def get_config(svc: Svc) -> AppConfig:
    return AppConfig(
        version=__version__,
        limits=Limits(**{k: getattr(svc.config, k) for k in Limits.model_fields}),
        tools=[ToolInfo(**t) for t in available_tools()],
        default_inpaint=DEFAULT_INPAINT,
        methods={k: [method_info(m) for m in registry.methods(k)] for k in registry.KINDS},
        initial_session=svc.initial_session if svc.initial_session in svc.store else None,
    )


@router.get("/methods", response_model=list[MethodInfo], summary="Registered methods with their settings schemas")
def list_methods(kind: Annotated[Kind | None, Query(description="Only this kind.")] = None) -> list[MethodInfo]:
    return [method_info(m) for m in registry.methods(kind)]


@router.get("/methods/{kind}/{name}", response_model=MethodInfo, summary="One method and its settings schema")
def one_method(kind: Kind, name: str) -> MethodInfo:
    try:
        return method_info(registry.get(kind, name))
    except RetouchError as e:
        raise ApiError(404, str(e)) from None
