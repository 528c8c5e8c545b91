"""Fixtures of the web-app tests: photos as files, an API client, a live server and Chromium.

The browser tests drive Debian's Chromium (``/usr/bin/chromium``) with
Playwright; ``make test`` installs it where it is missing. Without it those
tests fail with a message saying so, unless ``RETOUCH_SKIP_BROWSER=1`` is set,
in which case they are skipped.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from skimage import data

from retouch import io

CHROMIUM = Path(os.environ.get("RETOUCH_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("RETOUCH_SCREENSHOTS", REPO / "bench-out" / "web"))


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives Chromium with Playwright (RETOUCH_SKIP_BROWSER=1 skips)")


@pytest.fixture(scope="session")
def photo_png(tmp_path_factory) -> Path:
    """scikit-image's astronaut (512x512 RGB) as a PNG file."""
    path = tmp_path_factory.mktemp("photos") / "astronaut.png"
    io.write(path, data.astronaut())
    return path


@pytest.fixture(scope="session")
def photo_bytes(photo_png) -> bytes:
    return photo_png.read_bytes()


def make_client(**config):
    """A TestClient on a fresh app with ``config`` (WebConfig fields)."""
    from fastapi.testclient import TestClient

    from retouch.web import WebConfig, create_app

    return TestClient(create_app(WebConfig(**config)), raise_server_exceptions=False, base_url="http://127.0.0.1:8765")


@pytest.fixture
def client():
    with make_client() as c:
        yield c


@pytest.fixture
def new_client():
    """Factory: ``new_client(max_pixels=..., ...)`` gives a client on an app with that config."""
    made = []

    def factory(**config):
        c = make_client(**config)
        c.__enter__()
        made.append(c)
        return c

    yield factory
    for c in made:
        c.__exit__(None, None, None)


@pytest.fixture
def wait():
    """``wait(client, sid, job)`` polls a fill job until it ends and returns its last state."""
    return wait_job


@pytest.fixture
def session(client, photo_bytes) -> dict:
    """A session on the astronaut photo; returns its state."""
    r = client.post("/api/sessions", files={"file": ("astronaut.png", photo_bytes, "image/png")})
    assert r.status_code == 201, r.text
    return r.json()


def wait_job(client, sid: str, job: dict, timeout: float = 120) -> dict:
    """Poll a fill job until it ends."""
    end = time.monotonic() + timeout
    while job["status"] in ("queued", "running"):
        assert time.monotonic() < end, f"fill job still {job['status']} after {timeout} s"
        time.sleep(0.05)
        r = client.get(f"/api/sessions/{sid}/jobs/{job['id']}")
        assert r.status_code == 200, r.text
        job = r.json()
    return job


# ----------------------------------------------------------------------------- live server + browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server():
    """The app served by uvicorn on a free port in a background thread; yields its base URL."""
    import uvicorn

    from retouch.web import WebConfig, create_app

    port = _free_port()
    # previews at most 1024 px: a 1600 px photo is shown at 64 % and processed at full size
    config = uvicorn.Config(create_app(WebConfig(preview_max_side=1024)), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="retouch-test-server", daemon=True)
    thread.start()
    end = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > end:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium, headless, driven by Playwright."""
    if os.environ.get("RETOUCH_SKIP_BROWSER") == "1":
        pytest.skip("RETOUCH_SKIP_BROWSER=1: browser tests skipped")
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: run `make test` (it installs Debian's chromium with apt-get), "
            "or set RETOUCH_SKIP_BROWSER=1 to skip the browser tests",
            pytrace=False,
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the browser tests need Playwright: run `make test` (pip install -e '.[test]')", pytrace=False)
    pw = sync_playwright().start()
    try:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    except Exception as e:
        pw.stop()
        pytest.fail(f"could not start {CHROMIUM} ({str(e).splitlines()[0]}); run `make test` to reinstall it", pytrace=False)
    yield browser
    browser.close()
    pw.stop()


@pytest.fixture
def page(chromium, live_server, tmp_path):
    """A fresh page on the app, 1400x860, with downloads allowed; fails the test on page errors."""
    context = chromium.new_context(viewport={"width": 1400, "height": 860}, accept_downloads=True, base_url=live_server)
    pg = context.new_page()
    errors: list[str] = []
    outside: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    # every file the page loads comes from the app itself, never from the internet
    pg.on("request", lambda r: None if r.url.startswith((live_server, "data:", "blob:")) else outside.append(r.url))
    pg.screenshots_dir = SCREENSHOTS  # where the tests save pictures of the app in use
    pg.goto("/")
    pg.wait_for_selector("body[data-started='1']", timeout=15_000)
    yield pg
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
    assert not outside, f"the page fetched files from outside the app: {outside}"


def image_of(path: Path) -> np.ndarray:
    return io.read(path)
