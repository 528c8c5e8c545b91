"""The local web app: mark what should go with every tool retouch has, refine, fill, download.

``retouch serve`` starts it (uvicorn, http://127.0.0.1:8765 by default). The
page is static HTML, CSS and JavaScript served by :func:`create_app`; the
HTTP API it calls is documented at ``/docs``. Images live on the server for
the session (see :mod:`retouch.web.store`), are processed at full size and
shown as downscaled previews.
"""

from .app import TOOLS, WebConfig, create_app

__all__ = ["create_app", "WebConfig", "TOOLS"]
