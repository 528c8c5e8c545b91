"""Two sets of restore's detectors on the real old photos, side by side for a blind judge.

Every photo of ``DATA/oldphotos`` is restored twice, once with each set of
detectors (``--a NAME=DETECTORS`` and ``--b NAME=DETECTORS``, e.g.
``nospots=damage,text`` and ``defaults=damage,spots,text``). There is no
ground truth for real damage: a person decides which restoration removed more
of the damage and harmed less of the photo. Each photo where the two differ
gets a sheet: the scan and the two restorations, whole, under the letters X
and Y (which is which is drawn at random per photo, ``--seed``), then three
4x zooms of the windows where they differ most, the scan beside them. The key
(``OUT/key/key.json``, in the form :mod:`benchmarks.judge_count` reads) stays
apart from the sheets; ``--sample N`` puts N photos drawn at random on the
sheets (all by default).

Run: ``python -m benchmarks.restore_blind --data DATA --a nospots=damage,text
--b defaults=damage,spots,text --sample 24``; give a judge only ``OUT/sheets``
(its README says what to rank), then ``python -m benchmarks.judge_count
RANKINGS OUT/key/key.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from benchmarks._data import list_images, read_image

README = """Old photo restoration, judged blind.

Each sheet is one scanned old photo. The top row shows the scan as it is ("scan") and two restorations
of it ("X" and "Y"), which tried to remove damage: dust specks, scratches, cracks, stains, overlaid text.
The rows below zoom (4x) into the places where X and Y differ most, with the scan beside them.

