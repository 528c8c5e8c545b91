"""The FastAPI application: a thin HTTP layer over the :class:`~retouch.web.service.Service`.

Every route that runs a method names it from :mod:`retouch.registry` and
validates its settings with that method's settings model, the one the CLI and
recipes use; a mistake is a 4xx JSON answer ``{"detail": "<one line>"}``.
The interactive API documentation is at ``/docs`` (OpenAPI at
``/openapi.json``), with every method's settings model listed as a schema.

How the parts fit: :mod:`.config` (limits and tools), :mod:`.models`
(requests and answers), :mod:`.service` (what the app does, testable without
HTTP), :mod:`.routes` (one router per resource), :mod:`.guard` (host, origin
and size checks; one-line errors), :mod:`.openapi`, :mod:`.imaging` (the
pictures sent and received) and :mod:`.store` (sessions and their history).

>>> from retouch.web import create_app
>>> app = create_app()
>>> app.url_path_for("get_config")
'/api/config'
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import weakref

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from .. import __version__
from .config import WebConfig
from .guard import Guard, add_error_handlers
from .openapi import openapi
from .routes import downloads, fill, history, images, info, mask, page, sessions
from .routes.page import STATIC
from .service import Service

__all__ = ["create_app"]

DESCRIPTION = (
    "The local web app of retouch. Open an image (POST /api/sessions), mark a mask with the "
    "segmenters of the registry, refine it, fill it, download the result. Every method's settings "
    "are validated by the same settings models as the CLI and recipes (schemas named *Settings below). "
    "Coordinates are image pixels (x, y); boxes are (x, y, width, height). Errors are JSON "
    '`{"detail": "one line"}` with a 4xx status.'
)


def create_app(config: WebConfig | None = None, *, image: str | os.PathLike[str] | None = None) -> FastAPI:
    """Build the web app.

    Parameters
    ----------
    config : WebConfig, optional
        Limits and sizes (defaults: 100 MiB uploads, 100 megapixels, 8
        sessions, 2 GiB for all sessions, one hour idle time).
    image : path, optional
        An image file named by the person starting the server (never by a
        client) to open in a first session.

    Returns
    -------
    FastAPI
        The application; serve it with uvicorn.
    """
    svc = Service(config)
    app = FastAPI(
        title="retouch", version=__version__, summary="Mark what should go in a photo, refine the mask, fill the hole.",
        description=DESCRIPTION, lifespan=_lifespan(svc),
        docs_url=None, redoc_url=None,  # /docs is served from the vendored Swagger UI, not from a CDN
    )
    weakref.finalize(app, shutil.rmtree, svc.upload_dir, True)  # also when the app is never started
    app.state.service = svc
    app.add_middleware(Guard, limit=svc.config.max_upload_bytes, allowed_hosts=svc.config.allowed_hosts)
    add_error_handlers(app)
    if image is not None:
        svc.open_file(image)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for routes in (page, info, sessions, images, mask, history, fill, downloads):
        app.include_router(routes.router)
    app.openapi = lambda: openapi(app)  # type: ignore[method-assign]
    return app


def _lifespan(svc: Service):
    """While the server runs, idle sessions are swept every ``sweep_seconds``; at its end the service closes."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        async def sweeper() -> None:
            while True:
                await asyncio.sleep(svc.config.sweep_seconds)
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(svc.store.sweep)

        task = asyncio.create_task(sweeper())
        try:
            yield
        finally:
            task.cancel()
            svc.close()

    return lifespan
