"""specks.measure's fast reductions must give exactly what NumPy's own calls give (its features, and so
the spots the trees keep, depend on them)."""

import numpy as np
import pytest

from retouch.segment.defects import specks


@pytest.mark.parametrize("seed", range(4))
def test_reductions_equal_numpys(seed):
    rng = np.random.default_rng(seed)
    for size in list(range(1, 40)) + [63, 64, 65, 127, 128, 129, 300, 1001]:
        a = rng.normal(size=size).astype(np.float32) * rng.uniform(0.01, 100)
        assert specks._mean(a) == a.mean()
        assert specks._std(a) == a.std()
        assert specks._median(a.copy()) == np.median(a)
        assert specks._percentile80(a.copy()) == np.percentile(a, 80)
        b = rng.uniform(size=(size, 3)).astype(np.float32)
        assert np.array_equal(specks._mean0(b), b.mean(axis=0))


def test_median_of_ties_and_a_single_value():
    assert specks._median(np.array([2.0, 2.0, 1.0, 2.0], np.float32)) == 2.0
    assert specks._median(np.array([5.0], np.float32)) == 5.0
    assert specks._percentile80(np.array([0.0, 10.0], np.float32)) == np.percentile(np.array([0.0, 10.0], np.float32), 80)
