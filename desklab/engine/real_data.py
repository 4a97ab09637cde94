"""Read the real image datasets from the data root, in torchvision's folder layout.

The MNIST family is IDX files (extracted or still ``.gz``) in ``<root>/MNIST/raw``;
CIFAR-10 is its python batches in ``<root>/cifar-10-batches-py``. Images come back as
uint8 (N, C, H, W) arrays: they go to the training device as bytes, a quarter of the
float32 size, and are scaled and normalised there batch by batch.

CIFAR's batches are pickles. They are read by an unpickler that builds numpy arrays
and nothing else: any other class named in the file is refused, never imported or run.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np

from ..design.catalog.real_data import CIFAR_BATCHES, REAL_DATASETS, RealDataset
from ..design.data_readers import DataFileError, read_idx
from ..errors import DeskLabError
from ..util.files import read_regular_file

MAX_BATCH_BYTES = 64 * 2**20  # one CIFAR batch is 31 MB


class DatasetMissing(DeskLabError):
    """A real dataset is not in the data folder (and was not downloaded)."""


def folder_of(d: RealDataset, root: Path) -> Path:
    return Path(root) / d.folder


def missing_files(d: RealDataset, root: Path) -> list[str]:
    """The files ``d`` still lacks under ``root`` (an empty list: ready to load)."""
    where = folder_of(d, root)
    if d.fmt == "cifar":
        return [name for name, _ in CIFAR_BATCHES if not (where / name).is_file()]
    return [gz for gz, _ in d.files
            if not (where / gz).is_file() and not (where / gz[:-3]).is_file()]


def describe_missing(d: RealDataset, root: Path, why: str = "") -> str:
    files = ", ".join(name for name, _ in d.files)
    return (f"{d.label} is not in {folder_of(d, root)}{f' ({why})' if why else ''}: "
            f"put {files} there (torchvision's layout), or choose another data folder")


def load_arrays(name: str, root: Path, samples: int = 0, test_samples: int = 0):
    """(x_train, y_train, x_test, y_test): uint8 (N, C, H, W) images, int64 labels.

    ``samples`` / ``test_samples`` keep the first N of each split (0 = all).
    """
    d = REAL_DATASETS[name]
    if missing_files(d, root):
        raise DatasetMissing(describe_missing(d, root))
    reader = _cifar_split if d.fmt == "cifar" else _idx_split
    x_train, y_train = reader(d, root, train=True)
    x_test, y_test = reader(d, root, train=False)
    if samples:
        x_train, y_train = x_train[:samples], y_train[:samples]
    if test_samples:
        x_test, y_test = x_test[:test_samples], y_test[:test_samples]
    return x_train, y_train, x_test, y_test


def _idx_split(d: RealDataset, root: Path, train: bool):
    where = folder_of(d, root)
    prefix = "train" if train else "t10k"
    arrays = []
    for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        plain = where / f"{prefix}-{kind}"
        arrays.append(read_idx(plain if plain.is_file() else where / f"{plain.name}.gz"))
    images, labels = arrays
    return _checked(d, images[:, None], labels, where / f"{prefix}-images-idx3-ubyte")


def _cifar_split(d: RealDataset, root: Path, train: bool):
    where = folder_of(d, root)
    names = [n for n, _ in CIFAR_BATCHES if n.startswith("data_batch") == train]
    images, labels = [], []
    for name in names:
        batch = _read_cifar_batch(where / name)
        images.append(batch["data"].reshape(-1, 3, 32, 32))
        labels.append(np.asarray(batch["labels"]))
    return _checked(d, np.concatenate(images), np.concatenate(labels), where / names[0])


def _checked(d: RealDataset, images: np.ndarray, labels: np.ndarray, path: Path):
    if images.shape[1:] != d.shape or images.dtype != np.uint8:
        raise DataFileError(f"{path}: images of shape {images.shape[1:]} where {d.label} "
                            f"has {d.shape}")
    if len(images) != len(labels) or labels.ndim != 1:
        raise DataFileError(f"{path}: {len(images)} images but {len(labels)} labels")
    if len(labels) and (labels.min() < 0 or labels.max() > 9):
        raise DataFileError(f"{path}: labels outside 0..9")
    return np.array(images, order="C"), labels.astype(np.int64)  # a writable copy


class _ArraysOnly(pickle.Unpickler):
    """Builds numpy arrays, dicts, lists and strings; refuses every other class."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray",
               "_reconstruct"), ("numpy", "ndarray"), ("numpy", "dtype"),
               ("_codecs", "encode")}  # how protocol 2 spells bytes: text -> bytes, no more

    def find_class(self, module: str, name: str):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise DataFileError(f"it names {module}.{name}, which a CIFAR batch never does "
                            f"(refused; nothing in it was run)")


def _read_cifar_batch(path: Path) -> dict:
    try:
        raw = read_regular_file(path, MAX_BATCH_BYTES)
        batch = _ArraysOnly(io.BytesIO(raw), encoding="latin1").load()
    except DataFileError as exc:
        raise DataFileError(f"{path}: {exc}") from None
    except (OSError, ValueError, EOFError, pickle.UnpicklingError, AttributeError,
            IndexError, TypeError) as exc:
        raise DataFileError(f"{path} is not a CIFAR-10 python batch ({exc})") from None
    if not isinstance(batch, dict) or not isinstance(batch.get("data"), np.ndarray) or \
            "labels" not in batch or batch["data"].ndim != 2 or batch["data"].shape[1] != 3072:
        raise DataFileError(f"{path} is not a CIFAR-10 python batch (no 'data' of "
                            f"N x 3072 bytes and 'labels')")
    return batch
