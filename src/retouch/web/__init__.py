"""The local web app: mark what should go with every tool retouch has, refine, fill, download.

``retouch serve`` starts it (uvicorn, http://127.0.0.1:8765 by default). The
page is static HTML, CSS and JavaScript served by :func:`create_app`; the
HTTP API it calls is documented at ``/docs``. Images live on the server for
the session (see :mod:`retouch.web.store`), are processed at full size and
shown as downscaled previews. :class:`Service` does the work (sessions, the
mask, clicks, history, fill jobs) without HTTP; :mod:`retouch.web.routes` maps
the API onto it.
"""

from .app import create_app
from .config import TOOLS, WebConfig
from .service import Service

__all__ = ["create_app", "WebConfig", "TOOLS", "Service"]
