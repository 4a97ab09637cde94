"""Read the real image datasets from the data root, in torchvision's folder layout.

The MNIST family is IDX files (extracted or still ``.gz``) in ``<root>/MNIST/raw``;
CIFAR-10 is its python batches in ``<root>/cifar-10-batches-py``. Images come back as
uint8 (N, C, H, W) arrays: they go to the training device as bytes, a quarter of the
float32 size, and are scaled and normalised there batch by batch.

CIFAR's batches are pickles. They are read by an unpickler that builds numpy arrays
and nothing else: any other class named in the file is refused, never imported or run.
"""

from __future__ import annotations

import codecs
import io
import math
import pickle
import pickletools
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
        labels.append(batch["labels"])
    return _checked(d, np.concatenate(images), np.concatenate(labels), where / names[0])


def _checked(d: RealDataset, images: np.ndarray, labels: np.ndarray, path: Path):
    if len(images) == 0:
        raise DataFileError(f"{path} holds no images")
    if images.shape[1:] != d.shape or images.dtype != np.uint8:
        raise DataFileError(f"{path}: images of shape {images.shape[1:]} where {d.label} "
                            f"has {d.shape}")
    if len(images) != len(labels) or labels.ndim != 1:
        raise DataFileError(f"{path}: {len(images)} images but {len(labels)} labels")
    if len(labels) and (labels.min() < 0 or labels.max() > 9):
        raise DataFileError(f"{path}: labels outside 0..9")
    return np.array(images, order="C"), labels.astype(np.int64)  # a writable copy


MAX_PICKLE_ITEMS = 200_000  # a batch's 10000 labels and file names, with room to spare


class _NdarrayType:
    """What ``numpy.ndarray`` unpickles to: a name for `_reconstruct`'s first
    argument, never callable (``ndarray(shape, dtype, buffer, strides=0)`` would make a
    zero-stride view of a few bytes that later expands to any size)."""


def _reconstruct(subtype, shape, dtype):
    """numpy's `_reconstruct`, which allocates ``shape`` at once: only the empty
    placeholder a pickled array starts from (its data comes with ``__setstate__``,
    whose size numpy checks against the bytes in the file)."""
    if subtype is not _NdarrayType or not isinstance(shape, tuple) or \
            any(not isinstance(n, int) or n < 0 for n in shape) or math.prod(shape) > 1:
        raise DataFileError("it builds an array in a way a CIFAR batch never does "
                            "(refused)")
    return np.ndarray(shape, _plain_dtype(dtype))


def _plain_dtype(spec, *args):
    """A plain number dtype (u1, i8, f4...): no objects, records or sub-arrays, whose
    size would not be bounded by the bytes in the file."""
    try:
        dtype = np.dtype(spec)
    except TypeError:
        raise DataFileError(f"it names the dtype {spec!r} (refused)") from None
    if dtype.kind not in "biuf" or dtype.subdtype is not None or dtype.fields:
        raise DataFileError(f"it holds a {dtype} array, which a CIFAR batch never does "
                            "(refused)")
    return dtype


class _ArraysOnly(pickle.Unpickler):
    """Builds numpy arrays of plain numbers, dicts, lists and strings; refuses every
    other class and every way of making an array bigger than the file."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"): _reconstruct,
               ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
               ("numpy", "ndarray"): _NdarrayType, ("numpy", "dtype"): _plain_dtype,
               ("_codecs", "encode"): codecs.encode}  # how protocol 2 spells bytes

    def find_class(self, module: str, name: str):
        if (module, name) in self.ALLOWED:
            return self.ALLOWED[(module, name)]
        raise DataFileError(f"it names {module}.{name}, which a CIFAR batch never does "
                            f"(refused; nothing in it was run)")


def _items_bounded(raw: bytes) -> None:
    """Refuse a pickle of more than `MAX_PICKLE_ITEMS` operations before building it
    (shared references nested a few levels deep make a tiny file expand without end
    once its lists are walked)."""
    for i, _ in enumerate(pickletools.genops(raw)):
        if i > MAX_PICKLE_ITEMS:
            raise DataFileError(f"it holds over {MAX_PICKLE_ITEMS:,} objects")


def _labels(batch: dict, rows: int, path: Path) -> np.ndarray:
    """The batch's labels: exactly ``rows`` whole numbers 0..9, nothing nested."""
    labels = batch["labels"]
    if not isinstance(labels, list) or len(labels) != rows or \
            any(type(v) is not int or not 0 <= v <= 9 for v in labels):
        raise DataFileError(f"{path}: 'labels' should be {rows} whole numbers 0..9, "
                            "one for each image")
    return np.array(labels, np.int64)


def _read_cifar_batch(path: Path) -> dict:
    try:
        raw = read_regular_file(path, MAX_BATCH_BYTES)
        _items_bounded(raw)
        batch = _ArraysOnly(io.BytesIO(raw), encoding="latin1").load()
    except DataFileError as exc:
        raise DataFileError(f"{path}: {exc}") from None
    except (OSError, ValueError, EOFError, pickle.UnpicklingError, AttributeError,
            IndexError, TypeError, KeyError, RecursionError, MemoryError) as exc:
        raise DataFileError(f"{path} is not a CIFAR-10 python batch ({exc})") from None
    data = batch.get("data") if isinstance(batch, dict) else None
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or \
            data.shape[1] != 3072 or "labels" not in batch:
        raise DataFileError(f"{path} is not a CIFAR-10 python batch (no 'data' of "
                            f"N x 3072 bytes and 'labels')")
    return {"data": data, "labels": _labels(batch, len(data), path)}
