"""Train the speck network that :func:`retouch.segment.spots` runs beside its boosted trees.

Four steps, each a sub-command, so the heavy one can run on a machine with
a GPU and PyTorch but without ``retouch`` installed:

1. ``photos --data DIR --file PHOTOS.npz``: the GrabCut set's photos less
   the seven that are also CBSD68 test photos
   (:func:`training.common.grabcut_photos`), each with its black and
   white version, in one file (about 30 MB). Needs ``retouch``.
2. ``prepare --photos PHOTOS.npz --work DIR``: each training photo in
   ``1 + COLOUR + GREY + sum(SCALES)`` versions, every one with its own
   specks (:func:`benchmarks._damage.draw_spots`): ``COLOUR`` in colour
   (seeds ``50000 + 100 i + k``), ``GREY`` in black and white
   (``60000 + ...``), some shrunk to half or 0.7 of the size
   (``cv2.INTER_AREA``; ``75000 + ...``, ``77000 + ...``), and the photo
   clean; with each version's 31 x 31 median (the network's background)
   and true specks. Photos whose GrabCut index is a multiple of
   ``--hold`` (7) are held out and never trained on. Needs NumPy, Pillow
   and OpenCV only; uses every core.
3. ``fit --work DIR --out NET.pt``: trains on random 96 x 96 crops (half
   of them centred near a drawn speck, flipped and transposed at random)
   to give each pixel the probability that the specks changed it visibly
   (the benchmark's truth), by binary cross-entropy with Adam, the
   learning rate warming up over 200 steps and then falling to 0 on a
   cosine over ``--steps`` steps, so a run is replayed by the same
   ``--steps`` and ``--seed``. ``--seconds`` is a convenience: it times a
   few steps on a copy of the network, trains as many steps as fit in that
   time, and prints the ``--steps`` that replays the run. ``--init`` starts from
   earlier weights. Needs PyTorch; runs on ``--device`` (``cuda`` when
   there is one). It writes the weights every minute, so a run stopped
   early still leaves them.
4. ``export --net NET.pt --file spots_net.onnx`` writes the ONNX that
   ``cv2.dnn`` runs (copy it to ``src/retouch/segment/defects/models/``), and
   ``evaluate --data DIR --file spots_net.onnx`` prints, on the held-out
   photos' versions, the precision and recall (with the restore
   benchmark's 2 px tolerance) of the pixels whose probability is at
   least each of several thresholds: :func:`retouch.segment.spots` keeps
   the network's pixels at the lowest threshold whose precision there is
   at least 0.9.

The shipped network (:mod:`retouch.segment.defects.speck_net`: 32 channels,
dilations 2, 4, 8, 16, 1) was trained on one NVIDIA H100 (``prepare`` took
26 to 31 s on its 16 cores for 2484 versions):

- ``fit --channels 32 --dilations 2,4,8,16,1 --steps 13192`` (learning
  rate 2e-3), loss 0.0068;
- then ``fit --channels 32 --dilations 2,4,8,16,1 --init THAT --rate 1e-3
  --seed 1 --steps 24018``, loss 0.0050.

(Those two fits ran for 380 s and 210 s of wall time, before ``fit`` took a
step count, with the cosine following the clock; the step counts above
replay them with the cosine over the steps. ``models.json`` beside the
shipped models lists every command.)

Pooled F1 of its pixels at 0.8 on the held-out photos: 0.926 after the
first, 0.947 after the second. The two fits beside it: 24 channels,
dilations 2, 4, 8, 1, continued from the first, smaller network (9,000
steps of 32 crops on two CPU cores; held out 0.820): 17,010 steps, held out
0.906; 48 channels, dilations 2, 4, 8, 16, 1: 9,060 steps, held out 0.931,
but on the restore benchmark no better than the 32 channels after the same
time and 2.6 times slower to run on a CPU. ``--device cpu`` works, but one
step takes about 6 s on two cores, so the shipped training would take
about 60 hours there.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from benchmarks._damage import damage

COLOUR, GREY, SCALES = 40, 12, ((0.5, 8), (0.7, 8))  # versions of each training photo (and one clean)
WINDOW = 31  # the median window: retouch.segment.defects.speck_net.WINDOW
CROP, BATCH = 96, 128
WARMUP = 200
THRESHOLDS = (0.5, 0.7, 0.8, 0.85, 0.9, 0.95)


# -- 1. photos ---------------------------------------------------------------------------------

def write_photos(data: Path, file: Path, limit: int) -> None:
    from training import common

    index, images, lumas = [], [], []
    for i, progress, image, luma in common.grabcut_photos(data, limit):
        index.append(i)
        images.append(image)
        lumas.append(luma[..., 0])
        print(progress, flush=True)
    arrays = {f"image{k}": a for k, a in enumerate(images)} | {f"luma{k}": a for k, a in enumerate(lumas)}
    np.savez_compressed(file, index=np.array(index), **arrays)
    print(f"wrote {file} ({len(index)} photos, {file.stat().st_size / 1e6:.1f} MB)")


def read_photos(file: Path) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """(GrabCut index, RGB photo, its black and white version as RGB) of each photo in ``file``."""
    with np.load(file) as z:
        return [(int(i), z[f"image{k}"], np.dstack([z[f"luma{k}"]] * 3)) for k, i in enumerate(z["index"])]


# -- 2. prepare --------------------------------------------------------------------------------

def version_jobs(i: int) -> list[tuple[str, float, int]]:
    """Photo ``i``'s versions as (which photo, scale, damage seed); seed -1: the photo clean."""
    jobs = [("image", 1.0, 50000 + 100 * i + k) for k in range(COLOUR)]
    jobs += [("luma", 1.0, 60000 + 100 * i + k) for k in range(GREY)]
    for scale, n in SCALES:
        jobs += [("image", scale, 70000 + 1000 * int(scale * 10) + 100 * i + k) for k in range(n)]
    return jobs + [("image", 1.0, -1)]


