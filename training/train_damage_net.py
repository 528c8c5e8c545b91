"""Train the damage network of :func:`retouch.segment.damage`: a small U-Net that labels every pixel.

Three sub-commands:

1. ``prepare --data DIR --file VERSIONS.npz``: the training photos, each in
   several versions with realistic damage (:func:`benchmarks._realdamage.realistic_damage`)
   whose film dust, dirt and hair come from the hand-annotated scans 01 to
   04 only (``TUNE_SCANS``; ``benchmarks/restore_real.py`` scores with 05
   and 06), and the true category of every pixel (0 none, 1 thin: cracks,
   creases, scratches, hair; 2 spots: dust, dirt, foxing; 3 losses: torn
   corners, lost emulsion). The photos: the GrabCut set's less the seven
   that are CBSD68 photos (:func:`training.common.grabcut_photos`), and
   every ``DAVIS_STEP``-th DAVIS 345 *tune* frame; never a CBSD68 photo nor
   an old photo of ``DATA/oldphotos``. GrabCut photos whose index is a
   multiple of ``HOLD`` and every ``HOLD``-th DAVIS frame taken are held
   out (``evaluate`` reads them; the default certainty was chosen on them).
   The versions of photo ``i`` (damage seeds ``300000 + 20 i + k``): damaged
   and scanned twice in colour and once in black and white, damaged without
   the scanner, the clean photo aged and scanned, the photo as it is in
   colour and in black and white, and, shrunk to half (``cv2.INTER_AREA``),
   damaged and scanned twice and clean.
2. ``fit --file VERSIONS.npz --out NET.pt --steps N``: random ``CROP`` px
   crops (half centred on a damaged pixel; flipped and transposed at
   random), ``BATCH`` per step, softmax cross-entropy over the four
   categories (damage weighted ``DAMAGE_WEIGHT`` times), Adam with the
   learning rate warming up over 100 steps then falling on a cosine to 0
   at ``--steps``; seed ``--seed`` (``torch.manual_seed`` and NumPy's
   generator). CPU, ``--threads`` threads. Writes the weights every minute.
3. ``export --net NET.pt --file damage_net.onnx``: the ONNX that ``cv2.dnn``
   runs (copy it to ``src/retouch/segment/defects/models/`` and its sha256
   to ``models.json``); ``evaluate --file VERSIONS.npz --onnx damage_net.onnx``
   prints precision / recall / F1 (2 px tolerance, as the benchmark) on
   the held-out versions for several thresholds of the damage probability.

The network (:func:`network`) and the planes it reads
(:func:`retouch.segment.defects.damage_net.inputs`) are described in
:mod:`retouch.segment.defects.damage_net`.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import cv2
import numpy as np

HOLD = 5
DAVIS_STEP = 4
CROP, BATCH = 80, 12
DAMAGE_WEIGHT = 3.0
CHANNELS = (8, 16, 32, 48)


_FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX, cv2.FONT_HERSHEY_TRIPLEX,
          cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_COMPLEX_SMALL)
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz.,-$"


def scene_marks(image: np.ndarray, seed: int) -> np.ndarray:
    """``image`` with things that belong to a scene and look like damage to a filter: signs with
    lettering (Hershey fonts 8 to 70 px tall, dark on light or light on dark, strokes 1 to 9 px),
    straight rules under them and, on some, the print's frame (a paper white or dark border 3 to
    25 px wide). Drawn before the damage, so none of it is damage. (Not long thin lines on their own:
    a pole and a film scratch look alike at this size, and the scratch is damage.)"""
    rng = np.random.default_rng([seed, 7])
    out = image.copy()
    h, w = out.shape[:2]
    for _ in range(int(rng.integers(1, 4))):
        light = rng.random() < 0.6
        paper = tuple(int(v) for v in rng.integers(170, 250, 3)) if light else tuple(int(v) for v in rng.integers(5, 80, 3))
        ink = tuple(int(v) for v in rng.integers(5, 70, 3)) if light else tuple(int(v) for v in rng.integers(180, 250, 3))
        scale = rng.uniform(0.3, 2.5)
        font = _FONTS[int(rng.integers(len(_FONTS)))]
        thick = int(max(1, round(scale * rng.uniform(1, 4))))
        words = ["".join(rng.choice(list(_LETTERS), int(rng.integers(2, 9)))) for _ in range(int(rng.integers(1, 4)))]
        (tw, th), _ = cv2.getTextSize(max(words, key=len), font, scale, thick)
        x0, y0 = int(rng.integers(0, max(1, w - tw // 2))), int(rng.integers(0, max(1, h - th * len(words))))
        pad = int(th * 0.5) + thick
        if rng.random() < 0.8:
            cv2.rectangle(out, (x0 - pad, y0 - pad), (x0 + tw + pad, y0 + int(1.6 * th * len(words)) + pad), paper, -1)
        for j, word in enumerate(words):
            cv2.putText(out, word, (x0, y0 + th + int(1.6 * th * j)), font, scale, ink, thick, cv2.LINE_AA)
        if rng.random() < 0.5:  # a rule under the lettering
            yy = y0 + int(1.6 * th * len(words)) + thick
            cv2.line(out, (x0, yy), (x0 + tw, yy), ink, int(rng.integers(1, 6)), cv2.LINE_AA)
    if rng.random() < 0.4:  # the print's frame
        b = int(rng.integers(3, 26))
        colour = rng.integers(200, 250, 3) if rng.random() < 0.6 else rng.integers(5, 50, 3)
        out[:b], out[-b:], out[:, :b], out[:, -b:] = colour, colour, colour, colour
    if image.ndim == 3 and np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 1], image[..., 2]):
        out[:] = out.mean(axis=2, keepdims=True).astype(np.uint8)
    return out


def _versions(i: int, image: np.ndarray, grey: np.ndarray, data: Path, scene: bool = False):
    from benchmarks._realdamage import TUNE_SCANS, realistic_damage

    if scene:  # the scene's own lettering, rules and frame on every version
        image, grey = scene_marks(image, 400000 + i), scene_marks(grey, 400000 + i)
    zero = np.zeros(image.shape[:2], np.uint8)
    for k, photo in enumerate((image, image, grey)):
        damaged, target, labels = realistic_damage(photo, 300000 + 20 * i + k, data=data, scans=TUNE_SCANS)
        yield damaged, labels
        if k == 0:
            yield target, zero
    damaged, _, labels = realistic_damage(image, 300000 + 20 * i + 3, data=data, scans=TUNE_SCANS, scanner=False)
    yield damaged, labels
    yield image, zero
    yield grey, zero
    small = (max(1, image.shape[1] // 2), max(1, image.shape[0] // 2))
    half, half_grey = (cv2.resize(x, small, interpolation=cv2.INTER_AREA) for x in (image, grey))
    for k, photo in enumerate((half, half_grey)):
        damaged, target, labels = realistic_damage(photo, 300000 + 20 * i + 10 + k, data=data, scans=TUNE_SCANS)
        yield damaged, labels
        if k == 0:
            yield target, np.zeros(photo.shape[:2], np.uint8)


def _photos(data: Path):
    from benchmarks._data import davis_pairs, read_image
    from retouch.convert import to_gray, to_rgb, to_uint8
    from training.common import grabcut_photos

    for i, progress, image, grey in grabcut_photos(data, 0):
        yield i, i % HOLD == 0, progress, image, grey
    for j, pair in enumerate(davis_pairs(data, "tune")[::DAVIS_STEP]):
        image = read_image(pair.image)
        if image.ndim == 2:
            image = np.dstack([image] * 3)
        yield 1000 + j, j % HOLD == 0, f"davis {pair.name}", image, to_rgb(to_uint8(to_gray(image)))


def prepare(data: Path, file: Path, scene: bool) -> None:
    arrays, held = {}, []
    t0 = time.perf_counter()
    n = 0
    for i, hold, progress, image, grey in _photos(data):
        for damaged, labels in _versions(i, image, grey, data, scene):
            arrays[f"image_{n}"] = damaged
            arrays[f"labels_{n}"] = labels
            held.append(hold)
            n += 1
        print(f"{progress}: {n} versions ({time.perf_counter() - t0:.0f} s)", flush=True)
    file.parent.mkdir(parents=True, exist_ok=True)
    np.savez(file, held=np.array(held), **arrays)


def _load(file: Path, held_out: bool):
    with np.load(file) as z:
        held = z["held"]
        return [(z[f"image_{n}"], z[f"labels_{n}"]) for n in range(len(held)) if bool(held[n]) == held_out]


def network(channels: tuple[int, ...] = CHANNELS):
    """The U-Net: two 3 x 3 convolutions (ReLU) per level at full, 1/2, 1/4 and 1/8 size, max pooling down,
    nearest upsampling and concatenation up, and a 1 x 1 convolution to four logits (none, thin, spots, losses)."""
    import torch
    from torch import nn

    def block(i: int, o: int) -> nn.Sequential:
        return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(o, o, 3, padding=1), nn.ReLU(inplace=True))

    from retouch.segment.defects.damage_net import PLANES

    c0, c1, c2, c3 = channels

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.e0, self.e1, self.e2, self.b = block(PLANES, c0), block(c0, c1), block(c1, c2), block(c2, c3)
            self.d2, self.d1, self.d0 = block(c3 + c2, c2), block(c2 + c1, c1), block(c1 + c0, c0)
            self.head = nn.Conv2d(c0, 4, 1)
            self.pool = nn.MaxPool2d(2)
            self.up = nn.Upsample(scale_factor=2, mode="nearest")

        def forward(self, x):
            a = self.e0(x)
            b = self.e1(self.pool(a))
            c = self.e2(self.pool(b))
            d = self.b(self.pool(c))
            c = self.d2(torch.cat([self.up(d), c], 1))
            b = self.d1(torch.cat([self.up(c), b], 1))
            a = self.d0(torch.cat([self.up(b), a], 1))
            return self.head(a)

    return UNet()


class _Crops:
    def __init__(self, versions, seed: int):
        from retouch.segment.defects.damage_net import inputs

        self.rng = np.random.default_rng(seed)
        self.planes = [inputs(img) for img, _ in versions]
        self.labels = [lab for _, lab in versions]
        self.damage = [np.flatnonzero(lab.ravel() > 0) for lab in self.labels]

    def batch(self, n: int):
        xs, ys = [], []
        while len(xs) < n:
            k = int(self.rng.integers(len(self.planes)))
            planes, labels = self.planes[k], self.labels[k]
            h, w = labels.shape
            if h < CROP or w < CROP:
                continue
            if self.rng.random() < 0.5 and len(self.damage[k]):
                cy, cx = divmod(int(self.rng.choice(self.damage[k])), w)
                y0 = int(np.clip(cy - CROP // 2 + self.rng.integers(-CROP // 4, CROP // 4 + 1), 0, h - CROP))
                x0 = int(np.clip(cx - CROP // 2 + self.rng.integers(-CROP // 4, CROP // 4 + 1), 0, w - CROP))
            else:
                y0, x0 = int(self.rng.integers(h - CROP + 1)), int(self.rng.integers(w - CROP + 1))
            x = planes[y0 : y0 + CROP, x0 : x0 + CROP].transpose(2, 0, 1)
            y = labels[y0 : y0 + CROP, x0 : x0 + CROP]
            if self.rng.random() < 0.5:
                x, y = x[:, :, ::-1], y[:, ::-1]
            if self.rng.random() < 0.5:
                x, y = x[:, ::-1], y[::-1]
            if self.rng.random() < 0.5:
                x, y = x.transpose(0, 2, 1), y.T
            xs.append(np.ascontiguousarray(x))
            ys.append(np.ascontiguousarray(y))
        return np.stack(xs), np.stack(ys).astype(np.int64)


def fit(file: Path, out: Path, steps: int, seed: int, rate: float, threads: int, init: Path | None, stop: int | None = None,
        hard: float = 1.0) -> None:
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    crops = _Crops(_load(file, False), seed)
    print(f"{len(crops.planes)} training versions", flush=True)
    net = network()
    if init is not None:
        net.load_state_dict(torch.load(init))
    opt = torch.optim.Adam(net.parameters(), lr=rate)
    weight = torch.tensor([1.0, DAMAGE_WEIGHT, DAMAGE_WEIGHT, DAMAGE_WEIGHT])
    t0 = last = time.perf_counter()
    avg = None
    for step in range(stop or steps):
        lr = rate * min(1.0, (step + 1) / 100) * 0.5 * (1 + math.cos(math.pi * step / steps))
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = crops.batch(BATCH)
        logits, target = net(torch.from_numpy(x)), torch.from_numpy(y)
        if hard > 1:  # clean pixels the network now takes for damage weigh `hard` times more
            per = torch.nn.functional.cross_entropy(logits, target, reduction="none")
            w = weight[target] * torch.where((target == 0) & (logits.detach().softmax(1)[:, 0] < 0.5), hard, 1.0)
            loss = (per * w).sum() / w.sum()
        else:
            loss = torch.nn.functional.cross_entropy(logits, target, weight=weight)
        opt.zero_grad()
        loss.backward()
        opt.step()
        value = float(loss.detach())
        avg = value if avg is None else 0.98 * avg + 0.02 * value
        if time.perf_counter() - last > 60 or step == (stop or steps) - 1:
            last = time.perf_counter()
            torch.save(net.state_dict(), out)
            print(f"step {step + 1}/{steps}: loss {avg:.4f}, lr {lr:.2e} ({last - t0:.0f} s)", flush=True)


def export(net_file: Path, file: Path) -> None:
    import torch

    net = network()
    net.load_state_dict(torch.load(net_file))
    net.eval()
    from retouch.segment.defects.damage_net import PLANES

    torch.onnx.export(net, torch.zeros(1, PLANES, 64, 64), str(file), input_names=["planes"], output_names=["logits"],
                      opset_version=11, dynamic_axes={"planes": {2: "h", 3: "w"}, "logits": {2: "h", 3: "w"}}, dynamo=False)
    print(f"wrote {file}")


def evaluate(file: Path, onnx: Path, every: int = 1) -> None:
    from scipy import ndimage as ndi

    from retouch.segment.defects import damage_net, detectors

    damage_net.NET = onnx
    thresholds = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8)
    rules = {"kept as retouch.segment.damage keeps them": lambda p, t: detectors.found(p, t),
             "every pixel at least the threshold": lambda p, t: p >= t,
             "groups of 6 px or more": lambda p, t: damage_net.clean_up(p, t, min_pixels=6)}
    counts = np.zeros((len(rules), len(thresholds), 4))
    clean = np.zeros((len(rules), len(thresholds)))
    n_clean = 0
    for img, labels in _load(file, True)[::every]:
        dmg, _ = damage_net.damage_map(img)
        truth = labels > 0
        near = ndi.distance_transform_edt(~truth) <= 2 if truth.any() else None
        n_clean += not truth.any()
        for r, rule in enumerate(rules.values()):
            for j, t in enumerate(thresholds):
                det = rule(dmg, t)
                if near is None:
                    clean[r, j] += float(det.mean())
                    continue
                found = ndi.distance_transform_edt(~det) <= 2 if det.any() else np.zeros(truth.shape, bool)
                counts[r, j] += ((det & near).sum(), det.sum(), (found & truth).sum(), truth.sum())
    for r, name in enumerate(rules):
        print(name)
        for t, (a, b, c, d), m in zip(thresholds, counts[r], clean[r]):
            p, rr = a / max(1, b), c / max(1, d)
            print(f"  threshold {t:.2f}: P {p:.3f} R {rr:.3f} F1 {2 * p * rr / max(1e-9, p + rr):.3f} (pooled);"
                  f" clean versions marked {100 * m / max(1, n_clean):.3f} %")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    a = sub.add_parser("prepare")
    a.add_argument("--data", type=Path, required=True)
    a.add_argument("--file", type=Path, required=True)
    a.add_argument("--scene", action="store_true", help="draw scene lettering, rules, poles and frames (scene_marks) first")
    a = sub.add_parser("fit")
    a.add_argument("--file", type=Path, required=True)
    a.add_argument("--out", type=Path, required=True)
    a.add_argument("--steps", type=int, required=True)
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--rate", type=float, default=3e-3)
    a.add_argument("--threads", type=int, default=1)
    a.add_argument("--init", type=Path)
    a.add_argument("--stop", type=int, help="stop after this many steps of the --steps schedule")
    a.add_argument("--hard", type=float, default=1.0, help="weight of the clean pixels the network takes for damage (1: none)")
    a = sub.add_parser("export")
    a.add_argument("--net", type=Path, required=True)
    a.add_argument("--file", type=Path, required=True)
    a = sub.add_parser("evaluate")
    a.add_argument("--file", type=Path, required=True)
    a.add_argument("--onnx", type=Path, required=True)
    a.add_argument("--every", type=int, default=1, help="only every Nth held-out version")
    args = ap.parse_args(argv)
    if args.command == "prepare":
        prepare(args.data, args.file, args.scene)
    elif args.command == "fit":
        fit(args.file, args.out, args.steps, args.seed, args.rate, args.threads, args.init, args.stop, args.hard)
    elif args.command == "export":
        export(args.net, args.file)
    else:
        evaluate(args.file, args.onnx, args.every)


if __name__ == "__main__":
    main()
