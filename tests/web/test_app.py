"""Every route of the web app's HTTP API, its errors, and its safety limits."""

from __future__ import annotations

import re
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from retouch import io, registry
from retouch.segment import threshold as threshold_fn

STATIC = Path(__file__).resolve().parents[2] / "src" / "retouch" / "web" / "static"


def as_file(tmp_path: Path, content: bytes, name: str) -> Path:
    p = tmp_path / name
    p.write_bytes(content)
    return p


def encode(image: np.ndarray, ext: str, tmp_path: Path) -> bytes:
    p = tmp_path / f"enc{ext}"
    io.write(p, image, overwrite=True)
    return p.read_bytes()


def mask_of(client, sid: str, tmp_path: Path, which: str = "current") -> np.ndarray:
    r = client.get(f"/api/sessions/{sid}/download/mask", params={"which": which})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    return io.read_mask(as_file(tmp_path, r.content, f"mask-{which}.png"))


def detail(r) -> str:
    body = r.json()
    assert set(body) == {"detail"}, body
    assert isinstance(body["detail"], str) and "\n" not in body["detail"]
    return body["detail"]


# ----------------------------------------------------------------------------- page, info, docs


def test_page_and_static_files_are_served_without_external_references(client):
    r = client.get("/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "<title>retouch</title>" in r.text
    for name in ("app.js", "app.css", "favicon.svg"):
        assert client.get(f"/static/{name}").status_code == 200
    # nothing is fetched from the internet: no absolute URLs in the page or its files
    for path in STATIC.rglob("*"):
        if path.is_file() and "vendor" not in path.parts:
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"""(src|href)\s*=\s*["']https?://|url\(\s*["']?https?://|import\s.*https?://|fetch\(\s*["']https?://""", text), path


def test_health(client):
    r = client.get("/api/health")
    assert r.status_code == 200
    assert r.json() == {"ok": True, "sessions": 0, "bytes": 0, "dropped": 0}


def test_config_lists_tools_methods_and_limits(client):
    r = client.get("/api/config")
    assert r.status_code == 200
    c = r.json()
    tools = {t["id"]: t for t in c["tools"]}
    for always in ("box", "lasso", "brush", "eraser"):
        assert always in tools
    assert tools["wand"]["method"] == "region_grow" and tools["wand"]["key"] == "w"
    assert tools["box"]["key"] == "b" and tools["clicks"]["key"] == "c"
    assert tools["color"]["method"] == "color_range" and tools["threshold"]["method"] == "threshold"
    for kind in registry.KINDS:
        assert [m["name"] for m in c["methods"][kind]] == registry.names(kind)
    wand = next(m for m in c["methods"]["segment"] if m["name"] == "region_grow")
    assert wand["settings"] == registry.get("segment", "region_grow").settings.model_json_schema()
    assert c["limits"]["max_pixels"] == 100_000_000 and c["initial_session"] is None
    assert c["default_inpaint"] in registry.names("inpaint")


def test_the_final_method_set_gives_every_tool():
    """The issue's tools all need their methods: GrabCut, clicks, superpixels, the detectors, auto."""
    from retouch.web.config import available_tools

    tools = {t["id"]: t for t in available_tools()}
    assert tools["box"]["method"] == "grabcut"
    for tool in ("clicks", "wand", "color", "threshold", "superpixel", "detect"):
        assert tool in tools, tool
    assert {"damage", "scratches", "spots", "text"} <= set(tools["detect"]["methods"])
    assert "auto" in registry.names("inpaint")


def test_methods_routes(client):
    r = client.get("/api/methods", params={"kind": "refine"})
    assert r.status_code == 200
    assert [m["name"] for m in r.json()] == registry.names("refine")
    r = client.get("/api/methods/inpaint/telea")
    assert r.status_code == 200 and r.json()["settings"]["properties"]["radius"]["default"] == 3
    r = client.get("/api/methods/inpaint/nope")
    assert r.status_code == 404 and "unknown inpaint method 'nope'" in detail(r)
    assert client.get("/api/methods", params={"kind": "paint"}).status_code == 422


