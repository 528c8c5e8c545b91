"""The server's memory stays bounded: 200 uploads of a 4-megapixel photo in a row.

Each upload opens a session that holds the decoded image (12 MiB) and its
mask (4 MiB); nobody closes them. The session store keeps at most
``max_memory_bytes`` of them (here 128 MiB, about 8 sessions) and drops the
least recently used, so the process's resident memory must level off.

Stated bound: after 200 uploads the resident set is at most
``max_memory_bytes + 160 MiB`` (288 MiB) above where it was before the first
upload, and uploads 51 to 200 add at most 64 MiB to what the first 50 left.
Measured on the 2-core development machine: 148 MiB of growth, of which
4 MiB after the 50th upload; 8 sessions held (122 MiB estimated), 193 dropped.
"""

from __future__ import annotations

import gc

import cv2
import numpy as np
import psutil
from skimage import data

MiB = 2**20
CAP = 128 * MiB
UPLOADS = 200


def four_megapixel_jpeg() -> bytes:
    """A 2304x1728 (4.0 MP) photo-like JPEG: the astronaut scaled up, with some noise."""
    big = cv2.resize(data.astronaut(), (2304, 1728), interpolation=cv2.INTER_CUBIC)
    noise = np.random.default_rng(0).integers(-6, 7, big.shape, dtype=np.int16)
    big = np.clip(big.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    return cv2.imencode(".jpg", big[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def test_200_uploads_of_a_4_megapixel_image_keep_memory_bounded(new_client):
    c = new_client(max_memory_bytes=CAP, max_sessions=1000)
    jpeg = four_megapixel_jpeg()
    proc = psutil.Process()
    # one upload first, so that code paths, caches and allocator pools exist before the baseline
    first = c.post("/api/sessions", files={"file": ("warm.jpg", jpeg, "image/jpeg")})
    assert first.status_code == 201, first.text
    c.delete(f"/api/sessions/{first.json()['id']}")
    gc.collect()
    base = proc.memory_info().rss
    rss = []
    ids = []
    for i in range(UPLOADS):
        r = c.post("/api/sessions", files={"file": (f"photo{i}.jpg", jpeg, "image/jpeg")})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
        if i % 10 == 9:
            rss.append(proc.memory_info().rss)
    health = c.get("/api/health").json()
    growth = max(rss) - base
    plateau = max(rss[5:]) - rss[4]  # after upload 50 against after upload 50..200
    print(
        f"\nRSS before: {base / MiB:.0f} MiB; growth after {UPLOADS} uploads: max {growth / MiB:.0f} MiB "
        f"(final {(rss[-1] - base) / MiB:.0f}); uploads 50..200 added {plateau / MiB:.0f} MiB; "
        f"sessions held {health['sessions']}, {health['bytes'] / MiB:.0f} MiB estimated, {health['dropped']} dropped"
    )
    assert health["bytes"] <= CAP and health["sessions"] <= CAP // (16 * MiB)
    assert health["dropped"] >= UPLOADS - health["sessions"]
    assert growth <= CAP + 160 * MiB
    assert plateau <= 64 * MiB
    # the newest sessions still work, the oldest are gone
    assert c.get(f"/api/sessions/{ids[-1]}").status_code == 200
    assert c.get(f"/api/sessions/{ids[0]}").status_code == 404
