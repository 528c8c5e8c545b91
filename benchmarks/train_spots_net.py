"""Train the speck network that :func:`retouch.segment.spots` runs beside its boosted trees.

Needs PyTorch (the ``train`` extra: ``pip install -e '.[train]'``, which
takes the CPU build where one is on disk); ``retouch`` itself runs the
result with OpenCV's ``cv2.dnn``.

Data: the GrabCut set's photos less the seven that are also CBSD68 test
photos (:func:`benchmarks._forests.grabcut_photos`), each in 18 versions,
every one with its own specks (:func:`benchmarks._damage.draw_spots`): ten
in colour (seeds ``50000 + 100 i + k``), three in black and white (its
luma; ``60000 + ...``), two shrunk to half and two to 0.7 of its size
(``cv2.INTER_AREA``; ``75000 + ...`` and ``77000 + ...``), and the photo
clean. Photos whose GrabCut index is a multiple of 7 (``--hold``) are held
out: the network never trains on them, and the threshold the script
reports is read off them.

The network (:mod:`retouch.segment._spots_net`) is trained on 64 x 64
crops, 32 at a step, half of them centred near a drawn speck, flipped and
transposed at random, to give each pixel the probability that the specks
changed it visibly (the benchmark's truth), by binary cross-entropy with
Adam: 2500 steps at a learning rate of 2e-3, then three times 3000 more
starting again at 1e-3 (each phase falling to 0 on a cosine, with its own
seed for the batches). On the two cores of the machine it was trained on
this takes about 90 minutes. Each phase helped. The network alone (its
pixels at 0.8 or more, grown by 1 px), mean F1 per photo on the restore
benchmark's CBSD68 photos: 0.652, 0.702, 0.730 after the first three
phases (the fourth not measured alone); pooled F1 on the held-out photos:
0.803, 0.810, 0.820 after the last three. As ``spots`` uses it (with the
boosted trees, at 0.9), mean F1 on CBSD68 after the last three: 0.743 (its
pixels not yet grouped at 0.85), 0.745, 0.755. The loss was still falling
slowly when training stopped.

It then reports, on the held-out photos, the precision and recall (with
the restore benchmark's 2 px tolerance) of the pixels whose probability is
at least each of several thresholds, and writes
``bench-out/train_spots_net/_spots_net.onnx``; copy it to
``src/retouch/segment/`` to ship it.

Run: ``python -m benchmarks.train_spots_net --data /work/shared/data``.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from benchmarks import _forests
from benchmarks._damage import damage
from benchmarks.restore import match, prf
from retouch.segment import _spots_net

COLOUR, GREY, SCALES = 10, 3, ((0.5, 2), (0.7, 2))
CHANNELS, DILATIONS = 24, (2, 4, 8, 1)
CROP, BATCH = 64, 32
PHASES = ((2500, 2e-3, 0), (3000, 1e-3, 1), (3000, 1e-3, 2), (3000, 1e-3, 3))  # steps, learning rate, seed of the batches
THRESHOLDS = (0.5, 0.7, 0.8, 0.9, 0.95)


def network() -> torch.nn.Sequential:
    layers: list[torch.nn.Module] = [torch.nn.Conv2d(6, CHANNELS, 3, padding=1), torch.nn.ReLU()]
    for d in DILATIONS:
        layers += [torch.nn.Conv2d(CHANNELS, CHANNELS, 3, padding=d, dilation=d), torch.nn.ReLU()]
    layers.append(torch.nn.Conv2d(CHANNELS, 1, 1))
    return torch.nn.Sequential(*layers)


def versions(i: int, image: np.ndarray, luma: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Photo ``i``'s 18 (photo, true specks) versions."""
    out = [damage(image, "spots", 50000 + 100 * i + k) for k in range(COLOUR)]
    out += [damage(luma, "spots", 60000 + 100 * i + k) for k in range(GREY)]
    for scale, n in SCALES:
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        out += [damage(small, "spots", 70000 + 1000 * int(scale * 10) + 100 * i + k) for k in range(n)]
    return out + [(image, np.zeros(image.shape[:2], bool))]


