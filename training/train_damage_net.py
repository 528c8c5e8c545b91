"""Train the damage network of :func:`retouch.segment.damage`: a small U-Net that labels every pixel.

The sub-commands:

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
2. ``negatives --data DIR --file HARD.npz [--onnx NET.onnx]``: hard
   negatives, clean versions (:func:`_negatives`: sharpened, shrunk to a
   half and a third, with grain, with a window's leads or rails drawn by
   :func:`lattice`, with scene marks) of the DAVIS tune frames ``prepare``
   does not take and of its GrabCut training photos, each with the pixels
   the network (default the shipped one) takes for damage at 0.3 or more;
   every ``HOLD``-th photo held out. ``fit --negatives HARD.npz --share S``
   takes a share ``S`` of each batch from them, 70 % centred on those pixels.
3. ``fit --file VERSIONS.npz --out NET.pt --steps N``: random ``CROP`` px
   crops (half centred on a damaged pixel; flipped and transposed at
   random), ``BATCH`` per step, softmax cross-entropy over the four
   categories (damage weighted ``DAMAGE_WEIGHT`` times), Adam with the
   learning rate warming up over 100 steps then falling on a cosine to 0
   at ``--steps``; seed ``--seed`` (``torch.manual_seed`` and NumPy's
   generator). CPU, ``--threads`` threads. Writes the weights every minute.
   A crop's planes are computed from the crop and the median's reach
   around it (the same numbers as the whole photo's), so nothing of the
   photos' size is held but the photos.
4. ``export --net NET.pt --file damage_net.onnx``: the ONNX that ``cv2.dnn``
   runs (copy it to ``src/retouch/segment/defects/models/`` and its sha256
   to ``models.json``); ``evaluate --file VERSIONS.npz --onnx damage_net.onnx``
   prints precision / recall / F1 (2 px tolerance, as the benchmark) on
   the held-out versions for several thresholds of the damage probability.

5. ``bundle --data DIR --folder F``, then ``online --folder F --out O --minutes M --workers N --device
   cuda``: training on a machine without ``DATA`` (the GPU machine lent to some sessions). ``bundle``
   copies the photos ``prepare`` and ``negatives`` train on (never their held-out ones, a CBSD68 or an
   old photo) and film-dust scans 01-04; ``online`` draws fresh damage for every batch in ``N`` worker
   processes (:func:`_online_versions`: the same kinds of versions as ``prepare`` and ``negatives``,
   with new damage seeds each time, so nothing is stored and no version is seen twice) and trains one
   network per channel tuple of ``--nets`` on the same batches, on a schedule of ``M`` minutes.

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


def lattice(image: np.ndarray, seed: int) -> np.ndarray:
    """``image`` with a scene's straight lines drawn in: a window's leads or a fence (a lattice of dark or
    light lines 1 to 4 px wide, 8 to 40 px apart) or rails (two to four long parallel lines), over part of
    the photo. Many parallel straight lines are a scene's, not a scratch."""
    rng = np.random.default_rng([seed, 11])
    out = image.copy()
    h, w = out.shape[:2]
    ink = tuple(int(v) for v in (rng.integers(5, 60, 3) if rng.random() < 0.7 else rng.integers(190, 250, 3)))
    width = int(rng.integers(1, 5))
    x0, y0 = int(rng.integers(0, w // 2)), int(rng.integers(0, h // 2))
    x1, y1 = int(rng.integers(x0 + w // 4, w + 1)), int(rng.integers(y0 + h // 4, h + 1))
    if rng.random() < 0.6:  # leads or a fence: a grid
        step = int(rng.integers(8, 41))
        for x in range(x0, x1, step):
            cv2.line(out, (x, y0), (x, y1), ink, width, cv2.LINE_AA)
        if rng.random() < 0.7:
            for y in range(y0, y1, int(step * rng.uniform(0.8, 2))):
                cv2.line(out, (x0, y), (x1, y), ink, width, cv2.LINE_AA)
    else:  # rails: a few long parallel lines at an angle
        angle, gap = rng.uniform(0, np.pi), rng.uniform(6, 30)
        d, n = np.array([np.cos(angle), np.sin(angle)]), np.array([-np.sin(angle), np.cos(angle)])
        c = np.array([rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h])
        for k in range(int(rng.integers(2, 5))):
            a, b = c + k * gap * n - d * 2 * max(h, w), c + k * gap * n + d * 2 * max(h, w)
            cv2.line(out, tuple(int(v) for v in a), tuple(int(v) for v in b), ink, width, cv2.LINE_AA)
    return out


def _sharp(image: np.ndarray, rng) -> np.ndarray:
    """``image`` unsharp-masked (amount 0.5 to 1.5, sigma 0.8 to 2): a crisp digital photo's edges."""
    blur = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.8, 2.0))
    amount = rng.uniform(0.5, 1.5)
    return np.clip(image.astype(np.float32) + amount * (image.astype(np.float32) - blur), 0, 255).astype(np.uint8)


def _negatives(i: int, image: np.ndarray, grey: np.ndarray):
    """Clean versions of photo ``i`` that look like damage to a filter: sharpened, shrunk (``INTER_AREA``,
    so every edge is one or two pixels), with grain, with a scene's lattice or rails, in black and white."""
    rng = np.random.default_rng([500000 + i])
    half = (max(1, image.shape[1] // 2), max(1, image.shape[0] // 2))
    third = (max(1, image.shape[1] // 3), max(1, image.shape[0] // 3))
    yield _sharp(image, rng)
    yield cv2.resize(image, half, interpolation=cv2.INTER_AREA)
    yield _sharp(cv2.resize(grey, half, interpolation=cv2.INTER_AREA), rng)
    small = cv2.resize(image, third, interpolation=cv2.INTER_AREA)
    grain = rng.normal(0, rng.uniform(2, 6), small.shape[:2])[..., None]
    yield np.clip(small + grain, 0, 255).astype(np.uint8)
    yield lattice(_sharp(image, rng) if rng.random() < 0.5 else image, 600000 + i)
    yield scene_marks(cv2.resize(grey if rng.random() < 0.5 else image, half, interpolation=cv2.INTER_AREA), 700000 + i)


def prepare_negatives(data: Path, file: Path, onnx: Path | None) -> None:
    """The hard negatives: clean versions (:func:`_negatives`) of the DAVIS tune frames that ``prepare`` does
    not take (all but every ``DAVIS_STEP``-th) and of the GrabCut photos it trains on, with the pixels the
    network ``onnx`` (default: the shipped one) takes for damage at 0.3 or more (``hot_N``), where crops
    of them are centred. Every ``HOLD``-th photo is held out."""
    from benchmarks._data import davis_pairs, read_image
    from retouch.convert import to_gray, to_rgb, to_uint8
    from retouch.segment.defects import damage_net
    from training.common import grabcut_photos

    if onnx is not None:
        damage_net.NET = onnx

    def photos():
        for i, _, image, grey in grabcut_photos(data, 0):
            if i % HOLD:
                yield 2000 + i, image, grey
        for j, pair in enumerate(davis_pairs(data, "tune")):
            if j % DAVIS_STEP:
                image = read_image(pair.image)
                image = np.dstack([image] * 3) if image.ndim == 2 else image
                yield 3000 + j, image, to_rgb(to_uint8(to_gray(image)))

    arrays, held, hot = {}, [], []
    n, t0 = 0, time.perf_counter()
    for k, (i, image, grey) in enumerate(photos()):
        for version in _negatives(i, image, grey):
            p, _ = damage_net.damage_map(version)
            arrays[f"image_{n}"] = version
            arrays[f"labels_{n}"] = np.zeros(version.shape[:2], np.uint8)
            arrays[f"hot_{n}"] = np.flatnonzero(p.ravel() >= 0.3).astype(np.int32)
            held.append(k % HOLD == 0)
            hot.append(float((p >= 0.6).mean()))
            n += 1
        print(f"photo {i}: {n} negatives, marked at 0.6 {100 * np.mean(hot[-6:]):.2f} % ({time.perf_counter() - t0:.0f} s)", flush=True)
    file.parent.mkdir(parents=True, exist_ok=True)
    np.savez(file, held=np.array(held), **arrays)


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


def _load(file: Path, held_out: bool, hot: bool = False):
    with np.load(file) as z:
        held = z["held"]
        return [(z[f"image_{n}"], z[f"labels_{n}"], *((z[f"hot_{n}"],) if hot else ())) for n in range(len(held))
                if bool(held[n]) == held_out]


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
    """Random crops of versions (photo, labels[, pixels to centre on]) and their planes, computed for each crop
    with the median's reach around it (the same planes as of the whole photo)."""

    def __init__(self, versions, seed: int, centre_share: float = 0.5):
        self.rng = np.random.default_rng(seed)
        self.images = [v[0] for v in versions]
        self.labels = [v[1] for v in versions]
        self.centres = [v[2] if len(v) > 2 else np.flatnonzero(v[1].ravel() > 0) for v in versions]
        self.centre_share = centre_share

    def cut(self, k: int, y0: int, x0: int) -> tuple[np.ndarray, np.ndarray]:
        """The planes (``PLANES x CROP x CROP``) and labels of version ``k``'s crop at (``y0``, ``x0``),
        the planes computed from the crop and the median's reach around it."""
        from retouch.segment.defects.damage_net import WINDOW, inputs

        r = WINDOW // 2
        ya, xa = max(0, y0 - r), max(0, x0 - r)
        planes = inputs(np.ascontiguousarray(self.images[k][ya : y0 + CROP + r, xa : x0 + CROP + r]))
        return planes[y0 - ya : y0 - ya + CROP, x0 - xa : x0 - xa + CROP].transpose(2, 0, 1), self.labels[k][y0 : y0 + CROP, x0 : x0 + CROP]

    def one(self):
        while True:
            k = int(self.rng.integers(len(self.images)))
            image, labels = self.images[k], self.labels[k]
            h, w = labels.shape
            if h >= CROP and w >= CROP:
                break
        if self.rng.random() < self.centre_share and len(self.centres[k]):
            cy, cx = divmod(int(self.rng.choice(self.centres[k])), w)
            y0 = int(np.clip(cy - CROP // 2 + self.rng.integers(-CROP // 4, CROP // 4 + 1), 0, h - CROP))
            x0 = int(np.clip(cx - CROP // 2 + self.rng.integers(-CROP // 4, CROP // 4 + 1), 0, w - CROP))
        else:
            y0, x0 = int(self.rng.integers(h - CROP + 1)), int(self.rng.integers(w - CROP + 1))
        x, y = self.cut(k, y0, x0)
        if self.rng.random() < 0.5:
            x, y = x[:, :, ::-1], y[:, ::-1]
        if self.rng.random() < 0.5:
            x, y = x[:, ::-1], y[::-1]
        if self.rng.random() < 0.5:
            x, y = x.transpose(0, 2, 1), y.T
        return np.ascontiguousarray(x), np.ascontiguousarray(y)

    def batch(self, n: int, negatives: "_Crops | None" = None, share: float = 0.0):
        pairs = [(negatives if negatives is not None and self.rng.random() < share else self).one() for _ in range(n)]
        return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs]).astype(np.int64)


def fit(file: Path, out: Path, steps: int, seed: int, rate: float, threads: int, init: Path | None, stop: int | None = None,
        hard: float = 1.0, negatives: Path | None = None, share: float = 0.3) -> None:
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    crops = _Crops(_load(file, False), seed)
    print(f"{len(crops.images)} training versions", flush=True)
    hard_crops = None
    if negatives is not None:  # a `share` of each batch: hard negatives, most centred where the network erred
        hard_crops = _Crops(_load(negatives, False, hot=True), seed + 1, centre_share=0.7)
        print(f"{len(hard_crops.images)} hard negatives, {share:.0%} of each batch", flush=True)
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
        x, y = crops.batch(BATCH, hard_crops, share)
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


def bundle(data: Path, folder: Path) -> None:
    """Copy what ``online`` reads into ``folder``, for a machine without ``DATA``: the photos ``prepare``
    trains on (held-out ones left out) and the photos ``negatives`` trains on, as their files (BMP
    written as PNG, the same pixels), film-dust scans 01-04 only (``TUNE_SCANS``), and ``photos.json``
    naming each photo with its index (the seeds and splits of ``prepare`` and ``negatives``)."""
    import json
    import shutil

    from benchmarks._data import cbsd68_images, davis_pairs, grabcut_pairs, read_image
    from benchmarks._realdamage import TUNE_SCANS
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    tested = {path.stem for path in cbsd68_images(data)}
    if len(tested) < 68:
        raise SystemExit(f"bundle needs DATA/cbsd68 (its photos are never trained on); found {len(tested)} photos")

    def copy(path: Path, name: str) -> str:
        if path.suffix.lower() == ".bmp":
            Image.fromarray(read_image(path)).save(folder / f"{name}.png")
            return f"{name}.png"
        shutil.copyfile(path, folder / f"{name}{path.suffix.lower()}")
        return f"{name}{path.suffix.lower()}"

    manifest: dict[str, list] = {"damage": [], "negatives": []}
    grabcut = [(i, pair) for i, pair in enumerate(grabcut_pairs(data)) if Path(pair.image).stem not in tested]
    davis = davis_pairs(data, "tune")
    for i, pair in grabcut:  # as _photos: GrabCut photo i, held out when i % HOLD == 0
        if i % HOLD:
            manifest["damage"].append([i, copy(Path(pair.image), f"g{i:03d}")])
    for j, pair in enumerate(davis[::DAVIS_STEP]):
        if j % HOLD:
            manifest["damage"].append([1000 + j, copy(Path(pair.image), f"d{j:03d}")])
    k = 0  # as prepare_negatives: its k-th photo held out when k % HOLD == 0
    for i, pair in grabcut:
        if i % HOLD:
            if k % HOLD:
                manifest["negatives"].append([2000 + i, next(f for n, f in manifest["damage"] if n == i)])
            k += 1
    for j, pair in enumerate(davis):
        if j % DAVIS_STEP:
            if k % HOLD:
                manifest["negatives"].append([3000 + j, copy(Path(pair.image), f"n{j:03d}")])
            k += 1
    dust = folder / "realdamage" / "film_dust"
    dust.mkdir(parents=True, exist_ok=True)
    for n in TUNE_SCANS:
        shutil.copyfile(Path(data) / "realdamage" / "film_dust" / f"scan{n:02d}.labels.png", dust / f"scan{n:02d}.labels.png")
    (folder / "photos.json").write_text(json.dumps(manifest))
    print(f"{folder}: {len(manifest['damage'])} photos to damage, {len(manifest['negatives'])} clean ones, scans {TUNE_SCANS}")


def _online_versions(folder: Path, rng: np.random.Generator, negative_share: float):
    """Endless (photo, labels) versions for ``online``: a photo of ``folder`` (written by :func:`bundle`) in
    colour or black and white (a third), whole or shrunk to half (``cv2.INTER_AREA``, 30 %), with scene
    lettering, rules and frames drawn in (:func:`scene_marks`, half), then damaged by
    :func:`benchmarks._realdamage.realistic_damage` (film dust of scans 01-04) and scanned (70 %), damaged
    without the scanner (10 %), aged and scanned clean (10 %) or as it is (10 %); or, a share
    ``negative_share`` of the time, one clean version of :func:`_negatives` (sharpened, shrunk, grained,
    a lattice or rails, scene marks). Damage seeds are drawn from ``rng``."""
    import json

    from benchmarks._data import read_image
    from benchmarks._realdamage import TUNE_SCANS, realistic_damage
    from retouch.convert import to_gray, to_rgb, to_uint8

    manifest = json.loads((folder / "photos.json").read_text())

    def load(name: str) -> tuple[np.ndarray, np.ndarray]:
        image = read_image(folder / name)
        image = np.dstack([image] * 3) if image.ndim == 2 else image
        return image, to_rgb(to_uint8(to_gray(image)))

    while True:
        seed = int(rng.integers(1 << 40))
        if rng.random() < negative_share:
            _, name = manifest["negatives"][int(rng.integers(len(manifest["negatives"])))]
            versions = list(_negatives(seed, *load(name)))
            version = versions[int(rng.integers(len(versions)))]
            yield version, np.zeros(version.shape[:2], np.uint8)
            continue
        _, name = manifest["damage"][int(rng.integers(len(manifest["damage"])))]
        image, grey = load(name)
        photo = grey if rng.random() < 1 / 3 else image
        if rng.random() < 0.3:
            photo = cv2.resize(photo, (max(1, photo.shape[1] // 2), max(1, photo.shape[0] // 2)), interpolation=cv2.INTER_AREA)
        if rng.random() < 0.5:
            photo = scene_marks(photo, seed)
        r = rng.random()
        if r < 0.1:  # as it is
            yield photo, np.zeros(photo.shape[:2], np.uint8)
            continue
        damaged, target, labels = realistic_damage(photo, seed, data=folder, scans=TUNE_SCANS, scanner=not 0.2 <= r < 0.3)
        if r < 0.2:  # aged and scanned, no damage
            yield target, np.zeros(photo.shape[:2], np.uint8)
        else:  # damaged, scanned or (0.2 <= r < 0.3) not
            yield damaged, labels


def _online_crops(folder: Path, seed: int, crop: int, per_version: int, negative_share: float, pool: int = 8,
                  hot: tuple[Path, ...] = ()):
    """Endless (planes ``PLANES x crop x crop`` float32, labels ``crop x crop`` int64) crops of
    :func:`_online_versions`, each from one of ``pool`` versions at hand (a version is replaced after
    ``per_version`` crops, so a batch mixes many): half centred near a damaged pixel, flipped and
    transposed at random; the planes computed from the whole version. With ``hot`` (damage networks
    as ONNX), 70 % of a clean version's crops are centred near a pixel that one of them takes for
    damage at 0.3 or more: where those networks err (``negatives`` does the same with stored versions)."""
    from retouch.segment.defects import damage_net
    from retouch.segment.defects.damage_net import inputs

    rng = np.random.default_rng(seed)
    versions = _online_versions(folder, rng, negative_share)

    def mistakes(photo: np.ndarray) -> np.ndarray:
        p = None
        for net in hot:
            damage_net.NET = net
            q, _ = damage_net.damage_map(photo)
            p = q if p is None else np.maximum(p, q)
        return np.flatnonzero(p.ravel() >= 0.3)

    def draw():
        while True:
            photo, labels = next(versions)
            if min(labels.shape) >= crop:
                centres, share = np.flatnonzero(labels.ravel()), 0.5
                if hot and not len(centres):
                    centres, share = mistakes(photo), 0.7
                return [inputs(photo).transpose(2, 0, 1), labels, centres, per_version, share]

    at_hand = [draw() for _ in range(pool)]
    while True:
        k = int(rng.integers(pool))
        planes, labels, centres, left, share = at_hand[k]
        h, w = labels.shape
        if len(centres) and rng.random() < share:
            cy, cx = divmod(int(rng.choice(centres)), w)
            y0 = int(np.clip(cy - crop // 2 + rng.integers(-crop // 4, crop // 4 + 1), 0, h - crop))
            x0 = int(np.clip(cx - crop // 2 + rng.integers(-crop // 4, crop // 4 + 1), 0, w - crop))
        else:
            y0, x0 = int(rng.integers(h - crop + 1)), int(rng.integers(w - crop + 1))
        x, y = planes[:, y0 : y0 + crop, x0 : x0 + crop], labels[y0 : y0 + crop, x0 : x0 + crop]
        if rng.random() < 0.5:
            x, y = x[:, :, ::-1], y[:, ::-1]
        if rng.random() < 0.5:
            x, y = x[:, ::-1], y[::-1]
        if rng.random() < 0.5:
            x, y = x.transpose(0, 2, 1), y.T
        at_hand[k][3] -= 1
        if at_hand[k][3] <= 0:
            at_hand[k] = draw()
        yield np.ascontiguousarray(x, np.float32), np.ascontiguousarray(y, np.int64)


def online(folder: Path, out: Path, minutes: float, seed: int, rate: float, batch: int, crop: int, workers: int,
           nets: list[tuple[int, ...]], hard: float, negative_share: float, device: str, init: list[Path] | None = None,
           hot: tuple[Path, ...] = ()) -> None:
    """Train one network per channel tuple of ``nets`` on the same batches, drawn fresh by ``workers``
    processes (:func:`_online_crops`; nothing is stored): Adam, the learning rate warming up over 200
    steps then falling on a cosine to 0 at ``minutes`` of training (a schedule by time, so a faster
    machine takes more steps; the steps reached are printed), the loss of :func:`fit` with ``hard``.
    ``init``: weights to start each network from (one per network); ``hot``: networks whose mistakes
    on clean versions crops are centred on (:func:`_online_crops`).
    Writes ``out/net{k}.pt`` (and ``net{k}.json``: channels, steps) every minute and at the end."""
    import json

    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(2)

    class Crops(torch.utils.data.IterableDataset):
        def __iter__(self):
            info = torch.utils.data.get_worker_info()
            k = info.id if info is not None else 0
            cv2.setNumThreads(1)
            return _online_crops(folder, seed * 1000 + k, crop, 32, negative_share, hot=hot)

    loader = torch.utils.data.DataLoader(Crops(), batch_size=batch, num_workers=workers, pin_memory=device != "cpu",
                                         persistent_workers=workers > 0, prefetch_factor=2 if workers else None)
    models = [network(c) for c in nets]
    if init:
        if len(init) != len(models):
            raise SystemExit(f"--init names {len(init)} weight files for {len(models)} networks")
        for m, path in zip(models, init):
            m.load_state_dict(torch.load(path))
    models = [m.to(device) for m in models]
    opts = [torch.optim.Adam(m.parameters(), lr=rate) for m in models]
    weight = torch.tensor([1.0, DAMAGE_WEIGHT, DAMAGE_WEIGHT, DAMAGE_WEIGHT], device=device)
    out.mkdir(parents=True, exist_ok=True)
    avg = [None] * len(models)
    t0 = last = None
    step = 0

    def save(done: bool) -> None:
        for k, (m, c) in enumerate(zip(models, nets)):
            torch.save({n: v.cpu() for n, v in m.state_dict().items()}, out / f"net{k}.pt")
            (out / f"net{k}.json").write_text(json.dumps({"channels": list(c), "steps": step, "batch": batch, "crop": crop,
                                                          "seed": seed, "minutes": minutes, "done": done}))
        print(f"step {step}: loss " + ", ".join(f"{a:.4f}" for a in avg) + f" ({time.perf_counter() - t0:.0f} s)", flush=True)

    for x, y in loader:
        if t0 is None:
            t0 = last = time.perf_counter()
            print(f"first batch; training {len(models)} networks for {minutes} minutes", flush=True)
        frac = (time.perf_counter() - t0) / (60 * minutes)
        if frac >= 1:
            break
        lr = rate * min(1.0, (step + 1) / 200) * 0.5 * (1 + math.cos(math.pi * frac))
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        for k, (m, opt) in enumerate(zip(models, opts)):
            for g in opt.param_groups:
                g["lr"] = lr
            logits = m(x)
            per = torch.nn.functional.cross_entropy(logits, y, reduction="none")
            w = weight[y]
            if hard > 1:
                w = w * torch.where((y == 0) & (logits.detach().softmax(1)[:, 0] < 0.5), hard, 1.0)
            loss = (per * w).sum() / w.sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            value = float(loss.detach()) if step % 20 == 0 else None
            if value is not None:
                avg[k] = value if avg[k] is None else 0.9 * avg[k] + 0.1 * value
        step += 1
        if time.perf_counter() - last > 60:
            last = time.perf_counter()
            save(False)
    save(True)


def export(net_file: Path, file: Path) -> None:
    import json

    import torch

    about = net_file.with_suffix(".json")  # written by online beside its weights
    channels = tuple(json.loads(about.read_text())["channels"]) if about.exists() else CHANNELS
    net = network(channels)
    net.load_state_dict(torch.load(net_file))
    net.eval()
    from retouch.segment.defects.damage_net import PLANES

    torch.onnx.export(net, torch.zeros(1, PLANES, 64, 64), str(file), input_names=["planes"], output_names=["logits"],
                      opset_version=11, dynamic_axes={"planes": {2: "h", 3: "w"}, "logits": {2: "h", 3: "w"}}, dynamo=False)
    print(f"wrote {file}")


def evaluate(file: Path, onnx: Path, every: int = 1, negatives: Path | None = None) -> None:
    from scipy import ndimage as ndi

    from retouch.segment.defects import damage_net, detectors

    damage_net.NET = onnx
    thresholds = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)
    if negatives is not None:
        marked = np.zeros((2, len(thresholds)))
        held = _load(negatives, True)
        for img, _ in held:
            p, c = damage_net.damage_map(img)
            marked[0] += [float((p >= t).mean()) for t in thresholds]
            marked[1] += [float(((p >= t) & ((c != 3) | (p >= 0.9))).mean()) for t in thresholds]
        for k, what in enumerate(("", ", losses only at 0.9")):
            print(f"held-out hard negatives ({len(held)}) marked{what}: " +
                  ", ".join(f"{t:.2f}: {100 * m / len(held):.3f} %" for t, m in zip(thresholds, marked[k])), flush=True)
    rules = {"kept as retouch.segment.damage keeps them": lambda p, t, c: detectors.found(p, t),
             "losses only where the network is sure of them (0.9)": lambda p, t, c: (p >= t) & ((c != 3) | (p >= 0.9)),
             "groups of 6 px or more": lambda p, t, c: damage_net.clean_up(p, t, min_pixels=6)}
    counts = np.zeros((len(rules), len(thresholds), 4))
    clean = np.zeros((len(rules), len(thresholds)))
    n_clean = 0
    for img, labels in _load(file, True)[::every] if every else []:
        dmg, category = damage_net.damage_map(img)
        truth = labels > 0
        near = ndi.distance_transform_edt(~truth) <= 2 if truth.any() else None
        n_clean += not truth.any()
        for r, rule in enumerate(rules.values()):
            for j, t in enumerate(thresholds):
                det = rule(dmg, t, category)
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
    a = sub.add_parser("negatives")
    a.add_argument("--data", type=Path, required=True)
    a.add_argument("--file", type=Path, required=True)
    a.add_argument("--onnx", type=Path, help="the network whose mistakes crops are centred on (default: the shipped one)")
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
    a.add_argument("--negatives", type=Path, help="hard negatives written by the negatives command, mixed into each batch")
    a.add_argument("--share", type=float, default=0.3, help="share of each batch taken from --negatives")
    a = sub.add_parser("bundle", help="copy the training photos and scans 01-04 to a folder, for online on another machine")
    a.add_argument("--data", type=Path, required=True)
    a.add_argument("--folder", type=Path, required=True)
    a = sub.add_parser("online", help="train on damage drawn fresh for every batch by worker processes")
    a.add_argument("--folder", type=Path, required=True, help="written by bundle")
    a.add_argument("--out", type=Path, required=True, help="folder for net0.pt, net1.pt, ... and their .json")
    a.add_argument("--minutes", type=float, required=True)
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--rate", type=float, default=3e-3)
    a.add_argument("--batch", type=int, default=64)
    a.add_argument("--crop", type=int, default=96)
    a.add_argument("--workers", type=int, default=2)
    a.add_argument("--nets", default="8,16,32,48", help="channel tuples separated by '/', one network each")
    a.add_argument("--hard", type=float, default=4.0)
    a.add_argument("--negatives", type=float, default=0.3, help="share of versions that are clean hard negatives")
    a.add_argument("--device", default="cpu")
    a.add_argument("--init", help="weights to start from, one .pt per network, separated by commas")
    a.add_argument("--hot", help="damage networks (.onnx, separated by commas) whose mistakes on clean versions crops are centred on")
    a = sub.add_parser("export")
    a.add_argument("--net", type=Path, required=True)
    a.add_argument("--file", type=Path, required=True)
    a = sub.add_parser("evaluate")
    a.add_argument("--file", type=Path, required=True)
    a.add_argument("--onnx", type=Path, required=True)
    a.add_argument("--every", type=int, default=1, help="only every Nth held-out version (0: none)")
    a.add_argument("--negatives", type=Path, help="also the share of the held-out hard negatives marked")
    args = ap.parse_args(argv)
    if args.command == "prepare":
        prepare(args.data, args.file, args.scene)
    elif args.command == "negatives":
        prepare_negatives(args.data, args.file, args.onnx)
    elif args.command == "fit":
        fit(args.file, args.out, args.steps, args.seed, args.rate, args.threads, args.init, args.stop, args.hard, args.negatives, args.share)
    elif args.command == "bundle":
        bundle(args.data, args.folder)
    elif args.command == "online":
        nets = [tuple(int(c) for c in n.split(",")) for n in args.nets.split("/")]
        online(args.folder, args.out, args.minutes, args.seed, args.rate, args.batch, args.crop, args.workers, nets, args.hard,
               args.negatives, args.device, [Path(p) for p in args.init.split(",")] if args.init else None,
               tuple(Path(p) for p in args.hot.split(",")) if args.hot else ())
    elif args.command == "export":
        export(args.net, args.file)
    else:
        evaluate(args.file, args.onnx, args.every, args.negatives)


if __name__ == "__main__":
    main()
