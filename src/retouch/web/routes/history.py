"""Undo and redo over every mask and fill step."""

from __future__ import annotations

from fastapi import APIRouter

from ..models import SessionState
from . import SID, Svc

router = APIRouter(prefix="/api/sessions/{sid}", tags=["history"])


@router.post("/undo", summary="Undo the last mask or fill step")
def undo(sid: SID, svc: Svc) -> SessionState:
    return svc.undo(sid)


@router.post("/redo", summary="Redo the last undone step")
def redo(sid: SID, svc: Svc) -> SessionState:
    return svc.redo(sid)
