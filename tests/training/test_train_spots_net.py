"""training.train_spots_net: a fit is given by its step count (``--seconds`` only times one)."""

from __future__ import annotations

import pytest

from training import train_spots_net


@pytest.mark.parametrize("args", [[], ["--steps", "100", "--seconds", "60"], ["--steps", "0"]])
def test_fit_needs_steps_or_seconds_exactly_one(args, capsys):
    with pytest.raises(SystemExit) as e:
        train_spots_net.main(["fit", "--work", "w", "--out", "net.pt", *args])
    assert e.value.code == 2 and "fit takes --steps N (or, to time it, --seconds S), one of them" in capsys.readouterr().err
