"""retouch.io: reading and writing images and masks."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps

from retouch import io
from retouch.validate import ImageFileError, RetouchError


def _srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _files(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


# ----------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("ext", [".png", ".tif", ".bmp", ".webp"])
def test_lossless_rgb_round_trip(tmp_path, chelsea, ext):
    kwargs = {"quality": 100} if ext == ".webp" else {}
    p = io.write(tmp_path / f"cat{ext}", chelsea, **kwargs)
    back = io.read(p)
    assert back.shape == chelsea.shape and back.dtype == np.uint8
    assert np.array_equal(back, chelsea)


def test_jpeg_round_trip_is_close(tmp_path, chelsea):
    back = io.read(io.write(tmp_path / "cat.jpg", chelsea))
    assert back.shape == chelsea.shape and back.dtype == np.uint8
    assert np.abs(back.astype(int) - chelsea).mean() < 2.5  # quality 95, no chroma subsampling


def test_grey_stays_grey(tmp_path, camera):
    for ext in (".png", ".jpg", ".tif"):
        back = io.read(io.write(tmp_path / f"g{ext}", camera))
        assert back.shape == camera.shape and back.ndim == 2


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_16bit_colour_and_grey_kept(tmp_path, ext):
    rng = np.random.default_rng(1)
    rgb16 = rng.integers(0, 65536, (23, 31, 3), dtype=np.uint16)
    grey16 = rng.integers(0, 65536, (23, 31), dtype=np.uint16)
    rgba16 = rng.integers(0, 65536, (23, 31, 4), dtype=np.uint16)
    for name, arr in (("rgb", rgb16), ("grey", grey16), ("rgba", rgba16)):
        back = io.read(io.write(tmp_path / f"{name}{ext}", arr))
        assert back.dtype == np.uint16 and back.shape == arr.shape, name
        assert np.array_equal(back, arr), name


def test_float_tiff_kept_and_float_png_becomes_16bit(tmp_path):
    f = np.random.default_rng(2).random((10, 12, 3)).astype(np.float32)
    assert np.array_equal(io.read(io.write(tmp_path / "f.tif", f)), f)
    png = io.read(io.write(tmp_path / "f.png", f))
    assert png.dtype == np.uint16
    assert np.abs(png / 65535.0 - f).max() < 1e-4


@pytest.mark.parametrize("ext", [".png", ".tif", ".webp"])
def test_alpha_kept(tmp_path, ext):
    rgba = np.random.default_rng(3).integers(0, 256, (16, 20, 4), dtype=np.uint8)
    kwargs = {"quality": 100} if ext == ".webp" else {}
    back = io.read(io.write(tmp_path / f"a{ext}", rgba, **kwargs))
    assert back.shape == (16, 20, 4)
    assert np.array_equal(back[..., 3], rgba[..., 3])
    assert np.array_equal(back, rgba)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_applied_on_read(tmp_path, orientation):
    arr = np.random.default_rng(orientation).integers(0, 256, (7, 11, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[274] = orientation
    path = tmp_path / "o.png"  # lossless, so pixels can be compared exactly
    Image.fromarray(arr).save(path, exif=exif.tobytes())
    expected = np.asarray(ImageOps.exif_transpose(Image.open(path)))
    got, info = io.read_with_info(path)
    assert np.array_equal(got, expected)
    assert info.orientation == orientation
    # written back upright, with the orientation tag reset so viewers do not turn it again
    out = io.write(tmp_path / "upright.jpg", got, info=info)
    assert Image.open(out).getexif().get(274) == 1


def test_exif_and_icc_kept(tmp_path, chelsea):
    icc = _srgb_icc()
    exif = Image.Exif()
    exif[271] = "RetouchCam"  # Make
    exif[274] = 6
    src = tmp_path / "in.jpg"
    Image.fromarray(chelsea).save(src, exif=exif.tobytes(), icc_profile=icc, quality=95)
    image, info = io.read_with_info(src)
    assert image.shape == (451, 300, 3)  # rotated upright
    for ext in (".jpg", ".png", ".tif", ".webp"):
        out = io.write(tmp_path / f"out{ext}", image, info=info)
        im = Image.open(out)
        assert im.info.get("icc_profile") == icc, ext
        assert im.getexif().get(271) == "RetouchCam", ext
        assert im.getexif().get(274) == 1, ext


def test_icc_kept_in_16bit_png_and_tiff(tmp_path):
    icc = _srgb_icc()
    arr = np.random.default_rng(4).integers(0, 65536, (9, 9, 3), dtype=np.uint16)
    info = io.ImageInfo(icc_profile=icc)
    for ext in (".png", ".tif"):
        back, binfo = io.read_with_info(io.write(tmp_path / f"p{ext}", arr, info=info))
        assert np.array_equal(back, arr)
        assert binfo.icc_profile == icc, ext


def test_palette_and_cmyk_become_rgb(tmp_path, chelsea):
    p = tmp_path / "p.png"
    pal = Image.fromarray(chelsea).quantize(64)
    pal.save(p)
    back = io.read(p)
    assert back.shape == chelsea.shape and back.dtype == np.uint8
    assert np.array_equal(back, np.asarray(pal.convert("RGB")))  # each index looked up in the palette
    assert np.abs(back.astype(int) - chelsea).mean() < 6  # and it is the cat, not the indices
    c = tmp_path / "c.jpg"
    Image.fromarray(chelsea).convert("CMYK").save(c, quality=95)
    back = io.read(c)
    assert back.shape == chelsea.shape and back.dtype == np.uint8
    diff = np.abs(back.astype(int) - chelsea)
    assert diff.mean() < 3 and np.percentile(diff, 99) < 20  # the colours, not inverted ink amounts


# ----------------------------------------------------------------------------- compressed, multi-page TIFF


def _tiff(path, image, **kwargs):
    import tifffile

    photometric = "rgb" if image.ndim == 3 else "minisblack"
    tifffile.imwrite(path, image, photometric=photometric, **kwargs)
    return path


def _tiff_compression(path) -> str:
    import tifffile

    with tifffile.TiffFile(path) as tif:
        return tif.pages.first.compression.name


@pytest.mark.parametrize("compression", ["lzw", "zlib", "packbits", None])
@pytest.mark.parametrize("kind", ["rgb16", "grey16", "rgb8"])
def test_compressed_tiff_read_and_written_back_alike(tmp_path, compression, kind):
    """16-bit LZW is how archives store scans: read it, and write it back with the same compression."""
    rng = np.random.default_rng(5)
    image = {
        "rgb16": rng.integers(0, 65536, (37, 53, 3), dtype=np.uint16),
        "grey16": rng.integers(0, 65536, (37, 53), dtype=np.uint16),
        "rgb8": rng.integers(0, 256, (37, 53, 3), dtype=np.uint8),
    }[kind]
    icc = _srgb_icc()
    src = _tiff(tmp_path / "scan.tif", image, compression=compression, iccprofile=icc, predictor=compression == "lzw")
    back, info = io.read_with_info(src)
    assert back.dtype == image.dtype and np.array_equal(back, image)
    assert info.icc_profile == icc
    out = io.write(tmp_path / "out.tif", back, info=info)
    assert _tiff_compression(out) == _tiff_compression(src)
    again, again_info = io.read_with_info(out)
    assert again.dtype == image.dtype and np.array_equal(again, image)
    assert again_info.icc_profile == icc


def test_jpeg_in_tiff_read_and_written_back_as_jpeg(tmp_path, chelsea):
    src = _tiff(tmp_path / "scan.tif", chelsea, compression="jpeg")
    back, info = io.read_with_info(src)
    assert back.shape == chelsea.shape and np.abs(back.astype(int) - chelsea).mean() < 3
    out = io.write(tmp_path / "out.tif", back, info=info)
    assert _tiff_compression(out) == "JPEG"
    assert np.abs(io.read(out).astype(int) - chelsea).mean() < 3


def test_new_tiff_is_deflate(tmp_path, chelsea):
    assert _tiff_compression(io.write(tmp_path / "new.tif", chelsea)) == "ADOBE_DEFLATE"


def test_unsupported_tiff_compression_is_not_called_corrupt(tmp_path):
    import struct

    import tifffile

    src = _tiff(tmp_path / "odd.tif", np.zeros((8, 8), np.uint8))
    with tifffile.TiffFile(src) as tif:
        where = tif.pages.first.tags[259].valueoffset
    data = bytearray(src.read_bytes())
    struct.pack_into("<H", data, where, 60001)  # a compression no codec knows
    src.write_bytes(bytes(data))
    with pytest.raises(ImageFileError, match=r"odd\.tif uses TIFF compression code 60001, which retouch cannot decode \(unsupported") as e:
        io.read(src)
    assert "corrupt" not in str(e.value)


def test_truncated_lzw_tiff_is_corrupt(tmp_path):
    rng = np.random.default_rng(1)
    good = _tiff(tmp_path / "good.tif", rng.integers(0, 65536, (64, 64, 3), dtype=np.uint16), compression="lzw")
    data = bytearray(good.read_bytes())
    data[200:-400] = bytes(len(data) - 600)  # header and tags kept, the strips wiped
    bad = tmp_path / "bad.tif"
    bad.write_bytes(bytes(data))
    with pytest.raises(ImageFileError, match=r"bad\.tif is truncated or corrupt"):
        io.read(bad)


def test_multi_page_tiff_refused_in_one_line(tmp_path):
    pages = np.random.default_rng(2).integers(0, 256, (3, 20, 30, 3), dtype=np.uint8)
    import tifffile

    src = tmp_path / "pages.tif"
    with tifffile.TiffWriter(src) as tif:
        for page in pages:
            tif.write(page, photometric="rgb")
    with pytest.raises(ImageFileError, match=r"^\S*pages\.tif has 3 pages; retouch works on one picture and would drop the others") as e:
        io.read(src)
    assert "\n" not in str(e.value)


def test_tiff_with_a_reduced_resolution_preview_is_one_picture(tmp_path):
    import tifffile

    image = np.random.default_rng(3).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    src = tmp_path / "with_preview.tif"
    with tifffile.TiffWriter(src) as tif:
        tif.write(image, photometric="rgb")
        tif.write(image[::4, ::4], photometric="rgb", subfiletype=1)  # a thumbnail, as scanners add
    assert np.array_equal(io.read(src), image)


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"])
def test_animation_refused_in_one_line(tmp_path, fmt):
    frames = [Image.new("RGB", (16, 12), c) for c in ("red", "green", "blue", "white")]
    src = tmp_path / f"anim.{fmt.lower()}"
    frames[0].save(src, format=fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    with pytest.raises(ImageFileError, match=rf"anim\.{fmt.lower()} has 4 frames; retouch works on one picture"):
        io.read(src)


def test_one_frame_gif_is_read(tmp_path, chelsea):
    src = tmp_path / "still.gif"
    Image.fromarray(chelsea).save(src)
    assert io.read(src).shape == chelsea.shape


@pytest.mark.parametrize("limit", [0, -1])
def test_pixel_limit_must_be_positive(tmp_path, chelsea, limit):
    p = io.write(tmp_path / "c.png", chelsea)
    with pytest.raises(RetouchError, match=rf"must be a positive number of pixels, got {limit}"):
        io.read(p, max_pixels=limit)


# ----------------------------------------------------------------------------- writing safely


def test_write_refuses_existing_file_and_leaves_it(tmp_path, chelsea):
    p = io.write(tmp_path / "x.png", chelsea)
    before = p.read_bytes()
    with pytest.raises(ImageFileError, match=r"x\.png already exists; choose another name or pass --overwrite"):
        io.write(p, np.zeros_like(chelsea))
    assert p.read_bytes() == before
    io.write(p, np.zeros_like(chelsea), overwrite=True)
    assert io.read(p).max() == 0


def test_write_is_atomic_on_failure(tmp_path, chelsea, monkeypatch):
    def broken(image, fmt, fileobj, path, info, quality):
        fileobj.write(b"half an image")
        raise OSError("disk full")

    monkeypatch.setattr(io, "_save", broken)
    with pytest.raises(OSError, match="disk full"):
        io.write(tmp_path / "out.png", chelsea)
    assert _files(tmp_path) == []  # no output, no temporary file


def test_write_failure_keeps_existing_file(tmp_path, chelsea, monkeypatch):
    p = io.write(tmp_path / "keep.png", chelsea)
    before = p.read_bytes()

    def broken(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(io, "_save", broken)
    with pytest.raises(OSError):
        io.write(p, chelsea, overwrite=True)
    assert p.read_bytes() == before
    assert _files(tmp_path) == ["keep.png"]


def test_written_files_get_ordinary_permissions(tmp_path, chelsea):
    # the temporary file is private (0600); the result must not stay that way
    io.write(tmp_path / "a.png", chelsea)
    io.write_mask(tmp_path / "m.png", np.ones(chelsea.shape[:2], bool))
    (tmp_path / "b.png").write_bytes(b"")
    os.chmod(tmp_path / "b.png", 0o640)
    io.write(tmp_path / "b.png", chelsea, overwrite=True)
    (tmp_path / "plain").write_bytes(b"")  # what open() gives under this umask
    plain = stat.S_IMODE(os.stat(tmp_path / "plain").st_mode)
    assert stat.S_IMODE(os.stat(tmp_path / "a.png").st_mode) == plain
    assert stat.S_IMODE(os.stat(tmp_path / "m.png").st_mode) == plain
    assert stat.S_IMODE(os.stat(tmp_path / "b.png").st_mode) == 0o640  # kept from the file replaced


def test_write_input_unchanged(tmp_path, chelsea):
    img = chelsea.copy()
    io.write(tmp_path / "a.jpg", img)
    assert np.array_equal(img, chelsea)


@pytest.mark.parametrize(
    "name, message",
    [
        ("out.xyz", r"cannot tell the format of .*out\.xyz from its extension; use one of"),
        ("nofolder/out.png", r"the folder .*nofolder does not exist; create it first"),
    ],
)
def test_write_bad_paths(tmp_path, chelsea, name, message):
    with pytest.raises(ImageFileError, match=message):
        io.write(tmp_path / name, chelsea)
    assert _files(tmp_path) == []


def test_alpha_to_jpeg_is_refused(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    with pytest.raises(ImageFileError, match=r"JPEG cannot store the alpha channel of this image; write a\.png, \.tif or \.webp instead"):
        io.write(tmp_path / "a.jpg", rgba)
    assert _files(tmp_path) == []


def test_16bit_to_jpeg_becomes_8bit(tmp_path):
    arr = np.full((4, 4, 3), 65535, np.uint16)
    back = io.read(io.write(tmp_path / "a.jpg", arr))
    assert back.dtype == np.uint8 and back.min() >= 254


# ----------------------------------------------------------------------------- bad files


def test_missing_file(tmp_path):
    with pytest.raises(ImageFileError, match=r"nope\.png does not exist; check the path"):
        io.read(tmp_path / "nope.png")


def test_folder_is_not_an_image(tmp_path):
    with pytest.raises(ImageFileError, match="is a folder, not an image file"):
        io.read(tmp_path)


def test_not_an_image(tmp_path):
    p = tmp_path / "notes.png"
    p.write_text("hello")
    with pytest.raises(ImageFileError, match=r"notes\.png is not an image retouch can read \(PNG, JPEG, TIFF, BMP or WebP\)"):
        io.read(p)


@pytest.mark.parametrize("ext", [".png", ".jpg", ".tif"])
def test_truncated_file(tmp_path, chelsea, ext):
    good = io.write(tmp_path / f"good{ext}", chelsea)
    data = good.read_bytes()
    bad = tmp_path / f"bad{ext}"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageFileError, match=rf"bad\{ext} is truncated or corrupt .*; re-export or copy it again"):
        io.read(bad)


def test_decompression_bomb_refused(tmp_path):
    p = tmp_path / "big.png"
    Image.new("L", (3000, 2000)).save(p)
    with pytest.raises(ImageFileError, match=r"big\.png is 3000x2000 = 6 megapixels, more than the limit of 1; raise the limit \(--max-pixels\)"):
        io.read(p, max_pixels=1_000_000)
    assert io.read(p, max_pixels=None).shape == (2000, 3000)


def test_default_limit_is_200_megapixels():
    assert io.DEFAULT_MAX_PIXELS == 200_000_000


# ----------------------------------------------------------------------------- masks


def test_read_mask_nonzero_is_fill(tmp_path):
    arr = np.zeros((6, 8), np.uint8)
    arr[1, 1] = 1
    arr[2, 2] = 255
    Image.fromarray(arr).save(tmp_path / "m.png")
    m = io.read_mask(tmp_path / "m.png")
    assert m.dtype == bool and m.shape == (6, 8)
    assert m.sum() == 2
    assert io.read_mask(tmp_path / "m.png", threshold=128).sum() == 1


def test_read_mask_colour_and_alpha(tmp_path):
    rgb = np.zeros((5, 5, 3), np.uint8)
    rgb[0, 0, 2] = 200
    Image.fromarray(rgb).save(tmp_path / "c.png")
    assert io.read_mask(tmp_path / "c.png").sum() == 1
    rgba = np.full((5, 5, 4), 255, np.uint8)
    rgba[..., 3] = 0
    rgba[2, 2, 3] = 255  # a painted layer: white everywhere, opaque only where painted
    Image.fromarray(rgba).save(tmp_path / "a.png")
    m = io.read_mask(tmp_path / "a.png")
    assert m.sum() == 1 and m[2, 2]


def test_read_mask_16bit_threshold_in_8bit_units(tmp_path):
    arr = np.array([[0, 257 * 100, 257 * 200]], np.uint16)
    Image.fromarray(arr).save(tmp_path / "m16.png")
    assert io.read_mask(tmp_path / "m16.png", threshold=150).tolist() == [[False, False, True]]


def test_read_mask_size_mismatch_names_both_sizes(tmp_path):
    Image.new("L", (40, 30)).save(tmp_path / "m.png")
    with pytest.raises(RetouchError, match=r"the mask .*m\.png is 40x30 but the image is 50x20 \(width x height\)"):
        io.read_mask(tmp_path / "m.png", shape=(20, 50, 3))


def test_binarize_threshold_range():
    with pytest.raises(RetouchError, match=r"mask threshold must be in 0\.\.254 \(8-bit units\), got 300"):
        io.binarize(np.zeros((2, 2), np.uint8), 300)


def test_write_mask_round_trip(tmp_path):
    m = np.random.default_rng(5).random((13, 17)) > 0.5
    p = io.write_mask(tmp_path / "m.png", m)
    assert np.array_equal(io.read_mask(p), m)
    assert np.array_equal(np.unique(np.asarray(Image.open(p))), [0, 255])


# ----------------------------------------------------------------------------- several files: all or none


def test_check_destination_refuses_a_read_only_folder(tmp_path, read_only_folder):
    ro = read_only_folder(tmp_path / "ro")
    with pytest.raises(ImageFileError, match=r"cannot write .*x\.png: the folder .*ro does not take new files"):
        io.check_destination(ro / "x.png")
    assert _files(ro) == []
    assert io.check_destination(tmp_path / "fine.png") == tmp_path / "fine.png"
    assert not (tmp_path / "fine.png").exists() and _files(tmp_path) == ["ro"]


def test_write_all_second_folder_read_only_writes_neither(tmp_path, chelsea, read_only_folder):
    ro = read_only_folder(tmp_path / "ro")
    with pytest.raises(ImageFileError, match="does not take new files"):
        io.write_all([(tmp_path / "a.png", chelsea, None), (ro / "m.png", np.zeros(chelsea.shape[:2], bool), None)])
    assert _files(tmp_path) == ["ro"] and _files(ro) == []


def test_write_all_failed_rename_puts_back_what_was_replaced(tmp_path, chelsea, monkeypatch):
    a, m = tmp_path / "a.png", tmp_path / "m.png"
    a.write_bytes(b"old a")
    m.write_bytes(b"old m")
    real = os.replace
    calls = []

    def second_fails(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(5, "Input/output error")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", second_fails)
    with pytest.raises(OSError):
        io.write_all([(a, chelsea, None), (m, np.ones(chelsea.shape[:2], bool), None)], overwrite=True)
    monkeypatch.setattr(os, "replace", real)
    assert a.read_bytes() == b"old a" and m.read_bytes() == b"old m"
    assert _files(tmp_path) == ["a.png", "m.png"]  # no temporary file left


def test_write_all_writes_a_bool_image_as_a_mask(tmp_path, chelsea):
    hole = np.zeros(chelsea.shape[:2], bool)
    hole[10:20, 30:40] = True
    out, mask = io.write_all([(tmp_path / "o.tif", chelsea, None), (tmp_path / "m.png", hole, None)])
    assert np.array_equal(io.read(out), chelsea) and np.array_equal(io.read_mask(mask), hole)
