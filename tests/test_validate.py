"""retouch.validate: the checks every function shares."""

from __future__ import annotations

import numpy as np
import pytest

from retouch.validate import (
    RetouchError,
    check_box,
    check_clicks,
    check_image,
    check_mask,
    check_number,
    check_odd,
    check_point,
    check_points,
)


def test_retouch_error_is_a_value_error():
    assert issubclass(RetouchError, ValueError)


@pytest.mark.parametrize(
    "image, message",
    [
        ([[1, 2]], r"image must be a NumPy array, got list; read files with retouch.read\(path\)"),
        (np.zeros((4, 4, 2), np.uint8), r"image must be HxW \(grey\) or HxWxC with C = 1, 3 \(RGB\) or 4 \(RGBA\), got shape 4x4x2"),
        (np.zeros((0, 4), np.uint8), r"image is empty \(shape 0x4\)"),
        (np.zeros((4, 4), np.int16), r"image has dtype int16; use uint8, uint16 or float32 in \[0, 1\]"),
        (np.zeros((4, 4), bool), r"image has dtype bool"),
        (np.full((4, 4), np.nan, np.float32), r"image contains NaN or infinite values"),
        (np.full((4, 4), 2.0, np.float32), r"float image must be in \[0, 1\], got values in \[2, 2\]"),
    ],
)
def test_check_image_errors(image, message):
    with pytest.raises(RetouchError, match=message):
        check_image(image)


@pytest.mark.parametrize(
    "image, hint",
    [
        # issue 23 item 6: "/ 255" was suggested for all of these, wrong for each
        (np.array([[-300, 4000]], np.int16), r"signed values \(-300\.\.4000\): map the int16 range into \[0, 1\] with \(image\.astype\(np\.float32\) \+ 32768\) / 65535$"),
        (np.array([[-3, 100]], np.int8), r"\(image\.astype\(np\.float32\) \+ 128\) / 255$"),
        (np.array([[0, 4095]], np.int16), r"its values 0\.\.4095 fit 16 bits: image\.astype\(np\.uint16\)$"),
        (np.array([[0, 70000]], np.uint32), r"fit neither 8 nor 16 bits: scale them into \[0, 1\]"),
        (np.array([[0.0, 0.5]], np.float16), r"convert it with image\.astype\(np\.float32\) \(values in \[0, 1\]\)$"),
    ],
)
def test_dtype_message_suggests_the_right_scaling(image, hint):
    with pytest.raises(RetouchError, match=hint):
        check_image(image)


def test_check_image_accepts_and_converts_float64():
    out = check_image(np.full((2, 2), 0.5))
    assert out.dtype == np.float32
    img = np.zeros((2, 2, 3), np.uint16)
    assert check_image(img) is img


def test_check_mask():
    m = np.zeros((3, 4), bool)
    assert check_mask(m, (3, 4, 3)) is m
    assert check_mask(m[..., None]).shape == (3, 4)
    with pytest.raises(RetouchError, match=r"mask is 4x3 but the image is 5x3 \(width x height\); they must be the same size"):
        check_mask(m, (3, 5))
    with pytest.raises(RetouchError, match=r"mask must be a 2-D HxW array, got shape 3x4x3; for a colour mask use mask.any\(axis=-1\)"):
        check_mask(np.zeros((3, 4, 3), bool))


def test_points_and_boxes():
    shape = (100, 200)
    assert check_point((199.4, 0), shape) == (199, 0)
    with pytest.raises(RetouchError, match=r"point \(200, 5\) is outside the 200x100 image; x must be in 0..199 and y in 0..99"):
        check_point((200, 5), shape)
    with pytest.raises(RetouchError, match=r"point must be an \(x, y\) pair, got 5"):
        check_point(5, shape)
    assert check_points([(1, 2), (3, 4)], shape).tolist() == [[1, 2], [3, 4]]
    assert check_points((1, 2), shape).tolist() == [[1, 2]]
    with pytest.raises(RetouchError, match=r"points is empty; give at least one \(x, y\) point"):
        check_points([], shape)
    assert check_box((-10, -10, 50, 50), shape) == (0, 0, 40, 40)  # clipped to the image
    with pytest.raises(RetouchError, match=r"box \(300, 10, 20, 20\) lies outside the 200x100 image"):
        check_box((300, 10, 20, 20), shape)
    with pytest.raises(RetouchError, match=r"box width and height must be positive, got 0x20"):
        check_box((10, 10, 0, 20), shape)
    assert check_clicks([(1, 1, True), (2, 2, 0)], shape) == [(1, 1, True), (2, 2, False)]
    with pytest.raises(RetouchError, match=r"clicks\[1\] \(500, 2\) is outside the 200x100 image"):
        check_clicks([(1, 1, True), (500, 2, False)], shape)


def test_numbers():
    assert check_number(3, "n", low=0, integer=True) == 3
    with pytest.raises(RetouchError, match="tolerance must be at least 0, got -1"):
        check_number(-1, "tolerance", low=0)
    with pytest.raises(RetouchError, match="radius must be greater than 0, got 0"):
        check_number(0, "radius", low=0, low_open=True)
    with pytest.raises(RetouchError, match="n must be a whole number, got 2.5"):
        check_number(2.5, "n", integer=True)
    with pytest.raises(RetouchError, match="flag must be a number, got True"):
        check_number(True, "flag")
    with pytest.raises(RetouchError, match="block_size must be odd, got 10; try 11"):
        check_odd(10, "block_size")
