"""Fill the mask in the background and poll the job."""

from __future__ import annotations

from fastapi import APIRouter

from ..models import FillRequest, JobState
from . import JOB_ID, SID, Svc

router = APIRouter(prefix="/api/sessions/{sid}", tags=["fill"])


@router.post("/fill", status_code=202, summary="Start filling the mask (poll the job)")
def fill(sid: SID, req: FillRequest, svc: Svc) -> JobState:
    return svc.start_fill(sid, req)


@router.get("/jobs/{job_id}", summary="Progress of a fill")
def get_job(sid: SID, job_id: JOB_ID, svc: Svc) -> JobState:
    return svc.job(sid, job_id)
