"""Every tool that changes the mask: segmenters, clicks, brush, shapes, refinements, clear, a mask file."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from ..models import BrushRequest, ClickRequest, Mode, RefineRequest, SegmentRequest, SessionState, ShapeRequest
from . import SID, Svc

router = APIRouter(prefix="/api/sessions/{sid}", tags=["mask"])


@router.post("/segment", summary="Run a segmenter (box, wand, colour, threshold, superpixels, detectors, ...)")
def segment(sid: SID, req: SegmentRequest, svc: Svc) -> SessionState:
    return svc.segment(sid, req)


@router.post("/clicks", summary="One positive or negative click of the click tool")
def click(sid: SID, req: ClickRequest, svc: Svc) -> SessionState:
    return svc.click(sid, req)


@router.delete("/clicks", summary="Finish the current click object (the next click starts a new one)")
def end_clicks(sid: SID, svc: Svc) -> SessionState:
    return svc.end_clicks(sid)


@router.post("/brush", summary="Paint or erase a stroke")
def brush(sid: SID, req: BrushRequest, svc: Svc) -> SessionState:
    return svc.brush(sid, req)


@router.post("/shape", summary="Select a rectangle, ellipse or polygon (lasso)")
def shape(sid: SID, req: ShapeRequest, svc: Svc) -> SessionState:
    return svc.shape(sid, req)


@router.post("/refine", summary="Grow, shrink, fill holes, remove small parts, smooth, invert, ...")
def refine(sid: SID, req: RefineRequest, svc: Svc) -> SessionState:
    return svc.refine(sid, req)


@router.post("/mask/clear", summary="Clear the mask")
def clear(sid: SID, svc: Svc) -> SessionState:
    return svc.clear(sid)


@router.post("/mask", summary="Load a mask file (white = selected)")
def load_mask(sid: SID, svc: Svc, file: Annotated[UploadFile, File(description="A mask image of the image's size; non-zero = selected.")],
              mode: Annotated[Mode, Form()] = "replace") -> SessionState:
    return svc.load_mask(sid, file.file, file.filename, mode)