def make_version(photo: np.ndarray, scale: float, seed: int) -> np.ndarray:
    """One version as H x W x 7 uint8: the damaged photo, its WINDOW median, the true specks (0 / 1)."""
    if scale != 1.0:
        photo = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if seed < 0:
        damaged, truth = photo, np.zeros(photo.shape[:2], bool)
    else:
        damaged, truth = damage(photo, "spots", seed)
    return np.dstack([damaged, cv2.medianBlur(damaged, WINDOW), truth.astype(np.uint8)])


def _write_version(job: tuple[Path, int, np.ndarray, float, int]) -> tuple[int, int]:
    file, k, photo, scale, seed = job
    v = make_version(photo, scale, seed)
    data = np.load(file, mmap_mode="r+")
    data[k, : v.shape[0], : v.shape[1]] = v
    data.flush()
    return v.shape[:2]


def prepare(photos: Path, work: Path, hold: int) -> None:
    work.mkdir(parents=True, exist_ok=True)
    todo = []
    for i, image, luma in read_photos(photos):
        if i % hold:
            todo += [({"image": image, "luma": luma}[which], scale, seed) for which, scale, seed in version_jobs(i)]
    h = max(photo.shape[0] for photo, _, _ in todo)
    w = max(photo.shape[1] for photo, _, _ in todo)
    file = work / "versions.npy"
    np.lib.format.open_memmap(file, "w+", np.uint8, (len(todo), h, w, 7)).flush()
    t0 = time.perf_counter()
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        sizes = list(pool.map(_write_version, [(file, k, *job) for k, job in enumerate(todo)], chunksize=4))
    np.save(work / "sizes.npy", np.array(sizes, np.int64))
    print(f"{len(todo)} training versions ({h} x {w} canvas) in {time.perf_counter() - t0:.0f} s", flush=True)


# -- 3. fit ------------------------------------------------------------------------------------