For each sheet decide which restoration is better: it removed more of the real damage (specks of dust,
scratches, cracks) AND it did not harm the photo itself (eyes, mouths, hands, lettering, highlights,
leaves, textures, edges, frames must stay as they are in the scan; a "repair" that erases or smudges
real content is a harm, and a harm counts more than a missed speck). Write "X>Y", "Y>X", or "X=Y"
when you truly cannot tell. Put the answers in rankings_template.json's format.
"""

PANEL = 560  # px: the width of each whole-photo panel and of each zoom
ZOOMS = 3
DIFFERS = 8  # levels of 255: a pixel where the two restorations differ by more is a difference


def _detectors(spec: str) -> tuple[str, dict[str, bool]]:
    name, _, names = spec.partition("=")
    chosen = {d.strip() for d in names.split(",") if d.strip()}
    known = {"damage", "scratches", "spots", "text"}
    if not name or not chosen or not chosen <= known:
        raise SystemExit(f"--a/--b take NAME=DETECTORS with detectors from {sorted(known)}, e.g. nospots=damage,text; not {spec!r}")
    return name, {d: d in chosen for d in known}


def _label(panel: np.ndarray, text: str) -> np.ndarray:
    im = Image.fromarray(panel)
    draw = ImageDraw.Draw(im)
    draw.rectangle([0, 0, 14 + 12 * len(text), 24], fill=(255, 255, 255))
    draw.text((6, 4), text, fill=(0, 0, 0))
    return np.asarray(im)


def sheet(scan: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """The sheet of one photo (uint8 RGB): the scan, X and Y whole, then up to :data:`ZOOMS` rows of 4x
    zooms of the windows where X and Y differ most (the scan, X, Y). ``None`` when they do not differ."""
    diff = np.abs(x.astype(np.int16) - y).max(axis=2) > DIFFERS
    if not diff.any():
        return None
    h, w = scan.shape[:2]
    ph = max(1, round(h * PANEL / w))
    gap_v = np.full((ph, 8, 3), 255, np.uint8)
    whole = [cv2.resize(a, (PANEL, ph), interpolation=cv2.INTER_AREA) for a in (scan, x, y)]
    rows = [np.hstack([_label(whole[0], "scan"), gap_v, _label(whole[1], "X"), gap_v, _label(whole[2], "Y")])]
    win = max(8, min(PANEL // 4, h // 2, w // 2))
    density = cv2.boxFilter(diff.astype(np.float32), -1, (win, win), normalize=True)
    gap_z = np.full((PANEL, 8, 3), 255, np.uint8)
    for _ in range(ZOOMS):
        cy, cx = np.unravel_index(int(np.argmax(density)), density.shape)
        if density[cy, cx] <= 0:
            break
        y0, x0 = int(np.clip(cy - win // 2, 0, h - win)), int(np.clip(cx - win // 2, 0, w - win))
        density[max(0, y0 - win // 2) : y0 + win + win // 2, max(0, x0 - win // 2) : x0 + win + win // 2] = 0
        zoom = [cv2.resize(a[y0 : y0 + win, x0 : x0 + win], (PANEL, PANEL), interpolation=cv2.INTER_NEAREST) for a in (scan, x, y)]
        rows.append(np.full((10, rows[0].shape[1], 3), 255, np.uint8))
        rows.append(np.hstack([_label(zoom[0], "scan"), gap_z, _label(zoom[1], "X"), gap_z, _label(zoom[2], "Y")]))
    return np.vstack(rows)


def main(argv: list[str] | None = None) -> int:
    from retouch import pipeline

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="folder holding oldphotos/")
    ap.add_argument("--out", type=Path, default=Path("bench-out/restore_blind"))
    ap.add_argument("--a", required=True, help="NAME=DETECTORS, e.g. nospots=damage,text")
    ap.add_argument("--b", required=True, help="NAME=DETECTORS, e.g. defaults=damage,spots,text")
    ap.add_argument("--seed", type=int, default=0, help="draws the letters and the sample")
    ap.add_argument("--sample", type=int, default=0, help="put only this many photos, drawn at random, on the sheets (0: all)")
    args = ap.parse_args(argv)
    (na, da), (nb, db) = _detectors(args.a), _detectors(args.b)
    if na == nb:
        raise SystemExit("--a and --b need different names")
    photos = list_images(args.data / "oldphotos")
    if not photos:
        raise SystemExit(f"no photos in {args.data / 'oldphotos'}")
    rng = np.random.default_rng(args.seed)
    sheets, keydir = args.out / "sheets", args.out / "key"
    for d in (sheets, keydir):
        d.mkdir(parents=True, exist_ok=True)
    recipes = {na: pipeline.recipe_for_restore(**da), nb: pipeline.recipe_for_restore(**db)}
    made: dict[str, np.ndarray] = {}
    key: dict[str, dict] = {}
    identical = []
    for path in photos:
        scan = read_image(path)
        scan = np.dstack([scan] * 3) if scan.ndim == 2 else scan
        t0 = time.perf_counter()
        out = {name: recipe.apply(scan).image for name, recipe in recipes.items()}
        swap = bool(rng.random() < 0.5)
        letters = {"X": nb, "Y": na} if swap else {"X": na, "Y": nb}
        page = sheet(scan, out[letters["X"]], out[letters["Y"]])
        print(f"{path.name}: {time.perf_counter() - t0:.1f} s" + ("" if page is not None else ", the two are alike"), flush=True)
        if page is None:
            identical.append(path.stem)
            continue
        made[path.stem] = page
        key[path.stem] = {"letters": letters, "identical": []}
    chosen = sorted(made)
    if args.sample and args.sample < len(chosen):
        chosen = sorted(rng.choice(chosen, args.sample, replace=False).tolist())
    for stem in chosen:
        Image.fromarray(made[stem]).save(sheets / f"{stem}.png")
    (sheets / "README.txt").write_text(README)
    (sheets / "rankings_template.json").write_text(json.dumps({s: "" for s in chosen}, indent=1) + "\n")
    key = {s: key[s] for s in chosen}
    key["_about"] = {"a": args.a, "b": args.b, "seed": args.seed, "alike": identical}  # type: ignore[assignment]
    (keydir / "key.json").write_text(json.dumps(key, indent=1) + "\n")
    print(f"{len(chosen)} sheets in {sheets} ({len(identical)} photos alike); key in {keydir / 'key.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
