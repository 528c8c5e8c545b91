"""Shared fixtures: small real photos that ship with scikit-image."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """512x512 RGB uint8 photo (read-only: tests must not change it)."""
    img = data.astronaut()
    img.setflags(write=False)
    return img


@pytest.fixture(scope="session")
def chelsea() -> np.ndarray:
    """451x300 RGB uint8 photo of a cat (read-only)."""
    img = data.chelsea()
    img.setflags(write=False)
    return img


@pytest.fixture(scope="session")
def coffee() -> np.ndarray:
    """600x400 RGB uint8 photo of a coffee cup (read-only)."""
    img = data.coffee()
    img.setflags(write=False)
    return img


@pytest.fixture(scope="session")
def camera() -> np.ndarray:
    """512x512 grey uint8 photo (read-only)."""
    img = data.camera()
    img.setflags(write=False)
    return img


def as_dtypes(image: np.ndarray) -> dict[str, np.ndarray]:
    """The same picture as uint8, uint16 and float32."""
    return {
        "uint8": image,
        "uint16": image.astype(np.uint16) * 257,
        "float32": image.astype(np.float32) / 255,
    }
