"""Pictures for the page: previews, the mask overlay, the histogram, superpixel borders."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from ..models import Histogram
from . import NO_STORE, SID, Svc

router = APIRouter(prefix="/api/sessions/{sid}", tags=["images"])
PNG = {200: {"content": {"image/png": {}}}}


@router.get("/preview", summary="Downscaled preview (JPEG, or PNG with alpha)", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}})
def preview(sid: SID, svc: Svc, which: Literal["current", "original"] = "current", v: int | None = None) -> Response:
    data, media = svc.preview(sid, which)
    return Response(data, media_type=media, headers=NO_STORE)


@router.get("/overlay", summary="The mask as a transparent PNG at preview size", response_class=Response, responses=PNG)
def overlay(sid: SID, svc: Svc, v: int | None = None) -> Response:
    return Response(svc.overlay(sid), media_type="image/png", headers=NO_STORE)


@router.get("/histogram", response_model=Histogram, summary="Luminance histogram for the threshold tool")
def get_histogram(sid: SID, svc: Svc) -> Histogram:
    return Histogram(**svc.histogram(sid))


@router.get("/superpixels/outline", summary="Superpixel borders as a transparent PNG at preview size", response_class=Response, responses=PNG)
def superpixel_outline(
    sid: SID,
    svc: Svc,
    settings: Annotated[str, Query(description='Settings of segment method \'superpixels\' as JSON, e.g. {"n_segments": 800}.')] = "{}",
) -> Response:
    return Response(svc.superpixel_outline(sid, settings), media_type="image/png", headers=NO_STORE)
