"""Open an image (a session), see its state, close it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import Response

from ..models import SessionState
from . import SID, Svc

router = APIRouter(prefix="/api/sessions", tags=["sessions"])


@router.post("", response_model=SessionState, status_code=201, summary="Open an image (multipart upload)")
def upload(svc: Svc, file: Annotated[UploadFile, File(description="PNG, JPEG, TIFF, BMP or WebP; 8 or 16 bit, grey, RGB or RGBA.")]) -> SessionState:
    return svc.open_upload(file.file, file.filename)


@router.get("/{sid}", response_model=SessionState, summary="State of a session")
def get_session(sid: SID, svc: Svc) -> SessionState:
    return svc.get_state(sid)


@router.delete("/{sid}", status_code=204, summary="Close a session and drop its image")
def delete_session(sid: SID, svc: Svc) -> Response:
    svc.drop(sid)
    return Response(status_code=204)
