"""scikit-image 0.26 ``segmentation/tests/test_watershed.py`` against
``retouch.segment.superpixels.superpixel_labels(..., algorithm="watershed")``.

retouch's watershed is a superpixel method for photos: it floods the Lab
colour gradient of the picture it is given, from markers it makes itself (a
regular grid of ``n_segments`` seeds, or the gradient's regional minima), and
returns int32 labels from 0. It takes neither a relief image to flood nor
markers, a mask, a connectivity or a watershed line, which is what every
peer case passes; so none of them re-points with the same inputs and
assertions. They are listed here with the argument that stops each:

- ``TestWatershed.test_watershed01`` .. ``test_watershed12`` (12): a relief
  image and hand-placed markers (``01``-``06``, ``08``-``12``; ``07``, ``10``
  and ``11`` also a mask or connectivity; ``12`` a watershed line).
- ``TestWatershed.test_watershed_input_not_modified``: checks the markers
  array is not changed; retouch has no markers argument (that its input
  picture is not changed is checked below, and for every segmenter in
  ``tests/segment``).
- ``test_compact_watershed``, ``test_watershed_with_markers_offset``,
  ``test_watershed_simple_basin_overspill``,
  ``test_watershed_evenly_distributed_overspill``, ``test_markers_on_maxima``,
  ``test_numeric_seed_watershed``: a relief image with markers (or a marker
  count) and, for some, compactness on that relief.
- ``test_watershed_output_dtype`` (8 marker dtypes): the labels take the
  markers' dtype; retouch's are always int32 (checked below).
- ``test_incorrect_markers_shape``, ``test_incorrect_mask_shape``,
  ``test_markers_in_mask``, ``test_no_markers``, ``test_connectivity``:
  markers, a mask and connectivity are not arguments.
"""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from retouch.segment.superpixels import superpixel_labels


def watershed(image, **kwargs):
    return superpixel_labels(image, algorithm="watershed", **kwargs)


@pytest.mark.parametrize("image", [np.random.default_rng(1).random((21, 21)), data.astronaut()[:64, :64]], ids=["grey", "rgb"])
def test_input_not_modified_and_labels_are_int32_from_zero(image):
    before = image.copy()
    labels = watershed(image, n_segments=4)
    assert np.array_equal(image, before)
    assert labels.dtype == np.int32
    assert np.array_equal(np.unique(labels), np.arange(labels.max() + 1))


def test_own_markers_split_two_flat_halves_along_the_step():
    img = np.zeros((40, 60), np.uint8)
    img[:, 30:] = 255
    labels = watershed(img, markers="minima")
    assert len(np.unique(labels)) == 2
    assert len(np.unique(labels[:, :29])) == 1 and len(np.unique(labels[:, 31:])) == 1
