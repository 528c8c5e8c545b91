"""Planning a batch: walk the input and decide, per image, to run, copy, skip or fail it.

Nothing is written here; :func:`plan` reads the input tree, the output tree's
listing, the recipe's per-image inputs (mask folder, sidecar) and the resume
journal's entries, and returns a :class:`Plan` that :func:`retouch.batch.run`
carries out.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ..pipeline import Recipe
from ..validate import RetouchError
from . import files as bfs
from .inputs import MaskIndex, Sidecar

__all__ = ["Task", "Plan", "plan", "record"]


@dataclass(slots=True)
class Task:
    """One image to process."""

    key: str
    """The input's path relative to INPUT (forward slashes)."""
    input: str
    output: str
    out_rel: str
    """The output's path relative to OUTPUT."""
    mask: str | None
    values: dict[str, Any] | None
    action: str
    """``run`` the recipe, or ``copy`` the image unchanged."""
    fingerprint: str
    redo: bool = False
    """An older output is there and will be replaced."""

    def payload(self, recipe_json: str, max_pixels: int | None) -> dict[str, Any]:
        """What a worker gets: strings and small values only."""
        return {
            "key": self.key,
            "input": self.input,
            "output": self.output,
            "mask": self.mask,
            "values": self.values,
            "action": self.action,
            "recipe": recipe_json,
            "max_pixels": max_pixels,
        }


@dataclass
class Plan:
    """What a batch will do: tasks to run, and records of images it will not run."""

    input: str
    output: str
    tasks: list[Task]
    skipped: list[dict[str, Any]]
    failed: list[dict[str, Any]]
    total: int


