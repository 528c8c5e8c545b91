"""Files for ``retouch batch``: local paths and fsspec URLs behind one small API.

A location is a string: a local path, or a URL with a scheme (``s3://``,
``gs://``, ``file://`` …) that fsspec opens when the matching filesystem
package is installed. Local files go straight through :mod:`retouch.io`
(atomic writes by temp file + rename); a URL is read into a temporary local
file and decoded by :mod:`retouch.io`, and written by encoding to a local
temporary file, uploading under a hidden ``.NAME.XXXXXXXX.part`` name and
moving it into place, so a reader never sees half an object.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from .. import io
from ..validate import ImageFileError, RetouchError

IMAGE_SUFFIXES = frozenset(io.FORMATS)
"""File extensions a batch picks up (lower case, with the dot)."""

PART_RE = re.compile(r"^\..+\.[^./]+\.part$")
"""Names of the temporary files :func:`retouch.io.write` (and uploads) use."""


def is_url(location: str) -> bool:
    """True for ``scheme://...`` locations (fsspec), False for local paths."""
    return "://" in location


def _fs(location: str) -> tuple[Any, str]:
    try:
        import fsspec
    except ImportError:  # pragma: no cover - fsspec comes with dask
        raise RetouchError(f"{location} is a URL; install fsspec (pip install 'retouch[dask]') to read and write URLs") from None
    try:
        fs, path = fsspec.core.url_to_fs(location)
    except (ImportError, ValueError) as e:
        raise RetouchError(f"cannot open {location}: {e}") from None
    return fs, path


def join(root: str, rel: str) -> str:
    """``root`` / ``rel`` (``rel`` uses forward slashes)."""
    if is_url(root):
        return root.rstrip("/") + "/" + rel
    return str(Path(root, *PurePosixPath(rel).parts))


def absolute(location: str) -> str:
    """A local path made absolute (workers may run elsewhere); URLs unchanged."""
    return location if is_url(location) else str(Path(location).expanduser().resolve())


@dataclass(frozen=True)
class Entry:
    """A file found under a folder."""

    rel: str
    """Path relative to the folder, with forward slashes."""
    location: str
    size: int
    stamp: str
    """Modification time (or ETag): changes when the file does."""


def walk(root: str, *, exclude: list[str] = ()) -> Iterator[Entry]:  # type: ignore[assignment]
    """Image files under ``root``, recursively, sorted; hidden names and ``exclude`` subtrees skipped."""
    if is_url(root):
        yield from _walk_url(root, exclude)
        return
    base = Path(root)
    skip = {os.path.normcase(str(Path(e).resolve())) for e in exclude if not is_url(e)}
    found: list[Entry] = []
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(
            d for d in dirnames if not d.startswith(".") and os.path.normcase(str(Path(dirpath, d).resolve())) not in skip
        )
        for name in filenames:
            if name.startswith(".") or Path(name).suffix.lower() not in IMAGE_SUFFIXES:
                continue
            p = Path(dirpath, name)
            try:
                st = p.stat()
            except OSError:
                continue
            rel = p.relative_to(base).as_posix()
            found.append(Entry(rel, str(p), st.st_size, str(st.st_mtime_ns)))
    yield from sorted(found, key=lambda e: e.rel)


def _stamp(info: dict[str, Any]) -> str:
    for key in ("mtime", "LastModified", "last_modified", "updated", "ETag", "etag", "md5Hash", "created"):
        if info.get(key) is not None:
            return str(info[key])
    return ""


def _walk_url(root: str, exclude: list[str]) -> Iterator[Entry]:
    fs, path = _fs(root)
    path = path.rstrip("/")
    if not fs.exists(path):
        return
    skip = [_fs(e)[1].rstrip("/") + "/" for e in exclude if is_url(e)]
    found = []
    for full, info in sorted(fs.find(path, detail=True).items()):
        full = full.rstrip("/")
        if info.get("type") == "directory" or any(full.startswith(s) for s in skip):
            continue
        rel = full[len(path) :].lstrip("/")
        parts = rel.split("/")
        if any(p.startswith(".") for p in parts) or PurePosixPath(rel).suffix.lower() not in IMAGE_SUFFIXES:
            continue
        found.append(Entry(rel, root.rstrip("/") + "/" + rel, int(info.get("size") or 0), _stamp(info)))
    yield from found


def exists(location: str) -> bool:
    """Whether a file is at ``location``."""
    if is_url(location):
        fs, path = _fs(location)
        return bool(fs.exists(path))
    return os.path.isfile(location)


def remove(location: str) -> None:
    """Delete the file at ``location`` if it is there."""
    if is_url(location):
        fs, path = _fs(location)
        if fs.exists(path):
            fs.rm(path)
        return
    try:
        os.unlink(location)
    except FileNotFoundError:
        pass


def makedirs(location: str) -> None:
    """Create the folder ``location`` (and its parents)."""
    if is_url(location):
        fs, path = _fs(location)
        fs.makedirs(path, exist_ok=True)
    else:
        os.makedirs(location, exist_ok=True)