def network(channels: int, dilations: tuple[int, ...]):
    """Conv 3 x 3 (6 -> channels), one dilated conv 3 x 3 per entry of ``dilations``, each with a ReLU, then 1 x 1 to a logit."""
    import torch

    layers: list[torch.nn.Module] = [torch.nn.Conv2d(6, channels, 3, padding=1), torch.nn.ReLU()]
    for d in dilations:
        layers += [torch.nn.Conv2d(channels, channels, 3, padding=d, dilation=d), torch.nn.ReLU()]
    layers.append(torch.nn.Conv2d(channels, 1, 1))
    return torch.nn.Sequential(*layers)


class Crops:
    """Random batches drawn on the training device: (planes N x 6 x CROP x CROP, truth N x 1 x CROP x CROP)."""

    def __init__(self, work: Path, device: str, seed: int):
        import torch

        self.torch = torch
        versions = np.load(work / "versions.npy", mmap_mode="r")
        self.sizes = torch.from_numpy(np.load(work / "sizes.npy")).to(device)
        self.data = torch.empty(versions.shape, dtype=torch.uint8, device=device)
        starts, counts, where = [], [], []
        total = 0
        for k in range(len(versions)):
            version = np.array(versions[k])
            self.data[k] = torch.from_numpy(version)
            yx = np.argwhere(version[:, :, 6])
            if len(yx):
                starts.append(total)
                counts.append(len(yx))
                where.append(np.column_stack([np.full(len(yx), k), yx]))
                total += len(yx)
        self.starts = torch.tensor(starts, device=device)
        self.counts = torch.tensor(counts, device=device)
        self.where = torch.from_numpy(np.concatenate(where)).to(device)
        self.span = torch.arange(CROP, device=device)
        self.gen = torch.Generator(device=device).manual_seed(seed)
        self.device = device
        print(f"{len(versions)} versions, {total} speck pixels in {len(starts)} of them", flush=True)

    def _rand(self, n: int):
        return self.torch.rand(n, generator=self.gen, device=self.device)

    def batch(self):
        torch = self.torch
        n = len(self.sizes)
        near = self._rand(BATCH) < 0.5
        k = (self._rand(BATCH) * n).long().clamp_max(n - 1)
        h, w = self.sizes[k, 0], self.sizes[k, 1]
        y0 = (self._rand(BATCH) * (h - CROP + 1)).long()
        x0 = (self._rand(BATCH) * (w - CROP + 1)).long()
        s = (self._rand(BATCH) * len(self.starts)).long().clamp_max(len(self.starts) - 1)
        j = self.starts[s] + (self._rand(BATCH) * self.counts[s]).long().clamp_max(self.counts[s] - 1)
        ks, cy, cx = self.where[j, 0], self.where[j, 1], self.where[j, 2]
        hs, ws = self.sizes[ks, 0], self.sizes[ks, 1]
        oy = 8 + (self._rand(BATCH) * (CROP - 16)).long()
        ox = 8 + (self._rand(BATCH) * (CROP - 16)).long()
        k = torch.where(near, ks, k)
        y0 = torch.where(near, torch.minimum((cy - oy).clamp_min(0), hs - CROP), y0)
        x0 = torch.where(near, torch.minimum((cx - ox).clamp_min(0), ws - CROP), x0)
        yy = (y0[:, None] + self.span)[:, :, None]
        xx = (x0[:, None] + self.span)[:, None, :]
        crop = self.data[k[:, None, None], yy, xx].permute(0, 3, 1, 2).float() / 255  # N x 7 x CROP x CROP
        colour, background, truth = crop[:, :3], crop[:, 3:6], crop[:, 6:] * 255
        x = torch.cat([colour - 0.5, (colour - background) * 4], dim=1)
        both = torch.cat([x, truth], dim=1)
        for turn in (lambda t: t.flip(2), lambda t: t.flip(3), lambda t: t.transpose(2, 3)):  # each crop's at random
            both = torch.where(self._rand(BATCH)[:, None, None, None] < 0.5, turn(both), both)
        return both[:, :6].contiguous(), both[:, 6:].contiguous()


