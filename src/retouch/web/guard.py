"""Checks every request passes before the app sees it, and how errors are answered (one line of JSON)."""

from __future__ import annotations

import contextlib
import logging
import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ..validate import is_out_of_memory, out_of_memory_text
from .service import ApiError, one_line

__all__ = ["Guard", "add_error_handlers"]

log = logging.getLogger("retouch.web")


def _validation_text(exc: RequestValidationError) -> str:
    parts = []
    for e in exc.errors():
        loc = ".".join(str(x) for x in e.get("loc", ()) if x != "body") or "request"
        msg = e.get("msg", "invalid")
        got = e.get("input")
        got_text = "" if isinstance(got, (dict, list)) or got is None or e.get("type") == "missing" else f" (got {got!r})"
        parts.append(f"{loc}: {msg}{got_text}")
    return one_line("; ".join(parts)) or "invalid request"


def _host_name(value: str) -> str:
    """'example.org:8765' -> 'example.org'; '[::1]:80' -> '::1'."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class Guard:
    """Check every request before the app sees it.

    - the Host header must name an allowed host (DNS-rebinding guard);
    - a request that changes something and carries an Origin header must
      come from the page's own origin (cross-site request guard);
    - a body over the upload limit is refused (413) before it is read.
    """

    def __init__(self, app: Any, limit: int, allowed_hosts: list[str]):
        self.app = app
        self.limit = limit
        self.any_host = "*" in allowed_hosts
        self.hosts = {_host_name(h) for h in allowed_hosts}

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", ())}
        host = headers.get("host", "")
        if not self.any_host and _host_name(host) not in self.hosts:
            await JSONResponse({"detail": f"this server answers to {', '.join(sorted(self.hosts))}, not {host!r}"}, status_code=400)(scope, receive, send)
            return
        if scope.get("method") not in ("POST", "PUT", "PATCH", "DELETE"):
            await self.app(scope, receive, send)
            return
        origin = headers.get("origin")
        if origin is not None and origin.split("://", 1)[-1].rstrip("/").lower() != host.lower():
            await JSONResponse({"detail": f"cross-site request from {origin} refused; use the page this server serves"}, status_code=403)(scope, receive, send)
            return
        message = f"the upload is larger than this server's limit of {self.limit / 2**20:.1f} MiB; start the server with a larger --max-upload-mb"
        with contextlib.suppress(ValueError):
            if int(headers.get("content-length", "0")) > self.limit + 64 * 1024:
                await JSONResponse({"detail": message}, status_code=413)(scope, receive, send)
                return
        received = 0

        async def limited() -> dict:
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > self.limit + 64 * 1024:
                    raise HTTPException(413, message)
            return msg

        await self.app(scope, limited, send)


def add_error_handlers(app: FastAPI) -> None:
    """Every error, expected or not, is answered as ``{"detail": "one line"}``; the server goes on."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"detail": one_line(exc.message)}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_text(exc)}, status_code=422)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"detail": one_line(str(exc.detail))}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        if is_out_of_memory(exc):  # MemoryError, or OpenCV's "Insufficient memory": one line, not OpenCV's text
            return JSONResponse({"detail": out_of_memory_text(exc, "try a smaller image, or select less")}, status_code=507)
        log.error("internal error on %s %s\n%s", request.method, request.url.path, "".join(traceback.format_exception(exc)))
        return JSONResponse({"detail": one_line(f"internal error ({type(exc).__name__}: {exc}); the server keeps running")}, status_code=500)
