"""The web API's routers, one per resource; each route parses its request and calls the :class:`~retouch.web.service.Service`.

- :mod:`.page`: the page, its static files and the API documentation (``/docs``);
- :mod:`.info`: health, the page's configuration, the methods and their settings;
- :mod:`.sessions`: open an image, its state, close it;
- :mod:`.images`: previews, the mask overlay, the histogram, superpixel borders;
- :mod:`.mask`: every tool that changes the mask (segment, clicks, brush, shape, refine, clear, mask file);
- :mod:`.history`: undo and redo;
- :mod:`.fill`: start a fill and poll its job;
- :mod:`.downloads`: the result and the mask.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path as PathParam, Request

from ..service import Service

__all__ = ["SID", "JOB_ID", "Svc", "NO_STORE"]

SID_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"
SID = Annotated[str, PathParam(pattern=SID_PATTERN, description="Session id from POST /api/sessions.")]
JOB_ID = Annotated[str, PathParam(pattern=r"^[0-9a-f]{16}$", description="Job id from POST /api/sessions/{sid}/fill.")]
NO_STORE = {"Cache-Control": "no-store"}


def _service(request: Request) -> Service:
    return request.app.state.service


Svc = Annotated[Service, Depends(_service)]
"""The app's service, for a route's parameters."""
