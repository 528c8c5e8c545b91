"""The page, its static files, and the API documentation from the vendored Swagger UI."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, RedirectResponse, Response

STATIC = Path(__file__).parents[1] / "static"
SWAGGER_UI = "swagger-ui-dist-5.35.0"
"""The vendored Swagger UI (npm swagger-ui-dist, pinned) behind /docs."""

router = APIRouter(include_in_schema=False)


@router.get("/")
def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


@router.get("/docs")
def docs() -> Response:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="retouch API",
        swagger_js_url=f"/static/vendor/{SWAGGER_UI}/swagger-ui-bundle.js",
        swagger_css_url=f"/static/vendor/{SWAGGER_UI}/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
        swagger_ui_parameters={"validatorUrl": None, "defaultModelsExpandDepth": 1, "tryItOutEnabled": True},
    )


@router.get("/favicon.ico")
def favicon() -> Response:
    return RedirectResponse("/static/favicon.svg")
