"""Peak memory of thin images (a strip 1 px high, or a few) through the CLI and the web app.

Issue 21: ``retouch restore`` on a 60000 x 1 PNG grew until the kernel killed
it (the scratch detector's rotated canvas was about (w + h)^2 / 2 pixels).
Each case here runs in a fresh process, and the figure is that process's peak
resident memory (``ru_maxrss``, what ``/usr/bin/time -v`` calls "Maximum
resident set size"), libraries included (about 180 MB of it). The acceptance
is below 1 GB, with a result or a one-line refusal.

- ``restore`` and ``remove`` (magic wand ``--point``, GrabCut ``--box``,
  ``--click``) through ``python -m retouch.cli``;
- the web app's detectors (every method of its "detect" tool) on an upload,
  with FastAPI's TestClient.

Synthetic strips (noise around mid-grey), no data needed.

Run: ``python -m benchmarks.thin_images [--length 60000] [--thick 12]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

from retouch import io

_WEB = """
import resource, sys
from fastapi.testclient import TestClient
from retouch.web import WebConfig, create_app
from retouch.web.config import available_tools
client = TestClient(create_app(WebConfig()), raise_server_exceptions=False, base_url="http://127.0.0.1:8765")
with open(sys.argv[1], "rb") as f:
    r = client.post("/api/sessions", files={"file": ("strip.png", f, "image/png")})
assert r.status_code == 201, r.text
sid = r.json()["id"]
tool = next(t for t in available_tools() if t["id"] == "detect")
codes = []
for name in tool["methods"]:
    r = client.post(f"/api/sessions/{sid}/segment", json={"method": name, "settings": {}})
    codes.append(f"{name} {r.status_code}")
print("; ".join(codes))
"""


def _run(cmd: list[str]) -> tuple[int, float, float, str]:
    """(exit status, seconds, peak resident MB of that child, last line of its output)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        lines = (out.read() if proc.returncode == 0 else err.read()).strip().splitlines()
    return proc.returncode, seconds, usage.ru_maxrss / 1024, lines[-1] if lines else ""


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--length", type=int, default=60_000, help="long side of the strips (default 60000)")
    ap.add_argument("--thick", type=int, default=12, help="short side of the thicker strip (default 12)")
    args = ap.parse_args(argv)
    n = args.length
    folder = Path(tempfile.mkdtemp(prefix="retouch-thin-"))
    rng = np.random.default_rng(0)
    py = [sys.executable, "-m", "retouch.cli"]
    print(f"{'case':<44} {'exit':>4} {'seconds':>8} {'peak MB':>8}  result")
    for h, w in ((1, n), (n, 1), (args.thick, n), (n, args.thick)):
        src = io.write(folder / f"strip_{w}x{h}.png", (rng.random((h, w, 3)) * 60 + 100).astype(np.uint8), overwrite=True)
        x, y = w // 2, h // 2
        cases = {
            "restore": py + ["restore", str(src), "-o", str(folder / "r.png"), "--overwrite"],
            "remove --point": py + ["remove", str(src), "--point", f"{x},{y}", "--tolerance", "5", "-o", str(folder / "p.png"), "--overwrite"],
            "remove --box": py + ["remove", str(src), "--box", f"{max(0, x - 1000)},{max(0, y - 1000)},{min(w, 2000)},{min(h, 2000)}",
                                  "-o", str(folder / "b.png"), "--overwrite"],
            "remove --click": py + ["remove", str(src), "--click", f"{x},{y}", "-o", str(folder / "c.png"), "--overwrite"],
            "web detectors": [sys.executable, "-c", textwrap.dedent(_WEB), str(src)],
        }
        for name, cmd in cases.items():
            code, seconds, peak, text = _run(cmd)
            print(f"{name + f' {w}x{h}':<44} {code:>4} {seconds:>8.1f} {peak:>8.0f}  {text[:90]}", flush=True)
    print(f"(inputs in {folder}, removed unless RETOUCH_KEEP is set)")
    if os.environ.get("RETOUCH_KEEP") is None:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
