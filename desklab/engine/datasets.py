"""Datasets named in the catalog, generated offline and seeded.

`make_dataset` returns train / validation tensors already preprocessed with
statistics of the training split only (so validation stays honest).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch

from ..design import DATASETS, NetworkDesign
from ..design.catalog import dataset_task
from ..util.data_root import data_root
from .image_batches import ImagePrep, channel_stats
from .real_data import load_arrays


@dataclass(frozen=True)
class Dataset:
    """Train / validation split as tensors on the CPU.

    ``x_*`` is (N, *shape) float32 (uint8 with a ``prep`` for the real image sets);
    ``y_*`` is (N,) int64 for classes or (N, targets) float32 for regression.
    """

    def train_batch(self, x: torch.Tensor) -> torch.Tensor:
        """A training batch as the network sees it (augmented when the design says)."""
        return self.prep.for_train(x) if self.prep is not None else x

    def eval_batch(self, x: torch.Tensor) -> torch.Tensor:
        """A validation or probe batch as the network sees it."""
        return self.prep.for_eval(x) if self.prep is not None else x

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    classes: int
    task: str
    # Real image sets keep x as uint8 (N, C, H, W); `prep` turns batches into float on
    # the device (None: x is already float32 and preprocessed).
    prep: ImagePrep | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])


def _moons(rng, n, p):
    from sklearn.datasets import make_moons
    return make_moons(n, noise=p["noise"], random_state=int(rng.integers(2**31)))


def _circles(rng, n, p):
    from sklearn.datasets import make_circles
    return make_circles(n, noise=p["noise"], factor=0.5,
                        random_state=int(rng.integers(2**31)))


def _blobs(rng, n, p):
    # Cluster spread follows the noise setting (noise 0.1 -> std 1 around centres in a
    # 10-wide box), so "noise" means the same thing across the toy sets.
    from sklearn.datasets import make_blobs
    return make_blobs(n, centers=p["classes"], cluster_std=max(p["noise"] * 10, 1e-3),
                      random_state=int(rng.integers(2**31)))


def _spiral(rng, n, p):
    k = p["classes"]
    y = np.arange(n) % k
    t = rng.uniform(0.0, 1.0, n)
    r = t
    angle = 4.0 * t + 2.0 * np.pi * y / k
    x = np.stack([r * np.sin(angle), r * np.cos(angle)], 1)
    return x + rng.normal(0.0, p["noise"] * 0.2, x.shape), y


def _xor(rng, n, p):
    x = rng.uniform(-1.0, 1.0, (n, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    return x + rng.normal(0.0, p["noise"], x.shape), y


def _gaussian(rng, n, p):
    return rng.standard_normal((n, p["dim"])), rng.integers(0, p["classes"], n)


def _sine(rng, n, p):
    x = rng.uniform(-np.pi, np.pi, (n, 1))
    return x, np.sin(x) + rng.normal(0.0, p["noise"], x.shape)


def _adding(rng, n, p):
    """(N, T, 2): values U(0, 1) and a marker on one step of each half; y their sum."""
    steps = p["length"]
    values = rng.uniform(0.0, 1.0, (n, steps))
    first = rng.integers(0, steps // 2, n)
    second = rng.integers(steps // 2, steps, n)
    marks = np.zeros((n, steps))
    marks[np.arange(n), first] = marks[np.arange(n), second] = 1.0
    y = values[np.arange(n), first] + values[np.arange(n), second]
    return np.stack([values, marks], 2), y[:, None]


def _copy(rng, n, p):
    """(N, T, 2K + 1) one-hot: the symbol (0..K-1), distractors (K..2K-1), the recall
    mark (2K) on the last step; y the first symbol."""
    steps, k = p["length"], p["symbols"]
    y = rng.integers(0, k, n)
    codes = np.empty((n, steps), np.int64)
    codes[:, 0] = y
    codes[:, 1:-1] = rng.integers(k, 2 * k, (n, steps - 2))
    codes[:, -1] = 2 * k
    return np.eye(2 * k + 1)[codes], y


def _bundled(loader):
    def generate(rng, n, p):
        from sklearn import datasets
        bunch = getattr(datasets, loader)()
        return bunch.data[:n], bunch.target[:n]
    return generate


def _digits(rng, n, p):
    from sklearn.datasets import load_digits
    bunch = load_digits()
    order = rng.permutation(len(bunch.target))[:n]
    return bunch.images[order][:, None] / 16.0, bunch.target[order]  # (N, 1, 8, 8) in [0, 1]


def _file(rng, n, p):
    from ..design.datafile import load_data
    x, y = load_data(p["path"], p["label"])
    if n and n < len(x):  # a seeded subset
        keep = rng.permutation(len(x))[:n]
        x, y = x[keep], y[keep]
    return x, (y[:, None] if y.dtype == np.float32 else y)


GENERATORS = {"file": _file, "gaussian": _gaussian, "moons": _moons, "circles": _circles,
              "spiral": _spiral, "xor": _xor, "blobs": _blobs, "sine": _sine,
              "digits": _digits, "adding": _adding, "copy": _copy,
              "iris": _bundled("load_iris"), "wine": _bundled("load_wine"),
              "breast_cancer": _bundled("load_breast_cancer")}


def generate(name: str, params: dict, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Raw (x, y) arrays for catalog dataset ``name``, in a seeded random order."""
    p = DATASETS[name].resolve(params)
    rng = np.random.default_rng(seed)
    x, y = GENERATORS[name](rng, p["samples"], p)
    order = rng.permutation(len(x))
    return np.asarray(x, np.float32)[order], np.asarray(y)[order]