def test_openapi_documents_request_and_settings_models(client):
    r = client.get("/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    schemas = spec["components"]["schemas"]
    for model in ("SegmentRequest", "RefineRequest", "FillRequest", "BrushRequest", "ClickRequest", "ShapeRequest", "SessionState"):
        assert model in schemas
    assert "SegmentRegionGrowSettings" in schemas and "InpaintTeleaSettings" in schemas and "RefineGrowSettings" in schemas
    assert schemas["SegmentRegionGrowSettings"]["properties"]["tolerance"]["minimum"] == 0
    refs = [o["$ref"] for o in schemas["SegmentRequest"]["properties"]["settings"]["anyOf"]]
    assert "#/components/schemas/SegmentRegionGrowSettings" in refs
    assert "/api/sessions/{sid}/segment" in spec["paths"] and "/api/sessions/{sid}/fill" in spec["paths"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "openapi.json" in docs.text
    # the API page works offline: Swagger UI is vendored, nothing comes from a CDN
    assert not re.search(r"""(src|href)\s*=\s*["']https?://""", docs.text)
    for url in re.findall(r"""(?:src|href)\s*=\s*["'](/static/[^"']+)""", docs.text):
        assert client.get(url).status_code == 200, url
    assert client.get("/redoc").status_code == 404


def test_only_loopback_host_names_are_answered(new_client):
    c = new_client()
    assert c.get("/api/health", headers={"host": "localhost:8765"}).status_code == 200
    assert c.get("/api/health", headers={"host": "[::1]:8765"}).status_code == 200
    r = c.get("/api/health", headers={"host": "attacker.example:8765"})  # a DNS-rebinding page
    assert r.status_code == 400 and "not 'attacker.example:8765'" in detail(r)
    anywhere = new_client(allowed_hosts=["*"])
    assert anywhere.get("/api/health", headers={"host": "photos.lan:8765"}).status_code == 200


def test_cross_site_requests_that_change_things_are_refused(client, session):
    sid = session["id"]
    body = {"shape": "rectangle", "box": [1, 1, 2, 2]}
    r = client.post(f"/api/sessions/{sid}/shape", json=body, headers={"origin": "https://evil.example"})
    assert r.status_code == 403 and "cross-site request from https://evil.example refused" in detail(r)
    assert client.delete(f"/api/sessions/{sid}", headers={"origin": "https://evil.example"}).status_code == 403
    ok = client.post(f"/api/sessions/{sid}/shape", json=body, headers={"origin": "http://127.0.0.1:8765"})
    assert ok.status_code == 200 and ok.json()["mask_pixels"] == 4


# ----------------------------------------------------------------------------- uploads


def test_upload_opens_a_session(client, session):
    s = session
    assert (s["width"], s["height"], s["channels"], s["dtype"], s["format"]) == (512, 512, 3, "uint8", "PNG")
    assert s["filename"] == "astronaut.png" and s["download_name"] == "astronaut.retouched.png"
    assert (s["preview_width"], s["preview_height"], s["scale"]) == (512, 512, 1.0)
    assert s["mask_pixels"] == 0 and not s["can_undo"] and not s["can_redo"] and not s["busy"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{16,64}", s["id"])
    r = client.get(f"/api/sessions/{s['id']}")
    assert r.status_code == 200 and r.json()["id"] == s["id"]
    assert client.get("/api/health").json()["sessions"] == 1


def test_large_photo_gets_a_scaled_preview_and_full_size_processing(new_client, tmp_path):
    c = new_client(preview_max_side=256)
    big = encode(data.astronaut(), ".png", tmp_path)
    s = c.post("/api/sessions", files={"file": ("a.png", big)}).json()
    assert (s["preview_width"], s["preview_height"], s["scale"]) == (256, 256, 0.5)
    prev = c.get(f"/api/sessions/{s['id']}/preview")
    assert prev.headers["content-type"] == "image/jpeg"
    assert cv2.imdecode(np.frombuffer(prev.content, np.uint8), cv2.IMREAD_UNCHANGED).shape == (256, 256, 3)
    # a box in full-resolution pixels selects full-resolution pixels
    r = c.post(f"/api/sessions/{s['id']}/shape", json={"shape": "rectangle", "box": [101, 51, 33, 17]})
    assert r.json()["mask_pixels"] == 33 * 17
    overlay = c.get(f"/api/sessions/{s['id']}/overlay")
    assert cv2.imdecode(np.frombuffer(overlay.content, np.uint8), cv2.IMREAD_UNCHANGED).shape == (256, 256, 4)


@pytest.mark.parametrize(
    ("content", "status", "words"),
    [
        (b"this is not an image at all", 400, "is not an image retouch can read"),
        (b"", 400, "is empty"),
    ],
)
def test_bad_uploads_are_4xx_json(client, content, status, words):
    r = client.post("/api/sessions", files={"file": ("notes.png", content, "image/png")})
    assert r.status_code == status
    text = detail(r)
    assert words in text and "notes.png" in text
    assert "/tmp" not in text and ".upload" not in text  # the server's temporary path is not shown


def test_truncated_upload(client, photo_bytes):
    r = client.post("/api/sessions", files={"file": ("cut.png", photo_bytes[: len(photo_bytes) // 2], "image/png")})
    assert r.status_code == 400
    text = detail(r)
    assert "cut.png is truncated or corrupt" in text and "/tmp" not in text


def test_too_many_pixels(new_client, photo_bytes):
    c = new_client(max_pixels=100_000)
    r = c.post("/api/sessions", files={"file": ("big.png", photo_bytes)})
    assert r.status_code == 413
    assert "big.png is 512x512 = 0.3 megapixels, more than this server's limit of 0.1" in detail(r)
    assert c.get("/api/health").json()["sessions"] == 0


def test_decompression_bomb_is_refused_from_its_header(client):
    """A PNG that claims 30000 x 30000 pixels is refused before anything is decoded."""
    import struct
    import zlib

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(b"\x00" * 30001 * 4)) + chunk(b"IEND", b"")
    r = client.post("/api/sessions", files={"file": ("bomb.png", png)})
    assert r.status_code == 413
    assert "bomb.png is 30000x30000 = 900" in detail(r) and "megapixels" in detail(r)
    assert client.get("/api/health").json()["ok"]


def test_too_many_bytes(new_client, photo_bytes):
    c = new_client(max_upload_bytes=100_000)
    r = c.post("/api/sessions", files={"file": ("big.png", photo_bytes)})
    assert r.status_code == 413
    assert "larger than this server's limit of 0.1 MiB" in detail(r)
    # the server still works after refusing
    small = cv2.imencode(".png", np.zeros((8, 8), np.uint8))[1].tobytes()
    assert c.post("/api/sessions", files={"file": ("ok.png", small)}).status_code == 201


def test_oversized_body_is_refused_from_its_length_alone(new_client):
    c = new_client(max_upload_bytes=1024)
    r = c.post("/api/sessions", content=b"x" * 200_000, headers={"content-type": "multipart/form-data; boundary=abc"})
    assert r.status_code == 413 and "limit" in detail(r)


def test_image_larger_than_session_memory(new_client, tmp_path):
    c = new_client(max_memory_bytes=2**20)
    big = encode(np.zeros((1024, 1024, 3), np.uint8), ".png", tmp_path)  # 3 MiB of pixels, 1 MiB of mask
    r = c.post("/api/sessions", files={"file": ("a.png", big)})
    assert r.status_code == 413 and "more than this server's session memory" in detail(r)


def test_upload_without_a_file_field(client):
    r = client.post("/api/sessions", data={"x": "1"})
    assert r.status_code == 422 and "file" in detail(r)


def test_client_file_names_are_sanitised(client, photo_bytes):
    r = client.post("/api/sessions", files={"file": ("../../etc/évil name;.png", photo_bytes)})
    assert r.status_code == 201
    s = r.json()
    assert s["filename"] == "evil name_.png"
    d = client.get(f"/api/sessions/{s['id']}/download/image")
    assert d.headers["content-disposition"] == 'attachment; filename="evil name_.retouched.png"'


@pytest.mark.parametrize(
    ("make", "ext", "fmt"),
    [
        (lambda: data.astronaut().astype(np.uint16) * 257, ".png", "PNG"),
        (lambda: data.camera(), ".png", "PNG"),
        (lambda: np.dstack([data.astronaut(), np.full((512, 512), 200, np.uint8)]), ".png", "PNG"),
        (lambda: data.astronaut(), ".jpg", "JPEG"),
        (lambda: data.astronaut().astype(np.uint16) * 257, ".tif", "TIFF"),
    ],
    ids=["png16", "grey", "rgba", "jpeg", "tiff16"],
)
def test_fill_and_download_keep_format_and_depth(client, wait, tmp_path, make, ext, fmt):
    image = make()
    r = client.post("/api/sessions", files={"file": (f"photo{ext}", encode(image, ext, tmp_path))})
    assert r.status_code == 201, r.text
    s = r.json()
    sid = s["id"]
    assert s["format"] == fmt and s["dtype"] == str(image.dtype)
    assert client.post(f"/api/sessions/{sid}/shape", json={"shape": "ellipse", "box": [200, 100, 60, 40]}).status_code == 200
    used = mask_of(client, sid, tmp_path)
    job = wait(client, sid, client.post(f"/api/sessions/{sid}/fill", json={"method": "telea"}).json())
    assert job["status"] == "done", job
    d = client.get(f"/api/sessions/{sid}/download/image")
    assert d.status_code == 200
    assert d.headers["content-disposition"].endswith(f'filename="photo.retouched{ext}"')
    out = io.read(as_file(tmp_path, d.content, "out" + ext))
    original = io.read(as_file(tmp_path, encode(image, ext, tmp_path), "in" + ext))
    assert out.dtype == original.dtype and out.shape == original.shape
    changed = (out != original) if out.ndim == 2 else (out != original).any(axis=2)
    assert changed.any()
    if fmt != "JPEG":  # JPEG re-encodes every block; lossless formats change only the mask
        assert not (changed & ~used).any()
    if image.ndim == 3 and image.shape[2] == 4:
        assert client.get(f"/api/sessions/{sid}/preview").headers["content-type"] == "image/png"
        assert (out[..., 3] == 200).all()


# ----------------------------------------------------------------------------- sessions


def test_unknown_and_malformed_sessions(client):
    r = client.get("/api/sessions/" + "a" * 22)
    assert r.status_code == 404 and "unknown or has expired" in detail(r)
    assert client.post("/api/sessions/" + "a" * 22 + "/undo").status_code == 404
    assert client.get("/api/sessions/" + "a" * 22 + "/download/image").status_code == 404
    r = client.get("/api/sessions/..%2F..%2Fetc")
    assert r.status_code in (404, 422)
    assert client.get("/api/sessions/short").status_code == 422


def test_delete_session(client, session):
    sid = session["id"]
    assert client.delete(f"/api/sessions/{sid}").status_code == 204
    assert client.get(f"/api/sessions/{sid}").status_code == 404
    assert client.delete(f"/api/sessions/{sid}").status_code == 404


def test_sessions_expire_when_idle(new_client, photo_bytes):
    c = new_client(session_ttl=0.3)
    sid = c.post("/api/sessions", files={"file": ("a.png", photo_bytes)}).json()["id"]
    assert c.get(f"/api/sessions/{sid}").status_code == 200
    time.sleep(0.5)
    assert c.get(f"/api/sessions/{sid}").status_code == 404
    h = c.get("/api/health").json()
    assert h["sessions"] == 0 and h["bytes"] == 0 and h["dropped"] == 1


def test_least_recently_used_session_goes_first(new_client, photo_bytes):
    c = new_client(max_sessions=2)
    a, b = (c.post("/api/sessions", files={"file": ("a.png", photo_bytes)}).json()["id"] for _ in range(2))
    assert c.get(f"/api/sessions/{a}").status_code == 200  # a is now more recent than b
    d = c.post("/api/sessions", files={"file": ("a.png", photo_bytes)}).json()["id"]
    assert c.get(f"/api/sessions/{b}").status_code == 404
    assert c.get(f"/api/sessions/{a}").status_code == 200 and c.get(f"/api/sessions/{d}").status_code == 200


def test_memory_cap_drops_old_sessions(new_client, photo_bytes):
    per = 512 * 512 * 4  # image + mask
    c = new_client(max_memory_bytes=int(2.5 * per))
    ids = [c.post("/api/sessions", files={"file": ("a.png", photo_bytes)}).json()["id"] for _ in range(4)]
    alive = [c.get(f"/api/sessions/{i}").status_code == 200 for i in ids]
    assert alive == [False, False, True, True]
    assert c.get("/api/health").json()["bytes"] <= 2.5 * per


def test_initial_image_from_the_command_line(photo_png):
    from fastapi.testclient import TestClient

    from retouch.web import create_app

    with TestClient(create_app(image=photo_png), base_url="http://localhost:8765") as c:
        init = c.get("/api/config").json()["initial_session"]
        assert init and c.get(f"/api/sessions/{init}").json()["filename"] == "astronaut.png"


# ----------------------------------------------------------------------------- marking


def test_segment_with_points_and_modes(client, session, tmp_path):
    sid = session["id"]
    r = client.post(f"/api/sessions/{sid}/segment", json={"method": "region_grow", "points": [[450, 120]], "settings": {"tolerance": 12}})
    assert r.status_code == 200, r.text
    s = r.json()
    expected = registry.get("segment", "region_grow")(data.astronaut(), settings={"seeds": [(450, 120)], "tolerance": 12})
    assert s["mask_pixels"] == int(expected.sum()) > 0 and s["version"] == 1 and s["can_undo"]
    assert (mask_of(client, sid, tmp_path) == expected).all()
    assert s["message"].startswith("region_grow:") and s["elapsed_ms"] >= 0
    # subtract a rectangle, intersect, replace
    box = [440, 100, 30, 30]
    sub = client.post(f"/api/sessions/{sid}/shape", json={"shape": "rectangle", "box": box, "mode": "subtract"}).json()
    inner = expected[100:130, 440:470].sum()
    assert sub["mask_pixels"] == expected.sum() - inner
    inter = client.post(f"/api/sessions/{sid}/shape", json={"shape": "rectangle", "box": [0, 0, 512, 256], "mode": "intersect"}).json()
    assert inter["mask_pixels"] <= sub["mask_pixels"]
    rep = client.post(f"/api/sessions/{sid}/shape", json={"shape": "rectangle", "box": [0, 0, 10, 10], "mode": "replace"}).json()
    assert rep["mask_pixels"] == 100


def test_threshold_tool_uses_the_same_method(client, session, tmp_path):
    sid = session["id"]
    h = client.get(f"/api/sessions/{sid}/histogram").json()
    assert len(h["counts"]) == 256 and sum(h["counts"]) == h["pixels"] == 512 * 512
    assert 0 < h["otsu"] < 255 and 0 <= h["triangle"] <= 255 and h["value_scale"] == 1.0
    props = registry.get("segment", "threshold").settings.model_fields
    key = "algorithm" if "algorithm" in props else "method"  # the name of the choice of threshold
    settings = {key: "fixed", "value": round(h["otsu"]), "invert": True}
    r = client.post(f"/api/sessions/{sid}/segment", json={"method": "threshold", "settings": settings})
    assert r.status_code == 200
    assert (mask_of(client, sid, tmp_path) == threshold_fn(data.astronaut(), **settings)).all()


def test_colour_pick(client, session, tmp_path):
    from retouch.segment import color_range

    sid = session["id"]
    r = client.post(f"/api/sessions/{sid}/segment", json={"method": "color_range", "points": [[300, 350]], "settings": {"tolerance": 15, "radius": 2}})
    assert r.status_code == 200
    expected = color_range(data.astronaut(), point=(300, 350), tolerance=15, radius=2)  # the colour under that point
    assert 1000 < expected.sum() < expected.size // 2
    got = mask_of(client, sid, tmp_path)
    assert r.json()["mask_pixels"] == expected.sum() and (got == expected).all()


def test_detectors_run_without_inputs(client, session):
    from retouch.web.config import available_tools

    tool = next((t for t in available_tools() if t["id"] == "detect"), None)
    if tool is None:
        pytest.skip("no detector is installed yet")
    for name in tool["methods"]:
        r = client.post(f"/api/sessions/{session['id']}/segment", json={"method": name, "settings": {}})
        assert r.status_code == 200, (name, r.text)
        assert r.json()["message"].startswith(f"{name}:")


def test_segment_errors_are_one_line_422(client, session):
    url = f"/api/sessions/{session['id']}/segment"
    cases = [
        ({"method": "nope"}, "unknown segment method 'nope'; known: "),
        ({"method": "region_grow", "points": [[10, 10]], "settings": {"tolerance": -1}}, "segment method 'region_grow': tolerance: Input should be greater than or equal to 0 (got -1)"),
        ({"method": "region_grow", "points": [[10, 10]], "settings": {"colour": 3}}, "colour is not a setting of segment method 'region_grow'"),
        ({"method": "region_grow", "points": [[900, 10]]}, "outside the 512x512 image"),
        ({"method": "region_grow", "box": [1, 2, 3, 4]}, "segment method 'region_grow' does not take a box"),
        ({"method": "threshold", "points": [[1, 2]]}, "segment method 'threshold' does not take points"),
        ({"method": "region_grow", "points": [[1, 2]], "mode": "xor"}, "mode: Input should be 'add', 'subtract', 'intersect' or 'replace'"),
        ({"method": "region_grow", "points": [[1, 2]], "extra": 1}, "extra: Extra inputs are not permitted"),
        ({"method": "threshold", "settings": {"value": 300}}, "value"),
    ]
    for body, words in cases:
        r = client.post(url, json=body)
        assert r.status_code == 422, (body, r.text)
        assert words in detail(r), (body, detail(r))
    r = client.post(url, content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422
    # nothing changed and the server still works
    s = client.get(f"/api/sessions/{session['id']}").json()
    assert s["version"] == 0 and s["mask_pixels"] == 0
    assert client.get("/api/health").json()["ok"]


def test_clicks_tool(client, session):
    if "clicks" not in registry.names("segment"):
        pytest.skip("the click segmenter is not installed")
    sid = session["id"]
    url = f"/api/sessions/{sid}/clicks"
    r = client.post(url, json={"x": 300, "y": 200, "positive": False})
    assert r.status_code == 422 and "start an object with a positive click" in detail(r)
    first = client.post(url, json={"x": 420, "y": 120}).json()
    assert first["mask_pixels"] > 0 and first["clicks"] == [[420, 120, True]]
    second = client.post(url, json={"x": 300, "y": 400, "positive": False}).json()
    assert [c[2] for c in second["clicks"]] == [True, False]
    assert second["undo_label"] == "− click"
    back = client.post(f"/api/sessions/{sid}/undo").json()
    assert back["clicks"] == [[420, 120, True]] and back["mask_pixels"] == first["mask_pixels"]
    done = client.delete(url).json()
    assert done["clicks"] == [] and done["mask_pixels"] == first["mask_pixels"]
    r = client.post(url, json={"x": 9999, "y": 1})
    assert r.status_code == 422 and "outside" in detail(r)
    r = client.post(url, json={"x": 10, "y": 10, "settings": {"band": 0}})
    assert r.status_code == 422 and "band" in detail(r)


def test_superpixel_pick_and_outline(client, session):
    if "superpixels" not in registry.names("segment"):
        pytest.skip("superpixels are not installed")
    sid = session["id"]
    r = client.get(f"/api/sessions/{sid}/superpixels/outline", params={"settings": '{"n_segments": 200}'})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    outline = cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_UNCHANGED)
    assert outline.shape == (512, 512, 4) and 0 < (outline[..., 3] > 0).mean() < 0.5
    s = client.post(f"/api/sessions/{sid}/segment", json={"method": "superpixels", "points": [[100, 100]], "settings": {"n_segments": 200}}).json()
    direct = registry.get("segment", "superpixels")(data.astronaut(), settings={"points": [(100, 100)], "n_segments": 200})
    assert s["mask_pixels"] == int(direct.sum()) > 0
    bad = client.get(f"/api/sessions/{sid}/superpixels/outline", params={"settings": "{oops"})
    assert bad.status_code == 422 and "JSON" in detail(bad)
    bad = client.get(f"/api/sessions/{sid}/superpixels/outline", params={"settings": '{"n_segments": -5}'})
    assert bad.status_code == 422 and "n_segments" in detail(bad)


def test_brush_and_eraser(client, session, tmp_path):
    sid = session["id"]
    url = f"/api/sessions/{sid}/brush"
    s = client.post(url, json={"points": [[100, 100], [200, 100]], "radius": 5}).json()
    m = mask_of(client, sid, tmp_path)
    assert m[100, 100:201].all() and m[95:106, 150].all() and not m[110, 150] and not m[100, 210]
    assert s["undo_label"] == "brush"
    e = client.post(url, json={"points": [[150, 100]], "radius": 3, "mode": "subtract"}).json()
    assert e["mask_pixels"] < s["mask_pixels"] and e["undo_label"] == "eraser"
    for body, words in [({"points": [], "radius": 3}, "points"), ({"points": [[1, 1]], "radius": 0}, "radius"), ({"points": [[1, 1]], "radius": 1e9}, "radius")]:
        r = client.post(url, json=body)
        assert r.status_code == 422 and words in detail(r)


def test_shapes(client, session, tmp_path):
    sid = session["id"]
    url = f"/api/sessions/{sid}/shape"
    r = client.post(url, json={"shape": "rectangle", "box": [10, 20, 30, 40]}).json()
    assert r["mask_pixels"] == 1200
    client.post(f"/api/sessions/{sid}/mask/clear")
    e = client.post(url, json={"shape": "ellipse", "box": [100, 100, 100, 50]}).json()
    assert abs(e["mask_pixels"] - np.pi * 50 * 25) < 0.03 * np.pi * 50 * 25
    client.post(f"/api/sessions/{sid}/mask/clear")
    p = client.post(url, json={"shape": "polygon", "points": [[0, 0], [100, 0], [0, 100]]}).json()
    assert abs(p["mask_pixels"] - 5000) < 200
    for body, words in [({"shape": "rectangle"}, "needs a box"), ({"shape": "polygon", "points": [[1, 1], [2, 2]]}, "at least 3 points"),
                        ({"shape": "rectangle", "box": [1, 1, 0, 5]}, "positive width"), ({"shape": "star", "box": [1, 1, 2, 2]}, "shape")]:
        r = client.post(url, json=body)
        assert r.status_code == 422 and words in detail(r), body


def test_refine_route(client, session, tmp_path):
    sid = session["id"]
    client.post(f"/api/sessions/{sid}/shape", json={"shape": "rectangle", "box": [100, 100, 50, 50]})
    client.post(f"/api/sessions/{sid}/shape", json={"shape": "rectangle", "box": [120, 120, 10, 10], "mode": "subtract"})
    client.post(f"/api/sessions/{sid}/shape", json={"shape": "rectangle", "box": [300, 300, 3, 3]})
    url = f"/api/sessions/{sid}/refine"
    s = client.post(url, json={"method": "fill_holes"}).json()
    assert s["mask_pixels"] == 2500 + 9 and s["undo_label"] == "fill holes"
    s = client.post(url, json={"method": "remove_small", "settings": {"min_size": 20}}).json()
    assert s["mask_pixels"] == 2500
    s = client.post(url, json={"method": "grow", "settings": {"pixels": 2}}).json()
    assert s["mask_pixels"] > 2500
    s2 = client.post(url, json={"method": "shrink", "settings": {"pixels": 2}}).json()
    assert s2["mask_pixels"] < s["mask_pixels"]
    s3 = client.post(url, json={"method": "invert"}).json()
    assert s3["mask_pixels"] == 512 * 512 - s2["mask_pixels"]
    for body, words in [({"method": "feather", "settings": {"radius": 3}}, "give it as 'feather' in the fill request"),
                        ({"method": "grow", "settings": {"pixels": -1}}, "refine method 'grow': pixels"),
                        ({"method": "blur"}, "unknown refine method 'blur'")]:
        r = client.post(url, json=body)
        assert r.status_code == 422 and words in detail(r)


def test_mask_file_upload(client, session, tmp_path):
    sid = session["id"]
    m = np.zeros((512, 512), np.uint8)
    m[10:20, 30:50] = 255
    png = cv2.imencode(".png", m)[1].tobytes()
    s = client.post(f"/api/sessions/{sid}/mask", files={"file": ("m.png", png)}, data={"mode": "replace"}).json()
    assert s["mask_pixels"] == 200
    s = client.post(f"/api/sessions/{sid}/mask", files={"file": ("m.png", png)}, data={"mode": "subtract"}).json()
    assert s["mask_pixels"] == 0
    wrong = cv2.imencode(".png", np.zeros((5, 7), np.uint8))[1].tobytes()
    r = client.post(f"/api/sessions/{sid}/mask", files={"file": ("small.png", wrong)})
    assert r.status_code == 400 and "small.png is 7x5 but the image is 512x512" in detail(r)
    r = client.post(f"/api/sessions/{sid}/mask", files={"file": ("junk.png", b"junk")})
    assert r.status_code == 400 and "junk.png" in detail(r)


def test_clear(client, session):
    sid = session["id"]
    client.post(f"/api/sessions/{sid}/shape", json={"shape": "rectangle", "box": [1, 1, 5, 5]})
    s = client.post(f"/api/sessions/{sid}/mask/clear").json()
    assert s["mask_pixels"] == 0 and s["undo_label"] == "clear"


def test_undo_redo_over_mask_steps(client, session):
    sid = session["id"]
    assert client.post(f"/api/sessions/{sid}/undo").json()["message"] == "nothing to undo"
    counts = []
    for i in range(3):
        counts.append(client.post(f"/api/sessions/{sid}/shape", json={"shape": "rectangle", "box": [10 * i, 0, 5, 5]}).json()["mask_pixels"])
    assert counts == [25, 50, 75]
    assert client.post(f"/api/sessions/{sid}/undo").json()["mask_pixels"] == 50
    s = client.post(f"/api/sessions/{sid}/undo").json()
    assert s["mask_pixels"] == 25 and s["can_redo"] and s["redo_label"] == "rectangle (add)"
    assert client.post(f"/api/sessions/{sid}/redo").json()["mask_pixels"] == 50
    # a new step clears the redo stack
    s = client.post(f"/api/sessions/{sid}/refine", json={"method": "invert"}).json()
    assert not s["can_redo"] and client.post(f"/api/sessions/{sid}/redo").json()["message"] == "nothing to redo"


def test_history_depth_is_bounded(new_client, photo_bytes):
    c = new_client(history_depth=3)
    sid = c.post("/api/sessions", files={"file": ("a.png", photo_bytes)}).json()["id"]
    for i in range(6):
        c.post(f"/api/sessions/{sid}/shape", json={"shape": "rectangle", "box": [i, 0, 1, 1]})
    undos = 0
    while c.post(f"/api/sessions/{sid}/undo").json()["message"] != "nothing to undo":
        undos += 1
    assert undos == 3 and c.get(f"/api/sessions/{sid}").json()["mask_pixels"] == 3


# ----------------------------------------------------------------------------- previews


def test_previews_and_overlay(client, session):
    sid = session["id"]
    client.post(f"/api/sessions/{sid}/shape", json={"shape": "rectangle", "box": [100, 100, 50, 50]})
    cur = client.get(f"/api/sessions/{sid}/preview")
    assert cur.status_code == 200 and cur.headers["content-type"] == "image/jpeg"
    jpeg = cv2.imdecode(np.frombuffer(cur.content, np.uint8), cv2.IMREAD_COLOR)
    assert jpeg.shape == (512, 512, 3) and np.abs(jpeg[..., ::-1].astype(int) - data.astronaut()).mean() < 3
    assert client.get(f"/api/sessions/{sid}/preview", params={"which": "original"}).status_code == 200
    assert client.get(f"/api/sessions/{sid}/preview", params={"which": "other"}).status_code == 422
    ov = cv2.imdecode(np.frombuffer(client.get(f"/api/sessions/{sid}/overlay").content, np.uint8), cv2.IMREAD_UNCHANGED)
    assert ov.shape == (512, 512, 4)
    assert (ov[110:140, 110:140, 3] > 0).all() and (ov[:90, :90, 3] == 0).all() and ov[100, 120, 3] == 255


# ----------------------------------------------------------------------------- fill


def test_fill_undo_redo_and_downloads(client, session, wait, tmp_path):
    sid = session["id"]
    original = data.astronaut()
    client.post(f"/api/sessions/{sid}/shape", json={"shape": "rectangle", "box": [345, 0, 130, 295]})
    used = mask_of(client, sid, tmp_path)
    r = client.post(f"/api/sessions/{sid}/fill", json={"method": "telea", "settings": {"radius": 5}})
    assert r.status_code == 202
    job = wait(client, sid, r.json())
    assert job["status"] == "done" and job["method"] == "telea" and job["elapsed"] > 0
    s = client.get(f"/api/sessions/{sid}").json()
    assert s["fills"] == 1 and s["mask_pixels"] == 0 and s["image_version"] == 1 and s["undo_label"] == "fill (telea)"

    def image() -> np.ndarray:
        d = client.get(f"/api/sessions/{sid}/download/image")
        assert d.status_code == 200 and d.headers["content-type"] == "image/png"
        return io.read(as_file(tmp_path, d.content, "r.png"))

    after = image()
    expected = registry.get("inpaint", "telea")(original, used, settings={"radius": 5})
    assert (after == expected).all()
    assert (mask_of(client, sid, tmp_path, "auto") == used).all()  # the current mask is empty: the filled one
    assert (mask_of(client, sid, tmp_path, "filled") == used).all()
    assert not mask_of(client, sid, tmp_path, "current").any()
    # the preview follows, the original preview stays
    assert client.get(f"/api/sessions/{sid}/preview").content != client.get(f"/api/sessions/{sid}/preview", params={"which": "original"}).content
    u = client.post(f"/api/sessions/{sid}/undo").json()
    assert u["fills"] == 0 and u["mask_pixels"] == int(used.sum()) and u["message"] == "undid fill (telea)"
    assert (image() == original).all()
    assert not mask_of(client, sid, tmp_path, "filled").any()
    rd = client.post(f"/api/sessions/{sid}/redo").json()
    assert rd["fills"] == 1 and rd["mask_pixels"] == 0
    assert (image() == expected).all()


def test_fill_with_feather_changes_only_the_mask(client, session, wait, tmp_path):
    sid = session["id"]
    client.post(f"/api/sessions/{sid}/shape", json={"shape": "ellipse", "box": [100, 100, 80, 60]})
    used = mask_of(client, sid, tmp_path)
    job = wait(client, sid, client.post(f"/api/sessions/{sid}/fill", json={"method": "navier_stokes", "feather": 4}).json())
    assert job["status"] == "done"
    out = io.read(as_file(tmp_path, client.get(f"/api/sessions/{sid}/download/image").content, "f.png"))
    changed = (out != data.astronaut()).any(axis=2)
    assert changed.any() and not (changed & ~used).any()


def test_default_fill_method(client, session, wait):
    from retouch.pipeline import DEFAULT_INPAINT

    sid = session["id"]
    client.post(f"/api/sessions/{sid}/shape", json={"shape": "rectangle", "box": [20, 20, 12, 12]})
    job = wait(client, sid, client.post(f"/api/sessions/{sid}/fill", json={}).json())
    assert job["status"] == "done" and job["method"] == DEFAULT_INPAINT


def test_fill_errors(client, session):
    sid = session["id"]
    url = f"/api/sessions/{sid}/fill"
    r = client.post(url, json={"method": "telea"})
    assert r.status_code == 422 and "the mask is empty" in detail(r)
    client.post(f"/api/sessions/{sid}/shape", json={"shape": "rectangle", "box": [0, 0, 512, 512]})
    r = client.post(url, json={"method": "telea"})
    assert r.status_code == 422 and "covers the whole image" in detail(r)
    for body, words in [({"method": "smudge"}, "unknown inpaint method 'smudge'"), ({"method": "telea", "settings": {"radius": -2}}, "inpaint method 'telea': radius"),
                        ({"method": "telea", "feather": -1}, "feather"), ({"method": "telea", "settings": {"size": 1}}, "size is not a setting")]:
        r = client.post(url, json=body)
        assert r.status_code == 422 and words in detail(r), body
    r = client.get(f"/api/sessions/{sid}/jobs/0123456789abcdef")
    assert r.status_code == 404 and "no fill job" in detail(r)
    assert client.get(f"/api/sessions/{sid}/jobs/nothex").status_code == 422


def test_a_running_fill_blocks_changes_with_409(client, session):
    from retouch.web.store import Job

    sid = session["id"]
    store = client.app.state.service.store
    s = store.get(sid)
    s.job = Job(id="0" * 16, method="slow", status="running")
    try:
        for method, path, body in [("post", "/shape", {"shape": "rectangle", "box": [1, 1, 2, 2]}), ("post", "/undo", None), ("post", "/fill", {"method": "telea"}),
                                   ("get", "/download/image", None)]:
            r = getattr(client, method)(f"/api/sessions/{sid}{path}", **({"json": body} if body else {}))
            assert r.status_code == 409 and "a fill is running" in detail(r), path
        assert client.get(f"/api/sessions/{sid}").json()["busy"] is True
    finally:
        s.job = None


def test_a_failing_method_is_an_error_and_the_server_goes_on(client, session, wait, monkeypatch):
    from retouch.web import imaging

    sid = session["id"]

    def broken(*a, **k):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(imaging, "stroke_mask", broken)
    r = client.post(f"/api/sessions/{sid}/brush", json={"points": [[5, 5]], "radius": 2})
    assert r.status_code == 500 and "internal error (ZeroDivisionError: boom); the server keeps running" == detail(r)
    monkeypatch.undo()
    # a fill whose method raises ends as a job error, not a dead worker
    client.post(f"/api/sessions/{sid}/shape", json={"shape": "rectangle", "box": [10, 10, 5, 5]})
    telea = registry.get("inpaint", "telea")
    original = telea.func
    object.__setattr__(telea, "func", broken)
    try:
        job = wait(client, sid, client.post(f"/api/sessions/{sid}/fill", json={"method": "telea"}).json())
    finally:
        object.__setattr__(telea, "func", original)
    assert job["status"] == "error" and "internal error in telea (ZeroDivisionError: boom)" in job["error"]
    job = wait(client, sid, client.post(f"/api/sessions/{sid}/fill", json={"method": "telea"}).json())
    assert job["status"] == "done"
    assert client.get("/api/health").json()["ok"]


def test_coordinates_far_outside_the_image_are_422_outside_the_image(client, session, tmp_path):
    """Issue 21: 2e8 in a brush stroke was a 500 from OpenCV; a polygon to 1e10 a wrong mask; a box outside, nothing."""
    sid = session["id"]
    brush, shape = f"/api/sessions/{sid}/brush", f"/api/sessions/{sid}/shape"
    cases = [
        (brush, {"points": [[100, 100], [2e8, 100]], "radius": 5}),
        (brush, {"points": [[-60, -60], [-40, -80]], "radius": 5}),  # the whole stroke misses the image
        (shape, {"shape": "polygon", "points": [[0, 0], [1e10, 0], [0, 100]]}),
        (shape, {"shape": "polygon", "points": [[600, 600], [700, 600], [600, 700]]}),
        (shape, {"shape": "rectangle", "box": [600, 10, 50, 50]}),
        (shape, {"shape": "rectangle", "box": [-100, -100, 50, 50]}),
        (shape, {"shape": "ellipse", "box": [10, 600, 50, 50]}),
        (shape, {"shape": "ellipse", "box": [0, 0, 1e10, 1e10]}),
    ]
    for url, body in cases:
        r = client.post(url, json=body)
        assert r.status_code == 422, (body, r.status_code, r.text)
        assert "outside the image (512x512)" in detail(r), (body, detail(r))
    # nothing changed, and the connection still answers
    s = client.get(f"/api/sessions/{sid}").json()
    assert s["version"] == 0 and s["mask_pixels"] == 0
    assert client.get("/api/health").json()["ok"]


def test_strokes_and_shapes_past_the_edge_select_what_is_inside(client, session, tmp_path):
    sid = session["id"]
    client.post(f"/api/sessions/{sid}/brush", json={"points": [[480, 100], [700, 100]], "radius": 3})
    m = mask_of(client, sid, tmp_path)
    assert m[100, 480:].all() and m[97:104, 505].all() and m.sum() == m[97:104, 477:].sum()
    client.post(f"/api/sessions/{sid}/mask/clear")
    s = client.post(f"/api/sessions/{sid}/shape", json={"shape": "polygon", "points": [[-256, 0], [768, 0], [-256, 1024]]}).json()
    m = mask_of(client, sid, tmp_path)
    yy, xx = np.mgrid[0:512, 0:512]
    expected = xx + yy <= 768  # the part of the triangle inside the image
    assert abs(int(m.sum()) - int(expected.sum())) < 600 and (m == expected).mean() > 0.995 and s["mask_pixels"] == m.sum()
    client.post(f"/api/sessions/{sid}/mask/clear")
    r = client.post(f"/api/sessions/{sid}/shape", json={"shape": "rectangle", "box": [500, 500, 1e10, 1e10]}).json()
    assert r["mask_pixels"] == 12 * 12


def test_out_of_memory_is_one_line_507(client, session, monkeypatch):
    from retouch.web import imaging

    def fails(*args, **kwargs):  # what OpenCV raises when an allocation fails under a memory limit
        raise cv2.error("OpenCV(5.0.0) alloc.cpp:73: error: (-4:Insufficient memory) Failed to allocate 3145728000 bytes in function 'OutOfMemoryError'\n")

    monkeypatch.setattr(imaging, "stroke_mask", fails)
    r = client.post(f"/api/sessions/{session['id']}/brush", json={"points": [[10, 10]], "radius": 3})
    assert r.status_code == 507 and detail(r).startswith("out of memory: ") and "\n" not in detail(r)
    assert "Insufficient" not in detail(r)
    assert client.get("/api/health").json()["ok"]