def steps_in(seconds: float, net, crops: "Crops", rate: float, probe: int = 30) -> int:
    """How many training steps fit in ``seconds``: times ``probe`` steps on copies of the network and
    optimiser, with batches from a generator of their own, so the run itself is left as it was."""
    import copy

    import torch

    twin = copy.deepcopy(net)
    opt = torch.optim.Adam(twin.parameters(), rate)
    own = crops.gen
    crops.gen = torch.Generator(device=crops.device).manual_seed(2**31 - 1)
    try:
        for i in range(probe + 5):
            if i == 5:  # the first steps warm the device up
                if crops.device.startswith("cuda"):
                    torch.cuda.synchronize()
                t0 = time.perf_counter()
            x, y = crops.batch()
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=crops.device.startswith("cuda")):
                loss = torch.nn.functional.binary_cross_entropy_with_logits(twin(x).float(), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if crops.device.startswith("cuda"):
            torch.cuda.synchronize()
        per_step = (time.perf_counter() - t0) / probe
    finally:
        crops.gen = own
    return max(1, int(seconds / per_step))


def fit(work: Path, out: Path, channels: int, dilations: tuple[int, ...], rate: float, steps: int, seconds: float,
        init: Path | None, device: str, seed: int) -> None:
    """Train for ``steps`` steps (or as many as fit in ``seconds``, printing the count to replay) and write ``out``."""
    import torch

    torch.manual_seed(seed)
    torch.backends.cudnn.benchmark = True
    net = network(channels, dilations)
    if init is not None:
        start = torch.load(init, map_location="cpu")
        net.load_state_dict(start.get("state", start))  # a .pt this command wrote, or a bare state dict
    net = net.to(device)
    crops = Crops(work, device, seed)
    opt = torch.optim.Adam(net.parameters(), rate)
    half = device.startswith("cuda")
    if not steps:
        steps = steps_in(seconds, net, crops, rate)
        print(f"--seconds {seconds:g}: {steps} steps; replay this run with --steps {steps} --seed {seed}", flush=True)
    t0 = time.perf_counter()
    running, step, saved = 0.0, 0, t0

    def save() -> None:
        tmp = out.with_suffix(".tmp")
        torch.save({"state": {k: v.cpu() for k, v in net.state_dict().items()}, "channels": channels,
                    "dilations": list(dilations), "steps": step, "seconds": time.perf_counter() - t0}, tmp)
        tmp.replace(out)

    while step < steps:
        done = step / steps
        for group in opt.param_groups:
            group["lr"] = rate * min(1.0, (step + 1) / WARMUP) * 0.5 * (1 + math.cos(math.pi * done))
        x, y = crops.batch()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=half):
            logit = net(x)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logit.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        running = loss.detach() if step == 1 else 0.99 * running + 0.01 * loss.detach()
        if step % 2000 == 0:
            print(f"  step {step}: loss {float(running):.4f} ({time.perf_counter() - t0:.0f} s)", flush=True)
        if time.perf_counter() - saved > 60:
            save()
            saved = time.perf_counter()
    save()
    print(f"trained {step} steps of {BATCH} crops in {time.perf_counter() - t0:.0f} s: loss {float(running):.4f}; wrote {out}")


# -- 4. export, evaluate -----------------------------------------------------------------------

def export(net_file: Path, file: Path) -> None:
    import torch

    saved = torch.load(net_file, map_location="cpu")
    net = network(saved["channels"], tuple(saved["dilations"]))
    net.load_state_dict(saved["state"])
    net.eval()
    x = torch.zeros(1, 6, 64, 64)
    torch.onnx.export(net, x, str(file), dynamo=False, input_names=["planes"], output_names=["logit"],
                      dynamic_axes={"planes": {2: "h", 3: "w"}, "logit": {2: "h", 3: "w"}}, opset_version=13)
    print(f"wrote {file} ({file.stat().st_size / 1e3:.0f} kB) from {saved['steps']} steps; copy it to src/retouch/segment/defects/models/ to ship it")