def _fingerprint(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _inside(child: str, parent: str) -> bool:
    if bfs.is_url(child) != bfs.is_url(parent):
        return False
    if bfs.is_url(child):
        return child.rstrip("/").startswith(parent.rstrip("/") + "/")
    try:
        Path(child).resolve().relative_to(Path(parent).resolve())
        return True
    except ValueError:
        return False


def _same(a: str, b: str) -> bool:
    if bfs.is_url(a) or bfs.is_url(b):
        return a.rstrip("/") == b.rstrip("/")
    return Path(a).resolve() == Path(b).resolve()


def plan(
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    recipe: Recipe,
    *,
    overwrite: bool = False,
    journal: dict[str, dict[str, Any]] | None = None,
) -> Plan:
    """Walk ``input`` and decide, per image, whether to run, copy, skip or fail it.

    Nothing is written. ``journal`` is the resume journal's latest entry per
    image (see the module notes); without it every existing output counts as
    not written by retouch and is skipped.
    """
    src, dst = bfs.absolute(os.fspath(input)), bfs.absolute(os.fspath(output))
    if not bfs.is_url(src) and not Path(src).is_dir():
        what = "is a file, not a folder" if Path(src).exists() else "does not exist; check the path"
        raise RetouchError(f"the input folder {input} {what}")
    if _same(src, dst):
        raise RetouchError("the output folder is the input folder; the originals would be replaced: choose another output folder")
    per = _PerImage.of(recipe)
    recipe_fp = recipe.fingerprint()
    journal = journal or {}

    exclude = [dst] + ([per.masks_root] if per.masks_root else [])
    entries = list(bfs.walk(src, exclude=[e for e in exclude if _inside(e, src)]))
    # one listing of the output tree instead of a check per image (a million HEAD requests on S3)
    existing = {e.rel for e in bfs.walk(dst)} if bfs.is_url(dst) or Path(dst).is_dir() else set()
    if not entries:
        raise RetouchError(f"no images found under {input} (looked for {', '.join(sorted(bfs.IMAGE_SUFFIXES))})")

    tasks: list[Task] = []
    skipped: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    claimed: dict[str, str] = {}
    for e in entries:
        out_rel = str(PurePosixPath(e.rel).with_suffix(recipe.output.suffix(PurePosixPath(e.rel).suffix)))
        if out_rel in claimed:
            failed.append(record(e.rel, "failed", f"{e.rel} and {claimed[out_rel]} would both be written to {out_rel}; use [output] format = \"same\" or rename one"))
            continue
        claimed[out_rel] = e.rel
        decided = _decide(e, out_rel, bfs.join(dst, out_rel), per, recipe_fp, journal.get(e.rel), out_rel in existing, overwrite)
        if isinstance(decided, Task):
            tasks.append(decided)
        else:
            (skipped if decided["status"] == "skipped" else failed).append(decided)
    return Plan(src, dst, tasks, skipped, failed, len(entries))


@dataclass
class _PerImage:
    """Where each image's own inputs come from (the recipe's ``[inputs]``), and what a missing one does."""

    needs: dict[str, Any]
    box_as_mask: bool
    sidecar: Sidecar | None
    masks: MaskIndex | None
    masks_root: str | None
    masks_name: str | None
    missing: str

    @classmethod
    def of(cls, recipe: Recipe) -> _PerImage:
        """Load the sidecar and index the mask folder, refusing a recipe whose per-image inputs have no source."""
        opts = recipe.inputs
        needs = recipe.needs
        sidecar = Sidecar.load(bfs.absolute(opts.sidecar)) if opts is not None and opts.sidecar else None
        if needs and sidecar is None:
            name = next(iter(needs))
            raise RetouchError(
                f"the recipe takes @{name} per image ({', '.join(needs[name])}); "
                f"say where from: [inputs] sidecar = \"FILE.csv\" in the recipe, or --sidecar FILE"
            )
        if opts is not None and opts.box_as_mask and sidecar is None:
            raise RetouchError("[inputs] box_as_mask needs a sidecar file with a box per image: add sidecar = \"boxes.csv\" or --sidecar FILE")
        masks_root = bfs.absolute(opts.masks) if opts is not None and opts.masks else None
        if masks_root is not None and not bfs.is_url(masks_root) and not Path(masks_root).is_dir():
            raise RetouchError(f"the mask folder {opts.masks} does not exist; check [inputs] masks or --masks")  # type: ignore[union-attr]
        return cls(
            needs=needs,
            box_as_mask=bool(opts is not None and opts.box_as_mask),
            sidecar=sidecar,
            masks=MaskIndex(masks_root) if masks_root is not None else None,
            masks_root=masks_root,
            masks_name=opts.masks if opts is not None else None,
            missing=opts.missing if opts is not None else "fail",
        )

    def lookup(self, rel: str) -> tuple[Any, dict[str, Any] | None, list[str]]:
        """The image's mask file entry and sidecar values, and what of them is missing."""
        mask_entry = values = None
        absent: list[str] = []
        if self.masks is not None:
            mask_entry = self.masks.lookup(rel)
            if mask_entry is None:
                absent.append(f"no mask for it in {self.masks_name}")
        if self.sidecar is not None:
            values = self.sidecar.lookup(rel)
            if values is None:
                absent.append(f"no entry for it in {Path(self.sidecar.source).name}")
            else:
                lacking = [n for n in self.needs if n not in values] + (["box"] if self.box_as_mask and "box" not in values else [])
                if lacking:
                    absent.append(f"its entry in {Path(self.sidecar.source).name} has no {lacking[0]}")
        return mask_entry, values, absent


def _decide(e: bfs.Entry, out_rel: str, out_loc: str, per: _PerImage, recipe_fp: str, prior: dict[str, Any] | None,
            exists: bool, overwrite: bool) -> Task | dict[str, Any]:
    """One image's task, or the record saying why it is skipped or failed."""
    try:
        mask_entry, values, absent = per.lookup(e.rel)
    except RetouchError as err:
        return record(e.rel, "failed", str(err))
    action = "run"
    if absent:
        if per.missing == "fail":
            return record(e.rel, "failed", f"{e.rel}: " + " and ".join(absent) + " (set [inputs] missing = \"skip\", \"copy\" or \"run\" to go on)")
        if per.missing == "skip":
            return record(e.rel, "skipped", "no per-image input (" + "; ".join(absent) + ")")
        if per.missing == "copy":
            action = "copy"
    if action == "run" and per.needs and (values is None or any(n not in values for n in per.needs)):
        return record(e.rel, "failed", f"{e.rel}: the recipe takes @{next(iter(per.needs))} and this image has none")
    fp = _fingerprint(
        recipe_fp,
        out_rel,
        action,
        [e.size, e.stamp],
        [mask_entry.size, mask_entry.stamp] if mask_entry else None,
        values,
    )
    redo = False
    if exists and not overwrite:
        if prior is None or prior.get("output") != out_rel:
            return record(e.rel, "skipped", "output exists and was not written by retouch batch (--overwrite replaces it)")
        if prior.get("fingerprint") == fp and prior.get("status") in ("started", "done"):
            return record(e.rel, "skipped", "already done")
        redo = True
    elif exists:
        redo = True
    return Task(e.rel, e.location, out_loc, out_rel, mask_entry.location if mask_entry else None, values, action, fp, redo)


def record(key: str, status: str, reason: str | None = None) -> dict[str, Any]:
    rec: dict[str, Any] = {"key": key, "status": status}
    if status == "failed":
        rec["error"] = reason
    elif reason:
        rec["reason"] = reason
    return rec