class Crops:
    """Random training batches: (inputs N x 6 x CROP x CROP, truth N x 1 x CROP x CROP)."""

    def __init__(self, planes: list[np.ndarray], truths: list[np.ndarray], seed: int):
        self.planes, self.truths = planes, truths
        self.specks = [np.argwhere(t) for t in truths]
        self.rng = np.random.default_rng(seed)

    def batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        rng = self.rng
        x = np.empty((BATCH, CROP, CROP, 6), np.float32)
        y = np.empty((BATCH, CROP, CROP), np.float32)
        for b in range(BATCH):
            k = int(rng.integers(len(self.planes)))
            h, w = self.truths[k].shape
            if len(self.specks[k]) and rng.random() < 0.5:
                cy, cx = self.specks[k][rng.integers(len(self.specks[k]))]
                y0 = int(np.clip(cy - rng.integers(8, CROP - 8), 0, h - CROP))
                x0 = int(np.clip(cx - rng.integers(8, CROP - 8), 0, w - CROP))
            else:
                y0, x0 = int(rng.integers(0, h - CROP + 1)), int(rng.integers(0, w - CROP + 1))
            xi = self.planes[k][y0 : y0 + CROP, x0 : x0 + CROP]
            yi = self.truths[k][y0 : y0 + CROP, x0 : x0 + CROP]
            if rng.random() < 0.5:
                xi, yi = xi[::-1], yi[::-1]
            if rng.random() < 0.5:
                xi, yi = xi[:, ::-1], yi[:, ::-1]
            if rng.random() < 0.5:
                xi, yi = xi.transpose(1, 0, 2), yi.T
            x[b], y[b] = xi, yi
        return torch.from_numpy(x).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(y)[:, None]


def train(planes: list[np.ndarray], truths: list[np.ndarray], factor: float = 1.0) -> torch.nn.Sequential:
    torch.manual_seed(0)
    net = network()
    t0 = time.perf_counter()
    for phase_steps, rate, seed in PHASES:
        steps = max(1, round(phase_steps * factor))
        crops = Crops(planes, truths, seed)
        opt = torch.optim.Adam(net.parameters(), rate)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s, n=steps: 0.5 * (1 + math.cos(math.pi * min(s, n) / n)))
        running = 0.0
        for step in range(1, steps + 1):
            x, y = crops.batch()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            running = 0.98 * running + 0.02 * loss.item()
            if step % 250 == 0 or step == steps:
                print(f"  lr {rate:g} step {step}/{steps}: loss {running:.4f} ({time.perf_counter() - t0:.0f} s)", flush=True)
    return net.eval()


def export(net: torch.nn.Sequential, path: Path) -> None:
    x = torch.zeros(1, 6, 64, 64)
    torch.onnx.export(net, x, str(path), dynamo=False, input_names=["planes"], output_names=["logit"],
                      dynamic_axes={"planes": {2: "h", 3: "w"}, "logit": {2: "h", 3: "w"}}, opset_version=13)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="folder holding grabcut/")
    ap.add_argument("--out", type=Path, default=Path("bench-out/train_spots_net"))
    ap.add_argument("--hold", type=int, default=7, help="hold out the photos whose GrabCut index is a multiple of this")
    ap.add_argument("--limit", type=int, default=0, help="only the first N photos (0: all)")
    ap.add_argument("--steps", type=float, default=1.0, help="each phase's steps times this (a quick check: 0.002)")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    train_planes, train_truths, held = [], [], []
    for i, progress, image, luma in _forests.grabcut_photos(args.data, args.limit):
        for photo, truth in versions(i, image, luma):
            if i % args.hold == 0:
                held.append((photo, truth))
            else:
                train_planes.append(_spots_net.inputs(photo))
                train_truths.append(truth)
        print(f"{progress}: {len(train_planes)} training versions, {len(held)} held out", flush=True)
    net = train(train_planes, train_truths, args.steps)
    path = args.out / "_spots_net.onnx"
    export(net, path)
    print(f"wrote {path} ({path.stat().st_size / 1e3:.0f} kB); copy it to src/retouch/segment/ to ship it")

    counts = {t: np.zeros(4, np.int64) for t in THRESHOLDS}
    with torch.no_grad():
        for photo, truth in held:
            x = torch.from_numpy(_spots_net.inputs(photo)).permute(2, 0, 1)[None]
            p = torch.sigmoid(net(x))[0, 0].numpy()
            for t in THRESHOLDS:
                counts[t] += match(p >= t, truth)
    for t in THRESHOLDS:
        pr, rc, f = prf(tuple(counts[t]))
        print(f"held out, probability >= {t}: precision {pr:.3f} recall {rc:.3f} F1 {f:.3f} (pixels, pooled)")


if __name__ == "__main__":
    main()
