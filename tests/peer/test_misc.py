"""scikit-image 0.26 ``morphology/tests/test_misc.py``, re-pointed at ``retouch.refine``.

``remove_small_objects(m, max_size=k, connectivity=c)`` is
``refine.remove_small(m, min_size=k + 1, connectivity=4 or 8)`` (scikit-image
removes objects of at most ``max_size`` pixels, retouch those of fewer than
``min_size``; connectivity 1 is 4-neighbours, 2 is 8).
``remove_small_holes(m, max_size=k)`` with connectivity 1 is
``refine.fill_holes(m, max_size=k)``.

Peer cases that cannot transfer, and why:

- ``test_in_place``, ``test_out`` (9), ``test_in_place_holes``,
  ``test_out_remove_small_holes``, ``test_non_bool_out``: ``out=``; retouch's
  functions are pure and always return a new bool mask.
- ``test_labeled_image``, ``test_uint_image``, ``test_single_label_warning``,
  ``test_labeled_image_holes``, ``test_uint_image_holes``,
  ``test_label_warning_holes``: label images; retouch's masks are bool (True =
  fill), and any other dtype is refused with one line.
- ``test_remove_small_objects_deprecated_min_size``,
  ``test_remove_small_holes_deprecated_area_threshold``: scikit-image's
  deprecation of its own keywords.
- ``test_two_connectivity_holes``: holes are always 4-connected in
  ``fill_holes`` (so an 8-connected mask encloses them); there is no
  connectivity setting.
- ``Test_remove_near_objects`` (every case, 86 with parameters):
  ``remove_objects_by_distance`` has no counterpart in retouch.
"""

from __future__ import annotations

import numpy as np
import pytest

from retouch import RetouchError, refine

test_object_image = np.array([[0, 0, 0, 1, 0], [1, 1, 1, 0, 0], [1, 1, 1, 0, 1]], bool)

test_holes_image = np.array(
    [
        [0, 0, 0, 0, 0, 0, 1, 0, 0, 0],
        [0, 1, 1, 1, 1, 1, 0, 0, 0, 0],
        [0, 1, 0, 0, 1, 1, 0, 0, 0, 0],
        [0, 1, 1, 1, 0, 1, 0, 0, 0, 0],
        [0, 1, 1, 1, 1, 1, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 1, 1, 1],
        [0, 0, 0, 0, 0, 0, 0, 1, 0, 1],
        [0, 0, 0, 0, 0, 0, 0, 1, 1, 1],
    ],
    bool,
)


# test_one_connectivity
def test_one_connectivity():
    assert not refine.remove_small(test_object_image, min_size=6 + 1, connectivity=4).any()
    expected = np.array([[0, 0, 0, 0, 0], [1, 1, 1, 0, 0], [1, 1, 1, 0, 0]], bool)
    assert np.array_equal(refine.remove_small(test_object_image, min_size=5 + 1, connectivity=4), expected)


# test_two_connectivity
def test_two_connectivity():
    assert not refine.remove_small(test_object_image, min_size=7 + 1, connectivity=8).any()
    expected = np.array([[0, 0, 0, 1, 0], [1, 1, 1, 0, 0], [1, 1, 1, 0, 0]], bool)
    assert np.array_equal(refine.remove_small(test_object_image, min_size=6 + 1, connectivity=8), expected)


# test_float_input: a float image raises TypeError
def test_float_input():
    with pytest.raises(TypeError):
        refine.remove_small(np.random.default_rng(0).random((5, 5)))


# test_negative_input: negative integers raise ValueError
def test_negative_input():
    with pytest.raises(ValueError):
        refine.remove_small(np.random.default_rng(0).integers(-4, -1, size=(5, 5)))


# test_one_connectivity_holes
def test_one_connectivity_holes():
    expected = np.array(
        [
            [0, 0, 0, 0, 0, 0, 1, 0, 0, 0],
            [0, 1, 1, 1, 1, 1, 0, 0, 0, 0],
            [0, 1, 1, 1, 1, 1, 0, 0, 0, 0],
            [0, 1, 1, 1, 1, 1, 0, 0, 0, 0],
            [0, 1, 1, 1, 1, 1, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0, 1, 1, 1],
            [0, 0, 0, 0, 0, 0, 0, 1, 1, 1],
            [0, 0, 0, 0, 0, 0, 0, 1, 1, 1],
        ],
        bool,
    )
    assert np.array_equal(refine.fill_holes(test_holes_image, max_size=2), expected)


# test_float_input_holes: a float image raises TypeError
def test_float_input_holes():
    with pytest.raises(TypeError):
        refine.fill_holes(np.random.default_rng(0).random((5, 5)))


def test_the_type_error_is_one_retouch_line():
    with pytest.raises(RetouchError, match=r"^mask must be a bool array \(True = fill\), got dtype float64; convert it with mask > 0"):
        refine.fill_holes(np.zeros((5, 5)))
