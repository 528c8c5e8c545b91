"""The result, in the upload's format and bit depth, and the mask."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from . import SID, Svc

router = APIRouter(prefix="/api/sessions/{sid}/download", tags=["downloads"])
Which = Literal["auto", "current", "filled"]


def attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}


@router.get("/image", summary="The result, in the upload's format and bit depth", response_class=Response,
            responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "image/tiff": {}, "image/webp": {}, "image/bmp": {}}}})
def download_image(sid: SID, svc: Svc) -> Response:
    data, name, media = svc.result(sid)
    return Response(data, media_type=media, headers=attachment(name))


@router.get("/mask", summary="A mask as an 8-bit PNG (white = selected / filled)", response_class=Response, responses={200: {"content": {"image/png": {}}}})
def download_mask(
    sid: SID,
    svc: Svc,
    which: Annotated[Which, Query(description="current: the mask now; filled: every pixel filled so far; auto: current if not empty, else filled.")] = "auto",
) -> Response:
    data, name = svc.mask_file(sid, which)
    return Response(data, media_type="image/png", headers=attachment(name))
