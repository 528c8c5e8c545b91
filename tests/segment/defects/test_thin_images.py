"""Thin images (a strip one pixel high, or a few): memory in proportion to the image (issue 21, item 1).

The scratch detector rotates the image into a canvas that holds it at every
angle, about (w + h)^2 / 2 pixels: for a 1 x 60000 strip that is 1.8 billion
pixels for 60,000 of image. It now works tile by tile on such a strip, on the
same sampling grid as the whole image, so the answer is the same.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import cv2
import numpy as np
import pytest
from skimage import data

from retouch.segment import scratches
from retouch.segment.defects import lines


def _strip(h: int, w: int, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random((h, w, 3)) * 60 + 100).astype(np.uint8)


@pytest.mark.parametrize("shape", [(8, 4000), (4000, 8), (30, 2500)])
def test_rotation_canvas_in_proportion_to_the_image(monkeypatch, shape):
    h, w = shape
    image = np.random.default_rng(1).random((h, w)).astype(np.float32)
    largest = []
    real = cv2.warpAffine

    def recording(src, m, dsize, *args, **kwargs):
        area = dsize[0] * dsize[1]
        largest.append(area)
        if area > 50 * h * w:  # stop before the allocation the old canvas needed
            raise AssertionError(f"a {dsize[0]}x{dsize[1]} canvas for a {w}x{h} image")
        return real(src, m, dsize, *args, **kwargs)

    monkeypatch.setattr(cv2, "warpAffine", recording)
    out = lines.line_response(image, max_width=8)
    assert all(o.shape == (h, w) for o in out)
    # tiles of 256 with their halo: each canvas is about 2 x (256 + 2 x 46)^2, whatever the strip's length
    assert max(largest) < 400_000


def test_tiles_answer_as_the_whole_image_does():
    f = data.camera()[100:220].astype(np.float32) / 255
    f = np.ascontiguousarray(np.tile(f, (1, 3)))  # 120 x 1536: six tiles across
    cv2.line(f, (100, 10), (1400, 110), 0.95, 1)
    whole = lines._whole_response(f, max_width=8, length=15, n_angles=16, width_ratio=0.7)
    tiled = lines._tiled_response(f, max_width=8, length=15, n_angles=16, width_ratio=0.7)
    for i in (0, 3):  # light and dark responses: the same up to rounding in the interpolation
        assert np.abs(whole[i] - tiled[i]).max() < 1e-3
    for i in (1, 2, 4, 5):  # angle and width: differ only where two answers tie (measured: under 0.02 %)
        assert (whole[i] != tiled[i]).mean() < 0.002


def test_scratch_found_on_a_strip():
    rng = np.random.default_rng(2)
    strip = (rng.normal(0.45, 0.02, (40, 3000))).astype(np.float32).clip(0, 1)
    truth = np.zeros(strip.shape, np.uint8)
    cv2.line(truth, (200, 5), (2800, 34), 1, 1)
    strip[truth > 0] = 0.9
    assert lines.line_response(strip, max_width=8)[0].shape == strip.shape  # tiled: the canvas would be 8x the strip
    found = scratches(strip)
    assert found[truth > 0].mean() > 0.8
    assert found[np.abs(np.arange(3000) - 1500)[None, :].repeat(40, 0) > 1600].sum() == 0  # nothing past the ends


_PEAK = """
import resource, sys
import numpy as np
from retouch import inpaint, segment
from retouch.validate import RetouchError

for h, w in ((1, {n}), ({n}, 1), (7, 3000)):
    image = (np.random.default_rng(0).random((h, w, 3)) * 60 + 100).astype(np.uint8)
    found = segment.scratches(image) | segment.spots(image) | segment.text(image)
    hole = np.zeros((h, w), bool)
    hole.flat[h * w // 2 : h * w // 2 + 9] = True
    filled = inpaint.auto(image, hole | found)
    assert filled.shape == image.shape
    try:
        segment.clicks(image, clicks=[(w // 2, h // 2, True)])
    except RetouchError as e:
        assert h == 1 or w == 1, e  # a line of pixels is refused in one line
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def test_thin_images_through_every_detector_stay_small():
    """1 x N, N x 1 and a 7 x 3000 strip through the detectors, auto fill and clicks, in a process held to 3 GiB."""

    def limit():  # the old canvas for 1 x 30000 was 450 million pixels: fail, do not take the machine
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))

    r = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_PEAK.format(n=30_000))],
        capture_output=True, text=True, timeout=600, preexec_fn=limit,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    peak_mb = int(r.stdout.split()[-1])
    assert peak_mb < 1024, peak_mb  # measured: about 250 MB, most of it the libraries


def test_clicks_on_a_thin_image_is_refused_or_done_not_a_crash():
    """OpenCV's SLIC used to crash the process (SIGSEGV) on strips under 5 px."""
    code = textwrap.dedent("""
        import numpy as np
        from retouch import segment
        from retouch.validate import RetouchError
        for h in (1, 2, 4):
            for size in (4, 64):
                image = (np.random.default_rng(0).random((h, 500, 3)) * 60 + 100).astype(np.uint8)
                for img, click in ((image, (250, 0, True)), (np.ascontiguousarray(image.transpose(1, 0, 2)), (0, 250, True))):
                    try:
                        mask = segment.clicks(img, clicks=[click], superpixel_size=size)
                        assert h > 1 and mask.shape == img.shape[:2]
                    except RetouchError as e:
                        assert h == 1 and "at least 2 pixels high and wide" in str(e)
        print("ok")
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip() == "ok", (r.returncode, r.stderr[-2000:])


def test_a_large_photo_is_done_in_tiles_with_the_same_answer(monkeypatch):
    """Past _CANVAS_MAX canvas pixels (a photo of about 2000 x 2000) any shape goes in tiles: 3x less memory
    measured on a 3000 x 2000 photo. Here the limit is lowered so that a small photo takes that path."""
    f = data.camera()[:300, :400].astype(np.float32) / 255
    whole = lines._whole_response(f, max_width=4, length=15, n_angles=16, width_ratio=0.7)
    monkeypatch.setattr(lines, "_CANVAS_MAX", 100_000)
    canvases = []
    real = cv2.warpAffine
    monkeypatch.setattr(cv2, "warpAffine", lambda src, m, dsize, *a, **k: canvases.append(dsize[0] * dsize[1]) or real(src, m, dsize, *a, **k))
    tiled = lines.line_response(f, max_width=4)
    assert len(canvases) == 4 * 16 * 5  # four tiles, each turned 16 ways (and its 4 answers turned back)
    assert np.abs(whole[0] - tiled[0]).max() < 1e-3 and np.abs(whole[3] - tiled[3]).max() < 1e-3
