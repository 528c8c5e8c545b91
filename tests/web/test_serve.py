"""``retouch serve``: address, safety warning, limits and errors (uvicorn itself is not started)."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from retouch.cli import app

runner = CliRunner()


@pytest.fixture
def started(monkeypatch):
    """Record what uvicorn.run would have served instead of serving it."""
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda application, **kw: calls.append((application, kw)))
    return calls


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_defaults_to_localhost_and_prints_the_address(started):
    port = free_port()
    r = runner.invoke(app, ["serve", "--port", str(port)])
    assert r.exit_code == 0, r.output
    assert f"retouch web app: http://127.0.0.1:{port}/" in r.output and "/docs" in r.output
    assert "warning" not in r.output
    application, kw = started[0]
    assert kw["host"] == "127.0.0.1" and kw["port"] == port
    cfg = application.state.service.config
    assert "*" not in cfg.allowed_hosts and "localhost" in cfg.allowed_hosts
    assert cfg.max_pixels == 100_000_000 and cfg.max_upload_bytes == 100 * 2**20 and cfg.session_ttl == 3600


def test_serve_warns_for_another_host_and_passes_the_limits(started):
    port = free_port()
    r = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--port", str(port), "--max-pixels", "1000000", "--max-upload-mb", "5",
                            "--max-sessions", "3", "--memory-mb", "256", "--session-minutes", "2"])
    assert r.exit_code == 0, r.output
    assert "warning: listening on 0.0.0.0: anyone who can reach this machine" in " ".join(r.output.split())
    application, kw = started[0]
    assert kw["host"] == "0.0.0.0"
    cfg = application.state.service.config
    assert cfg.allowed_hosts == ["*"]
    assert (cfg.max_pixels, cfg.max_upload_bytes, cfg.max_sessions, cfg.max_memory_bytes, cfg.session_ttl) == (10**6, 5 * 2**20, 3, 256 * 2**20, 120)


def test_serve_opens_the_image_given(started, photo_png):
    r = runner.invoke(app, ["serve", str(photo_png), "--port", str(free_port())])
    assert r.exit_code == 0, r.output
    application, _ = started[0]
    assert application.state.service.initial_session in application.state.service.store


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--port", "0"], "--port must be in 1..65535"),
        (["--max-sessions", "0"], "max_sessions"),
        (["--port", "PORT", "/nonexistent/photo.png"], "does not exist"),
    ],
)
def test_serve_mistakes_are_one_line(started, args, words):
    args = [str(free_port()) if a == "PORT" else a for a in args]
    r = runner.invoke(app, ["serve", *args])
    assert r.exit_code == 1 and words in r.output and not started


def test_serve_refuses_a_busy_port(started):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = runner.invoke(app, ["serve", "--port", str(port)])
    assert r.exit_code == 1 and f"cannot listen on 127.0.0.1:{port}" in r.output and not started
