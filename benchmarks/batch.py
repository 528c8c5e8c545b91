"""Batch throughput: a plain loop vs retouch batch on 1 and 2 processes vs Dask.

The folder: the CBSD68 photos (481x321) repeated ``--repeat`` times (default
4 = 272 files) in sub-folders ``rep0/ … rep3/``. The recipe is cheap but real,
the "logo at a known place" case: a box per image from a sidecar CSV (60x30
px at (20, 20)), grown by 2 px, filled with Telea, written as JPEG quality 95
(``--format``; read, mask, inpaint, encode: all of a batch's per-image
costs). PNG output works too, but Pillow's zlib level 6 then takes about 9 of
every 10 seconds on these photos, so the figures measure the encoder.

Configurations, each run into a fresh output folder, interleaved over
``--rounds`` rounds (timings on a shared machine drift; the table gives the
median and the best round):

- ``loop``: a plain sequential Python loop in this process: ``io.read_with_info``
  -> ``Recipe.apply`` -> ``io.write`` (the peer: what a user writes by hand);
- ``batch-inline``: ``retouch.batch.run(workers=0)``: the batch machinery
  (walk, journal, records) in this process, one image after another;
- ``pool-1``, ``pool-2``: ``retouch.batch.run(workers=N)``, the local process
  pool (workers forked from a warm fork server; their start is in the time);
- ``dask-2``: ``retouch.batch.run(scheduler=...)`` on a Dask ``LocalCluster``
  of 2 worker processes x 1 thread, started (and warmed up by a 2-image
  batch) before the timed runs; its start-up time is reported apart.

Reported: images/s and megapixels/s (wall clock), CPU milliseconds per image
(all the run's processes: workers, plus this process, which holds the pool's
coordinator or the Dask client and the LocalCluster's scheduler), and peak
resident memory per worker process (``ru_maxrss``; for the pools it includes
the pages shared with the fork server, for ``loop`` / ``batch-inline`` it is
this whole process), plus the ratios: pool-2 / pool-1 (speed-up of a second
worker), dask-2 / pool-2 (Dask's overhead), pool-1 / loop (the pool's overhead
on one core). The outputs of every configuration are checked byte-identical
to the loop's.

On a machine shared with others the wall-clock ratios mostly measure the
neighbours: Linux's autogroup scheduling shares the CPU between sessions, so a
second worker process does not get a second core while others are busy. CPU
time per image does not depend on that, so the ratios are also given as the
CPU figures predict them on idle cores: a configuration with W workers on C
cores makes ``min(W / worker CPU per image, C / all CPU per image)`` images
per second (the workers cannot go faster than one image per worker-CPU-time
each, and all processes together cannot use more than C cores).

Run::

    python -m benchmarks.batch --data /work/shared/data
    python -m benchmarks.batch --data /work/shared/data --repeat 1 --rounds 1   # quick
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import sys
import time
import warnings
from pathlib import Path

from retouch import batch, io
from retouch.batch.worker import peak_rss_mb
from retouch.inpaint import EmptyMaskWarning
from retouch.pipeline import Recipe

BOX = (20, 20, 60, 30)
CONFIGS = ("loop", "batch-inline", "pool-1", "pool-2", "dask-2")


def build_folder(data: Path, folder: Path, repeat: int) -> list[Path]:
    """CBSD68 copied ``repeat`` times under ``folder/rep{k}``; a sidecar with one box per base name."""
    photos = sorted((data / "cbsd68").glob("*.png"))
    if not photos:
        sys.exit(f"no photos under {data / 'cbsd68'}; pass --data with the shared data folder")
    files = []
    for k in range(repeat):
        sub = folder / "in" / f"rep{k}"
        sub.mkdir(parents=True, exist_ok=True)
        for p in photos:
            target = sub / p.name
            if not target.exists():
                shutil.copyfile(p, target)
            files.append(target)
    rows = ["image,x,y,w,h"] + [f"{p.stem},{','.join(map(str, BOX))}" for p in photos]
    (folder / "boxes.csv").write_text("\n".join(rows) + "\n")
    return files


def make_recipe(folder: Path, method: str, fmt: str = "jpg") -> Recipe:
    return Recipe.from_dict(
        {
            "inputs": {"sidecar": str(folder / "boxes.csv"), "box_as_mask": True},
            "refine": [{"method": "grow", "pixels": 2}],
            "inpaint": {"method": method},
            "output": {"format": fmt},
        }
    )


def run_loop(files: list[Path], src: Path, out: Path, recipe: Recipe) -> dict:
    """The peer: a plain loop over the same recipe, no batch machinery."""
    t0, c0 = time.perf_counter(), time.process_time()
    mp = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyMaskWarning)
        for f in files:
            image, info = io.read_with_info(f)
            result = recipe.apply(image, inputs={"box": BOX})
            target = out / f.relative_to(src).with_suffix(recipe.output.suffix(f.suffix))
            target.parent.mkdir(parents=True, exist_ok=True)
            io.write(target, result.image, info=info, overwrite=True, quality=recipe.output.quality)
            mp += image.shape[0] * image.shape[1] / 1e6
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    return {"seconds": seconds, "images": len(files), "megapixels": mp, "peak_rss_mb": peak_rss_mb(), "cpu_s": cpu, "coordinator_cpu_s": cpu}


def run_batch(src: Path, out: Path, recipe: Recipe, client=None, **kw) -> dict:
    workers_before = client.run(time.process_time) if client is not None else {}
    t0, c0 = time.perf_counter(), time.process_time()
    rep = batch.run(src, out, recipe, scheduler=client, **kw)
    seconds = time.perf_counter() - t0
    coordinator = time.process_time() - c0
    if client is not None:
        after = client.run(time.process_time)
        workers_cpu = sum(after[w] - workers_before.get(w, 0.0) for w in after)
    elif rep.engine == "processes":
        workers_cpu = sum(rep.workers_cpu_seconds.values())  # fresh processes: their whole CPU time
    else:
        workers_cpu = 0.0  # in this process: already in the coordinator's figure
    if not rep.ok or rep.counts["done"] == 0:
        sys.exit(f"batch failed: {rep.counts} {rep.failed[:3]}")
    peaks = rep.workers_peak_rss_mb or {"main": peak_rss_mb()}
    return {
        "seconds": seconds,
        "images": rep.counts["done"],
        "megapixels": rep.megapixels,
        "peak_rss_mb": max(peaks.values()),
        "workers_peak_rss_mb": peaks,
        "cpu_s": coordinator + workers_cpu,
        "coordinator_cpu_s": coordinator,
    }


def digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".") and p.suffix != ".json"
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="the shared data folder (uses DATA/cbsd68)")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "bench-out" / "batch")
    ap.add_argument("--repeat", type=int, default=4, help="copies of CBSD68 (68 photos each)")
    ap.add_argument("--rounds", type=int, default=2, help="interleaved rounds of every configuration")
    ap.add_argument("--method", default="telea", help="the inpainter of the recipe")
    ap.add_argument("--format", default="jpg", help="output format of the recipe (jpg, png, same, ...)")
    ap.add_argument("--configs", default=",".join(CONFIGS), help=f"comma-separated subset of {', '.join(CONFIGS)}")
    args = ap.parse_args()
    configs = [c for c in args.configs.split(",") if c]
    unknown = set(configs) - set(CONFIGS)
    if unknown:
        sys.exit(f"unknown configurations {sorted(unknown)}; known: {', '.join(CONFIGS)}")

    args.out.mkdir(parents=True, exist_ok=True)
    files = build_folder(args.data, args.out, args.repeat)
    src = args.out / "in"
    recipe = make_recipe(args.out, args.method, args.format)
    print(f"{len(files)} photos ({args.repeat} x CBSD68) under {src}; recipe: box {BOX} from a sidecar, grow 2, {args.method}, {args.format} out")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start (shared)")

    # warm-up: the fork server imports retouch once; a Dask cluster starts and imports it in its workers
    warm = args.out / "warm"
    shutil.rmtree(warm, ignore_errors=True)
    (warm / "in").mkdir(parents=True)
    for f in files[:2]:
        shutil.copyfile(f, warm / "in" / f.name)
    if any(c.startswith("pool") for c in configs):
        batch.run(warm / "in", warm / "out-pool", recipe, workers=2)
    cluster = client = None
    dask_start = None
    if "dask-2" in configs:
        from distributed import Client, LocalCluster

        t0 = time.perf_counter()
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40)
        client = Client(cluster)
        batch.run(warm / "in", warm / "out-dask", recipe, scheduler=client)
        dask_start = time.perf_counter() - t0
        print(f"Dask LocalCluster (2 workers x 1 thread) started and warmed up in {dask_start:.1f} s (not in the timings)")

    results: dict[str, list[dict]] = {c: [] for c in configs}
    digests: dict[str, dict[str, str]] = {}
    try:
        for r in range(args.rounds):
            for c in configs:
                out = args.out / "runs" / c
                shutil.rmtree(out, ignore_errors=True)
                if c == "loop":
                    res = run_loop(files, src, out, recipe)
                elif c == "batch-inline":
                    res = run_batch(src, out, recipe, workers=0)
                elif c == "pool-1":
                    res = run_batch(src, out, recipe, workers=1)
                elif c == "pool-2":
                    res = run_batch(src, out, recipe, workers=2)
                else:
                    res = run_batch(src, out, recipe, client=client)
                results[c].append(res)
                if r == 0:
                    digests[c] = digest(out)
                print(
                    f"  round {r + 1} {c:13s} {res['images'] / res['seconds']:7.2f} images/s  {res['megapixels'] / res['seconds']:6.2f} MP/s  "
                    f"{1000 * res['cpu_s'] / res['images']:6.1f} CPU ms/image  ({res['seconds']:.1f} s, load {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
    finally:
        if client is not None:
            client.close()
            cluster.close()

    ref = digests.get("loop") or next(iter(digests.values()))
    identical = {c: d == ref for c, d in digests.items()}

    def med(c: str, key: str) -> float:
        return statistics.median(x[key] / x["seconds"] for x in results[c])

    def best(c: str) -> float:
        return max(x["images"] / x["seconds"] for x in results[c])

    def cpu(c: str, key: str = "cpu_s") -> float:
        return statistics.median(1000 * x[key] / x["images"] for x in results[c])

    cores = os.cpu_count() or 1
    nworkers = {"loop": 1, "batch-inline": 1, "pool-1": 1, "pool-2": 2, "dask-2": 2}

    def projected(c: str) -> float:
        """Images/s on ``cores`` idle cores from the CPU time per image (see the module notes)."""
        total = cpu(c) / 1000
        worker = total if c in ("loop", "batch-inline") else (cpu(c) - cpu(c, "coordinator_cpu_s")) / 1000
        return min(nworkers[c] / worker, cores / total)

    lines = [
        f"# retouch batch throughput ({len(files)} CBSD68 photos, {args.rounds} rounds, {os.cpu_count()} shared cores)",
        "",
        "| configuration | images/s (median) | images/s (best) | MP/s (median) | CPU ms / image (of which coordinator) | images/s projected on idle cores | peak RSS per worker (MiB) | outputs identical to loop |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for c in configs:
        peak = max(x["peak_rss_mb"] for x in results[c])
        lines.append(
            f"| {c} | {med(c, 'images'):.2f} | {best(c):.2f} | {med(c, 'megapixels'):.2f} | {cpu(c):.1f} ({cpu(c, 'coordinator_cpu_s'):.1f}) "
            f"| {projected(c):.1f} | {peak:.0f} | {'yes' if identical[c] else 'NO'} |"
        )
    ratios = []
    if {"pool-1", "pool-2"} <= set(configs):
        ratios.append(
            f"- speed-up of 2 workers over 1 (pool-2 / pool-1, median wall clock): **{med('pool-2', 'images') / med('pool-1', 'images'):.2f}x**; "
            f"projected from CPU time on {cores} idle cores: **{projected('pool-2') / projected('pool-1'):.2f}x**"
        )
    if {"pool-2", "dask-2"} <= set(configs):
        ratio = med("dask-2", "images") / med("pool-2", "images")
        ratios.append(
            f"- Dask LocalCluster vs process pool, 2 workers (dask-2 / pool-2, median wall clock): **{ratio:.2f}x**; "
            f"CPU per image dask-2 / pool-2: **{cpu('dask-2') / cpu('pool-2'):.2f}x**; projected on {cores} idle cores: "
            f"**{projected('dask-2') / projected('pool-2'):.2f}x**; cluster start-up {dask_start:.1f} s not included"
        )
    if {"loop", "pool-1"} <= set(configs):
        ratios.append(f"- one pool worker vs the plain loop (pool-1 / loop, median): **{med('pool-1', 'images') / med('loop', 'images'):.2f}x**")
    if {"loop", "batch-inline"} <= set(configs):
        ratios.append(f"- batch machinery in-process vs the plain loop (batch-inline / loop, median): **{med('batch-inline', 'images') / med('loop', 'images'):.2f}x**")
    text = "\n".join(lines + [""] + ratios) + "\n"
    print()
    print(text)
    (args.out / "results.md").write_text(text)
    (args.out / "results.json").write_text(json.dumps({"files": len(files), "rounds": args.rounds, "results": results, "dask_start_s": dask_start, "identical": identical}, indent=2))
    print(f"wrote {args.out / 'results.md'} and results.json")


if __name__ == "__main__":
    main()