def preprocess(x_train: np.ndarray, x_val: np.ndarray, mode: str):
    """Zero-centre or standardise with the training split's statistics.

    Flat inputs: per feature. Images (N, C, H, W): per channel, as is usual for images;
    per pixel would divide the almost-always-blank corner pixels by ~0 and blow up any
    validation image that has ink there. Sequences (N, T, F): per feature over all steps.
    """
    if mode == "none":
        return x_train, x_val
    axes = {4: (0, 2, 3), 3: (0, 1)}.get(x_train.ndim, (0,))
    mean = x_train.mean(axes, keepdims=True)
    x_train, x_val = x_train - mean, x_val - mean
    if mode == "standardize":
        std = x_train.std(axes, keepdims=True)
        std = np.where(std < 1e-6, 1.0, std)  # a constant feature stays 0 instead of inf
        x_train, x_val = x_train / std, x_val / std
    return x_train, x_val


def make_dataset(design: NetworkDesign, seed: int | None = None) -> Dataset:
    """The design's dataset, split and preprocessed."""
    inp = design.input
    seed = design.train.seed if seed is None else seed
    if "real" in DATASETS[inp.dataset].meta:
        return _real_dataset(design)
    x, y = generate(inp.dataset, inp.params, seed)
    n_val = int(round(len(x) * inp.val_fraction))
    n_train = len(x) - n_val
    x_train, x_val = preprocess(x[:n_train], x[n_train:], inp.preprocess)
    entry = DATASETS[inp.dataset]
    task = dataset_task(entry, inp.params)
    classes = int(entry.meta["classes"](inp.resolved_params()))
    if task == "classes":
        yt = torch.as_tensor(y.astype(np.int64))
    else:
        yt = torch.as_tensor(y.reshape(len(y), -1).astype(np.float32))
    return Dataset(inp.dataset, torch.as_tensor(np.ascontiguousarray(x_train)), yt[:n_train],
                   torch.as_tensor(np.ascontiguousarray(x_val)), yt[n_train:], classes, task)


def _real_dataset(design: NetworkDesign) -> Dataset:
    """A real image set from the data root: uint8 images, the official test split as
    validation, normalisation statistics from the training images only."""
    inp = design.input
    d, p = DATASETS[inp.dataset].meta["real"], inp.resolved_params()
    x_train, y_train, x_val, y_val = load_arrays(inp.dataset, data_root(), p["samples"],
                                                 p["test_samples"])
    mean, std = channel_stats(x_train, inp.preprocess)
    prep = ImagePrep(mean, std, augment=bool(p.get("augment")), flip=d.flip_ok)
    return Dataset(inp.dataset, torch.from_numpy(x_train), torch.from_numpy(y_train),
                   torch.from_numpy(x_val), torch.from_numpy(y_val), 10, "classes", prep)


def shuffled_batches(x: torch.Tensor, y: torch.Tensor, batch_size: int, seed: int,
                     device: torch.device) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless shuffled batches of a fixed size (the last partial batch is dropped, so
    BatchNorm never sees a batch of one). Seeded: the same seed gives the same batches."""
    n = len(x)
    size = min(batch_size, n)
    gen = torch.Generator().manual_seed(seed)
    while True:
        order = torch.randperm(n, generator=gen).to(device, non_blocking=True)
        for start in range(0, n - size + 1, size):
            idx = order[start:start + size]
            yield x[idx], y[idx]