def evaluate(data: Path, file: Path, hold: int, limit: int) -> None:
    from training import common
    from benchmarks.restore import match, prf
    from retouch.segment.defects import speck_net

    assert WINDOW == speck_net.WINDOW, "train_spots_net.WINDOW must be the median window spots uses"
    net = cv2.dnn.readNetFromONNX(str(file))
    counts = {t: np.zeros(4, np.int64) for t in THRESHOLDS}
    for i, progress, image, luma in common.grabcut_photos(data, limit):
        if i % hold:
            continue
        for which, scale, seed in version_jobs(i):
            v = make_version({"image": image, "luma": luma}[which], scale, seed)
            net.setInput(np.ascontiguousarray(speck_net.inputs(v[..., :3]).transpose(2, 0, 1)[None]))
            p = 1 / (1 + np.exp(-net.forward()[0, 0]))
            for t in THRESHOLDS:
                counts[t] += match(p >= t, v[..., 6] > 0)
        print(progress, flush=True)
    for t in THRESHOLDS:
        pr, rc, f = prf(tuple(counts[t]))
        print(f"held out, probability >= {t}: precision {pr:.3f} recall {rc:.3f} F1 {f:.3f} (pixels, pooled)")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("photos", help="write the training photos to one file")
    p.add_argument("--data", type=Path, required=True, help="folder holding grabcut/")
    p.add_argument("--file", type=Path, required=True)
    p.add_argument("--limit", type=int, default=0, help="only the first N GrabCut photos (0: all)")
    p = sub.add_parser("prepare", help="draw the training versions")
    p.add_argument("--photos", type=Path, required=True)
    p.add_argument("--work", type=Path, required=True)
    p.add_argument("--hold", type=int, default=7, help="hold out the photos whose GrabCut index is a multiple of this")
    p = sub.add_parser("fit", help="train the network")
    p.add_argument("--work", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--channels", type=int, default=24)
    p.add_argument("--dilations", default="2,4,8,1")
    p.add_argument("--rate", type=float, default=2e-3)
    p.add_argument("--steps", type=int, default=0, help="steps to train: the same --steps and --seed replay a run")
    p.add_argument("--seconds", type=float, default=0.0,
                   help="instead of --steps: train as many steps as fit in this time, and print the --steps that replays it")
    p.add_argument("--init", type=Path, default=None, help="start from these weights (a .pt this command wrote)")
    p.add_argument("--device", default="cuda")
    p.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("export", help="write the ONNX that cv2.dnn runs")
    p.add_argument("--net", type=Path, required=True)
    p.add_argument("--file", type=Path, required=True)
    p = sub.add_parser("evaluate", help="precision and recall on the held-out photos")
    p.add_argument("--data", type=Path, required=True, help="folder holding grabcut/")
    p.add_argument("--file", type=Path, required=True, help="the ONNX network")
    p.add_argument("--hold", type=int, default=7)
    p.add_argument("--limit", type=int, default=0)
    a = ap.parse_args(argv)
    if a.command == "photos":
        write_photos(a.data, a.file, a.limit)
    elif a.command == "prepare":
        prepare(a.photos, a.work, a.hold)
    elif a.command == "fit":
        if (a.steps > 0) == (a.seconds > 0):
            ap.error("fit takes --steps N (or, to time it, --seconds S), one of them")
        fit(a.work, a.out, a.channels, tuple(int(d) for d in a.dilations.split(",")), a.rate, a.steps, a.seconds,
            a.init, a.device, a.seed)
    elif a.command == "export":
        export(a.net, a.file)
    else:
        evaluate(a.data, a.file, a.hold, a.limit)


if __name__ == "__main__":
    main()
