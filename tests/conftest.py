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


@pytest.fixture
def read_only_folder(tmp_path, monkeypatch):
    """Make a folder that takes no new file, rename or sub-folder: ``make(path)``.

    The folder is chmod 0555; for root, whom permissions do not stop, the
    same refusal (PermissionError) is given by os.open, os.mkdir, os.rename,
    os.replace and os.link for paths inside it, the calls retouch writes with.
    """
    import errno
    import os
    from pathlib import Path

    folders: list[Path] = []

    def inside(path) -> bool:
        try:
            p = Path(os.fsdecode(path)).absolute()
        except TypeError:  # a file descriptor
            return False
        return any(p.parent == f or f in p.parents for f in folders)

    def refuse(path):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(path))

    if os.geteuid() == 0:
        real_open, real_mkdir, real_rename, real_replace, real_link = os.open, os.mkdir, os.rename, os.replace, os.link

        def fake_open(path, flags, *args, **kwargs):
            if flags & (os.O_CREAT | os.O_WRONLY | os.O_RDWR) and inside(path) and kwargs.get("dir_fd") is None:
                refuse(path)
            return real_open(path, flags, *args, **kwargs)

        def fake_mkdir(path, *args, **kwargs):
            if inside(path):
                refuse(path)
            return real_mkdir(path, *args, **kwargs)

        def two(real):
            def fake(src, dst, *args, **kwargs):
                if inside(dst) or inside(src):
                    refuse(dst)
                return real(src, dst, *args, **kwargs)

            return fake

        monkeypatch.setattr(os, "open", fake_open)
        monkeypatch.setattr(os, "mkdir", fake_mkdir)
        monkeypatch.setattr(os, "rename", two(real_rename))
        monkeypatch.setattr(os, "replace", two(real_replace))
        monkeypatch.setattr(os, "link", two(real_link))

    def make(path) -> Path:
        folder = Path(path).absolute()
        folder.mkdir(parents=True, exist_ok=True)
        folders.append(folder)
        os.chmod(folder, 0o555)
        return folder

    yield make
    for folder in folders:
        os.chmod(folder, 0o755)
