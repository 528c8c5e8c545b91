"""Previews, overlays, histograms, brush strokes and files of the web app."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from retouch import io
from retouch.validate import ImageFileError
from retouch.segment import threshold
from retouch.web import imaging


def decode(png: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)


@pytest.mark.parametrize(
    ("name", "safe"),
    [("a.png", "a.png"), ("../x/../../y.jpg", "y.jpg"), ("C:\\dir\\file.tif", "file.tif"), ("...", "image"), (None, "image"),
     ("ok; rm -rf *.png", "ok_ rm -rf _.png"), ("x" * 300 + ".png", "x" * 90 + ".png")],
)
def test_sanitize_filename(name, safe):
    assert imaging.sanitize_filename(name) == safe


def test_preview_sizes_and_types():
    assert imaging.preview_scale((1000, 4000), 2000) == 0.5
    rgb = data.astronaut()
    jpg, media = imaging.preview_bytes(rgb, 0.25)
    assert media == "image/jpeg" and decode(jpg).shape == (128, 128, 3)
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 9, np.uint8)])
    png, media = imaging.preview_bytes(rgba, 1.0)
    assert media == "image/png" and decode(png)[..., 3].max() == 9
    grey16 = data.camera().astype(np.uint16) * 257
    jpg, _ = imaging.preview_bytes(grey16, 1.0)
    assert decode(jpg).ndim == 2 and np.abs(decode(jpg).astype(int) - data.camera()).mean() < 2


def test_overlay_is_transparent_outside_and_outlined():
    m = np.zeros((64, 64), bool)
    m[16:48, 16:48] = True
    ov = decode(imaging.overlay_png(m, 1.0))
    assert ov.shape == (64, 64, 4)
    assert (ov[:14, :, 3] == 0).all() and ov[30, 30, 3] == round(0.45 * 255) and ov[16, 30, 3] == 255
    half = decode(imaging.overlay_png(m, 0.5))
    assert half.shape == (32, 32, 4) and half[15, 15, 3] > 0


def test_outline_marks_label_borders():
    labels = np.zeros((10, 10), np.int32)
    labels[:, 5:] = 1
    out = decode(imaging.outline_png(labels, 1.0))
    assert (out[:, 5, 3] > 0).all() and (out[:, :5, 3] == 0).all() and (out[:, 6:, 3] == 0).all()


def test_histogram_matches_the_threshold_luminance():
    h = imaging.histogram(data.astronaut())
    assert len(h["counts"]) == 256 and sum(h["counts"]) == 512 * 512
    # pixels above the Otsu value in the histogram ~ what threshold(otsu) selects
    above = sum(h["counts"][int(np.floor(h["otsu"])) + 1 :])
    assert abs(above - threshold(data.astronaut()).sum()) < 0.02 * 512 * 512
    from skimage.filters import threshold_triangle

    from retouch.convert import to_gray

    lum = np.clip(to_gray(data.astronaut()) * 255 + 0.5, 0, 255).astype(np.uint8)
    assert abs(h["triangle"] - threshold_triangle(lum, nbins=256)) <= 1.5  # the same method, on the histogram
    camera = imaging.histogram(data.camera())
    assert abs(camera["triangle"] - threshold_triangle(data.camera(), nbins=256)) <= 1.5
    flat = imaging.histogram(np.full((4, 4), 7, np.uint8))
    assert flat["otsu"] == flat["triangle"] == 7


def test_stroke_mask():
    m = imaging.stroke_mask((50, 50), [(10, 10)], 4)
    assert m[10, 6:15].all() and not m[10, 16] and m.sum() == pytest.approx(np.pi * 16, rel=0.25)
    line = imaging.stroke_mask((50, 50), [(5, 25), (45, 25)], 2)
    assert line[23:28, 5:46].all() and not line[20].any()
    assert not imaging.stroke_mask((5, 5), [(100, 100)], 2).any()  # off the image: nothing


def test_decode_upload_names_the_upload_not_the_path(tmp_path):
    p = tmp_path / "x.upload"
    p.write_bytes(b"GIF89a broken")
    with pytest.raises(ImageFileError, match=r"^photo\.gif is ") as e:
        imaging.decode_upload(p, "photo.gif", max_pixels=10**6)
    assert str(tmp_path) not in str(e.value)
    io.write(tmp_path / "big.png", np.zeros((100, 200), np.uint8))
    with pytest.raises(imaging.UploadTooLarge, match=r"big\.png is 200x100 = 0\.0 megapixels, more than this server's limit"):
        imaging.decode_upload(tmp_path / "big.png", "big.png", max_pixels=1000)


@pytest.mark.parametrize(("fmt", "ext"), [("PNG", ".png"), ("JPEG", ".jpg"), ("TIFF", ".tif"), ("WEBP", ".webp"), ("BMP", ".bmp"), ("GIF", ".png"), (None, ".png")])
def test_encode_image_in_the_upload_format(fmt, ext):
    image = data.astronaut()[:32, :48]
    content, got_ext, media = imaging.encode_image(image, io.ImageInfo(format=fmt))
    assert got_ext == ext and media.startswith("image/")
    assert decode(content).shape == (32, 48, 3)


def test_encode_keeps_16_bit_and_exif(tmp_path):
    image = (data.astronaut()[:20, :30].astype(np.uint16) * 257)
    content, ext, _ = imaging.encode_image(image, io.ImageInfo(format="PNG", icc_profile=b"fake-icc"))
    p = tmp_path / ("o" + ext)
    p.write_bytes(content)
    back, info = io.read_with_info(p)
    assert back.dtype == np.uint16 and (back == image).all() and info.icc_profile == b"fake-icc"
    mask = np.zeros((5, 6), bool)
    mask[1, 2] = True
    assert (decode(imaging.encode_mask(mask)) == mask * 255).all()


def test_stroke_far_past_the_edge_draws_what_is_inside():
    """A stroke to a point 10^5 px off the image (the pointer off a zoomed-out picture) is cut, not overflowed."""
    far = imaging.stroke_mask((50, 80), [(10, 25), (100_000, 25)], 3)
    near = imaging.stroke_mask((50, 80), [(10, 25), (90, 25)], 3)
    assert np.array_equal(far, near) and far[22:29, 10:].all()
    assert not imaging.stroke_mask((50, 80), [(-500, -500), (-400, -600)], 3).any()
    diagonal = imaging.stroke_mask((50, 80), [(-1000, -1000), (1000, 1000)], 2)
    yy, xx = np.mgrid[0:50, 0:80]
    assert diagonal[np.abs(yy - xx) <= 1].all() and not diagonal[np.abs(yy - xx) >= 4].any()