def clean_parts(root: str) -> list[str]:
    """Delete temporary ``.NAME.XXXX.part`` files a killed writer left under ``root``; return them."""
    removed: list[str] = []
    if is_url(root):
        fs, path = _fs(root)
        if not fs.exists(path):
            return removed
        for full in fs.find(path):
            if PART_RE.match(PurePosixPath(full).name):
                fs.rm(full)
                removed.append(full)
        return removed
    if not os.path.isdir(root):
        return removed
    for dirpath, _dirs, filenames in os.walk(root):
        for name in filenames:
            if PART_RE.match(name):
                p = os.path.join(dirpath, name)
                try:
                    os.unlink(p)
                    removed.append(p)
                except OSError:
                    pass
    return removed


@contextmanager
def local_copy(location: str) -> Iterator[str]:
    """A local path holding the file at ``location`` (downloaded for a URL)."""
    if not is_url(location):
        yield location
        return
    fs, path = _fs(location)
    suffix = PurePosixPath(path).suffix
    folder = tempfile.mkdtemp(prefix="retouch-")
    local = os.path.join(folder, "file" + suffix)
    try:
        try:
            fs.get_file(path, local)
        except FileNotFoundError:
            raise ImageFileError(f"{location} does not exist; check the path") from None
        yield local
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _renamed(err: RetouchError, local: str, location: str) -> RetouchError:
    """``err`` with a temporary local path replaced by the URL the user gave."""
    if local == location:
        return err
    return type(err)(str(err).replace(local, location))


def read_image(location: str, *, max_pixels: int | None) -> tuple[np.ndarray, io.ImageInfo]:
    """:func:`retouch.io.read_with_info` for a path or URL."""
    with local_copy(location) as local:
        try:
            return io.read_with_info(local, max_pixels=max_pixels)
        except RetouchError as e:
            raise _renamed(e, local, location) from None


def read_mask(location: str, *, shape: tuple[int, ...], threshold: float, max_pixels: int | None) -> np.ndarray:
    """:func:`retouch.io.read_mask` for a path or URL."""
    with local_copy(location) as local:
        try:
            return io.read_mask(local, shape=shape, threshold=threshold, max_pixels=max_pixels)
        except RetouchError as e:
            raise _renamed(e, local, location) from None


def write_image(location: str, image: np.ndarray, *, info: io.ImageInfo | None, quality: int, overwrite: bool) -> None:
    """:func:`retouch.io.write` (atomic) for a path or URL; the folder is created if needed."""
    if not is_url(location):
        os.makedirs(os.path.dirname(location) or ".", exist_ok=True)
        io.write(location, image, info=info, quality=quality, overwrite=overwrite)
        return
    fs, path = _fs(location)
    if not overwrite and fs.exists(path):
        raise ImageFileError(f"{location} already exists; pass --overwrite to replace it")
    name = PurePosixPath(path).name
    folder = tempfile.mkdtemp(prefix="retouch-")
    try:
        local = os.path.join(folder, name)
        try:
            io.write(local, image, info=info, quality=quality)
        except RetouchError as e:
            raise _renamed(e, local, location) from None
        _upload(fs, local, path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def copy_file(source: str, target: str, *, overwrite: bool) -> None:
    """Copy a file byte for byte, atomically, between paths and/or URLs."""
    with local_copy(source) as local:
        if not is_url(target):
            if os.path.exists(target) and not overwrite:
                raise ImageFileError(f"{target} already exists; pass --overwrite to replace it")
            def copy(f) -> None:
                with open(local, "rb") as src:
                    shutil.copyfileobj(src, f)
                f.flush()
                os.fsync(f.fileno())

            _replace_local(target, copy)
            return
        fs, path = _fs(target)
        if not overwrite and fs.exists(path):
            raise ImageFileError(f"{target} already exists; pass --overwrite to replace it")
        _upload(fs, local, path)


def _replace_local(target: str, write: Any) -> None:
    """Write a local file atomically: ``write(f)`` into a temporary file beside it, then rename."""
    folder = os.path.dirname(target) or "."
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(target)}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, io.new_file_mode(target))
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _upload(fs: Any, local: str, path: str) -> None:
    parent = str(PurePosixPath(path).parent)
    tmp = f"{parent}/.{PurePosixPath(path).name}.{secrets.token_hex(4)}.part"
    fs.makedirs(parent, exist_ok=True)
    try:
        fs.put_file(local, tmp)
        fs.mv(tmp, path)
    except BaseException:
        try:
            if fs.exists(tmp):
                fs.rm(tmp)
        except Exception:
            pass
        raise


def read_text(location: str) -> str:
    """A small text file (a sidecar) at a path or URL."""
    if is_url(location):
        fs, path = _fs(location)
        try:
            with fs.open(path, "rb") as f:
                return f.read().decode("utf-8-sig")
        except FileNotFoundError:
            raise RetouchError(f"{location} does not exist; check the path") from None
    p = Path(location)
    if not p.is_file():
        raise RetouchError(f"{location} does not exist; check the path")
    return p.read_text(encoding="utf-8-sig")


def write_text(location: str, text: str) -> None:
    """Write a small text file (the report) atomically at a path or URL."""
    if is_url(location):
        fs, path = _fs(location)
        folder = tempfile.mkdtemp(prefix="retouch-")
        try:
            local = os.path.join(folder, "file")
            Path(local).write_text(text, encoding="utf-8")
            _upload(fs, local, path)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    _replace_local(location, lambda f: f.write(text.encode("utf-8")))
