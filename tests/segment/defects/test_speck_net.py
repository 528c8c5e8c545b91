"""The speck network (retouch.segment.defects.speck_net): shipped, run by cv2.dnn, tiled exactly, and sure of real dust."""

from __future__ import annotations

import numpy as np
import pytest

from retouch.segment.defects import speck_net


SPECKS = ((60, 60, 250), (200, 300, 12), (330, 450, 245), (100, 520, 8))  # y, x, grey: on dark wood, the cup's white rim, dark wood, lighter wood


def _disk(shape, y, x):
    yy, xx = np.ogrid[: shape[0], : shape[1]]
    return (yy - y) ** 2 + (xx - x) ** 2 <= 16


@pytest.fixture(scope="module")
def dusted(coffee):
    """The coffee photo with four grey specks drawn where there is texture and where there is not."""
    image = coffee.copy()
    for y, x, grey in SPECKS:
        image[_disk(image.shape, y, x)] = grey
    return image


def test_ships_and_reads_six_planes(coffee):
    assert speck_net.NET.is_file()
    planes = speck_net.inputs(coffee)
    assert planes.shape == (*coffee.shape[:2], 6) and planes.dtype == np.float32
    assert np.allclose(planes[..., :3], coffee / 255 - 0.5, atol=1e-6)
    flat = np.full((50, 50, 3), 200, np.uint8)
    assert np.allclose(speck_net.inputs(flat)[..., 3:], 0)  # no difference from a flat background


def test_probability_shape_dtype_and_input_unchanged(dusted):
    image = dusted
    before = image.copy()
    p = speck_net.probability(speck_net.inputs(image))
    assert p.shape == image.shape[:2] and p.dtype == np.float32
    assert 0 <= p.min() and p.max() <= 1
    assert np.array_equal(image, before)


def test_tiles_give_the_whole_photos_result(dusted):
    """Tiles of 64 px (each with the network's 32 px of context) give what one run over the photo gives."""
    image = dusted
    crop = image[:230, :300]
    whole = speck_net.probability(speck_net.inputs(crop))
    tiled = speck_net.probability(speck_net.inputs(crop), tile=64)
    assert np.abs(whole - tiled).max() < 1e-5
    # with less context than the network sees, the seams would show: the halo is what makes it exact
    assert speck_net.HALO == 32


def test_run_only_where_asked_gives_the_whole_photos_answer_there(dusted):
    """With ``where``, every asked pixel gets the whole run's probability (pieces spread over bands and
    runs of columns, each with its halo), pixels of no piece get 0, and far less of the photo is run."""
    planes = speck_net.inputs(dusted)
    whole = speck_net.probability(planes)
    where = np.zeros(dusted.shape[:2], bool)
    where[55:66, 50:70] = True  # near the top-left speck
    where[300:360, 440:460] = True  # and one lower down, in another band
    where[10:12, 590:600] = True  # at the photo's edge
    part = speck_net.probability(planes, where=where, tile=64)
    assert np.abs(part[where] - whole[where]).max() < 1e-5
    pieces = speck_net._pieces(where, 64)
    run = np.zeros_like(where)
    for y0, y1, x0, x1 in pieces:
        run[y0:y1, x0:x1] = True
    assert run[where].all()  # the pieces cover what was asked
    assert (part[~run] == 0).all()
    assert run.mean() < 0.2
    assert not speck_net.probability(planes, where=np.zeros_like(where)).any()


def test_sure_of_drawn_dust_not_of_the_photo(dusted, coffee):
    p = speck_net.probability(speck_net.inputs(dusted))
    for y, x, _ in SPECKS:
        # measured: 1.00 at all four centres (the first, smaller network: 1.00, 0.89, 1.00, 1.00)
        assert p[_disk(p.shape, y, x)].max() > 0.95
    assert (p[:40, :40] < 0.5).all()  # the table far from the specks: measured 0.0014 at most
    # glints on the spoon and the cup's rim: measured 0.18 % (the first, smaller network: 0.10 %)
    assert (speck_net.probability(speck_net.inputs(coffee)) >= 0.9).mean() < 0.003
