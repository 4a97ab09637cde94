"""The user's own data: CSV, NPZ and MNIST-format IDX files from disk (numpy, no torch).

`inspect_data` reads just enough to know the example shape, the number of classes
and the task, and is cached by (path, size, mtime, label) because the validator
calls it on every edit; `load_data` returns the arrays. Every problem is a
`DataFileError` in plain words (which row, which column, what was expected).
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data_readers import DataFileError, csv_columns, idx_folder, idx_pair, read_csv, read_npz

MAX_CLASSES = 1000  # integer labels beyond this are treated as regression targets
MAX_CSV_BYTES = 512 * 2**20  # text parsing of more takes minutes: NPZ is the format for that

__all__ = ["DataFileError", "DataInfo", "csv_columns", "inspect_data", "load_data"]


@dataclass(frozen=True)
class DataInfo:
    shape: tuple  # one example: (features,) or (1, H, W)
    classes: int  # classes (or 1 target for regression)
    task: str  # "classes" or "regression"
    samples: int
    # class i's label in the file where it is not simply i: text labels ("cat"), or
    # numbers other than 0..C-1 ("3", "7", "9"); () otherwise
    class_names: tuple[str, ...] = ()


_cache: dict[tuple, tuple[DataInfo, np.ndarray, np.ndarray]] = {}
MAX_NAME = 40  # characters of a label kept as its class's name


def _key(path: Path, label: str) -> tuple:
    stat = path.stat()
    return (str(path.resolve()), stat.st_size, stat.st_mtime_ns, label)


def inspect_data(path: str, label: str = "") -> DataInfo:
    """Shape, classes and task of a data file (cached)."""
    return _read(path, label)[0]


def load_data(path: str, label: str = "") -> tuple[np.ndarray, np.ndarray]:
    """(x, y): x float32 (N, *shape); y int64 labels 0..C-1, or float32 (N, 1) targets."""
    _, x, y = _read(path, label)
    return x, y


def _read(path: str, label: str):
    p = Path(path)
    if not str(path):
        raise DataFileError("choose a data file (CSV, NPZ or an MNIST IDX file or folder)")
    if not p.exists():
        raise DataFileError(f"{path}: no such file")
    key = _key(p, label)
    if key not in _cache:
        x, (y, names) = _parse(p, label)
        _cache.clear()  # keep one dataset: they can be large
        _cache[key] = (_describe(x, y, p, names), x, y)
    return _cache[key]


def _parse(p: Path, label: str) -> tuple[np.ndarray, tuple[np.ndarray, tuple[str, ...]]]:
    x, y = _parse_raw(p, label)
    return x, _labels(y, str(p))


def _parse_raw(p: Path, label: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        if p.is_dir():
            return idx_folder(p)
        info = p.stat()
        if not stat.S_ISREG(info.st_mode):  # a FIFO or device would hang or never end
            raise DataFileError(f"{p} is not a regular file (a pipe, socket or device)")
        if info.st_size == 0:
            raise DataFileError(f"{p} is empty")
        kind = _kind(p)
        if kind == "npz":
            return read_npz(p)
        if kind == "idx":
            return idx_pair(p)
        if info.st_size > MAX_CSV_BYTES:
            raise DataFileError(f"{p} is {info.st_size / 2**20:.0f} MiB: CSV files up to "
                                f"{MAX_CSV_BYTES // 2**20} MiB are read (use NPZ for more)")
        return read_csv(p, label)
    except PermissionError:
        raise DataFileError(f"{p}: permission denied") from None
    except (OSError, EOFError) as exc:  # EOFError: a truncated .gz
        raise DataFileError(f"{p}: cannot read ({getattr(exc, 'strerror', None) or exc})"
                            ) from None


def _kind(p: Path) -> str:
    """npz, idx or csv: by extension, then by the IDX magic number (not by "idx"
    anywhere in the name: sensor_idx.csv is a CSV)."""
    name = p.name.lower()
    if name.endswith(".npz"):
        return "npz"
    if name.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    if name.endswith(("-ubyte", ".ubyte", "-ubyte.gz", ".idx", ".idx.gz")):
        return "idx"
    with open(p, "rb") as f:
        head = f.read(3)
    return "idx" if head == b"\0\0\x08" or name.endswith(".gz") else "csv"


def _labels(y: np.ndarray, where: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Integer-valued labels become classes 0..C-1; other numbers regression targets.
    Also each class's label in the file where it is not its number (`DataInfo`)."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise DataFileError(f"{where}: labels must be one value per example, got shape "
                            f"{tuple(y.shape)}")
    texts: tuple[str, ...] = ()
    if y.dtype.kind in "US":  # text labels: one class per distinct text, in sorted order
        values, y = np.unique(y, return_inverse=True)
        texts = tuple(str(v)[:MAX_NAME] for v in values)
    if y.dtype.kind not in "iubf":
        raise DataFileError(f"{where}: labels must be numbers or text, got {y.dtype}")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        bad = int(np.flatnonzero(~np.isfinite(y))[0])
        raise DataFileError(f"{where}: label of example {bad + 1} is {y[bad]} (NaN and "
                            f"infinite labels cannot be learned)")
    if y.dtype.kind in "iub" or (y.dtype.kind == "f" and np.all(np.isfinite(y))
                                 and np.all(y == np.round(y))):
        values = np.unique(y)
        if len(values) <= MAX_CLASSES:
            if not texts and not np.array_equal(values, np.arange(len(values))):
                texts = tuple(f"{v:g}" for v in values.astype(np.float64))  # 3, 7, 9
            return np.searchsorted(values, y).astype(np.int64), texts
    return y.astype(np.float32), ()


def _describe(x: np.ndarray, y: np.ndarray, p: Path, names: tuple[str, ...]) -> DataInfo:
    if len(x) < 2:
        raise DataFileError(f"{p} has {len(x)} example(s): at least 2 are needed")
    if x[0].size == 0:
        raise DataFileError(f"{p}: the examples have no features (shape "
                            f"{tuple(x.shape[1:])})")
    if y.dtype == np.int64:
        if int(y.max()) == 0:
            raise DataFileError(f"{p}: every example has the same label: a classifier "
                                f"needs at least 2 classes")
        return DataInfo(tuple(x.shape[1:]), int(y.max()) + 1, "classes", len(x), names)
    return DataInfo(tuple(x.shape[1:]), 1, "regression", len(x))
