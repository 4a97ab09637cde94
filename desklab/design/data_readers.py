"""Readers of the three data-file formats: CSV, NPZ and MNIST-format IDX (numpy only).

Each returns (x, raw labels) or raises `DataFileError` naming the row, column or
array at fault; ``datafile`` routes a path to its reader and turns the labels into
classes or regression targets. Reads are bounded: a .gz can expand without limit.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ..errors import DeskLabError

MAX_IDX_BYTES = 1024 * 2**20
FLOAT32_MAX = float(np.finfo(np.float32).max)


class DataFileError(DeskLabError, ValueError):
    """A data file that cannot be used; the message says why."""


def read_csv(p: Path, label: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataFileError(f"{p} is not a text (CSV) file") from None
    try:
        rows = [r for r in csv.reader(text.splitlines()) if any(c.strip() for c in r)]
    except csv.Error as exc:  # e.g. a field over the csv module's 128 KiB limit
        raise DataFileError(f"{p} is not a CSV file the reader accepts ({exc})") from None
    if not rows:
        raise DataFileError(f"{p} is empty")
    header = rows[0]
    has_header = any(not _is_number(c) for c in header)
    names = [h.strip() for h in header] if has_header else [str(i) for i in range(len(header))]
    body = rows[1:] if has_header else rows
    if not body:
        raise DataFileError(f"{p} has a header but no data rows")
    if label == "":
        column = len(names) - 1  # the last column, by default
    elif label in names:
        column = names.index(label)
    elif label.isdigit() and int(label) < len(names):
        column = int(label)
    else:
        raise DataFileError(f"{p}: no column {label!r} (columns: {', '.join(names)})")
    if len(names) < 2:
        raise DataFileError(f"{p}: needs at least one feature column and a label column")
    features = np.empty((len(body), len(names) - 1), np.float32)
    labels = []
    for r, row in enumerate(body):
        line = r + (2 if has_header else 1)
        if len(row) != len(names):
            raise DataFileError(f"{p}, line {line}: {len(row)} values, expected {len(names)}")
        values = [v.strip() for v in row]
        raw_label = values.pop(column)
        for c, v in enumerate(values):
            if not _is_number(v):
                col = [n for i, n in enumerate(names) if i != column][c]
                raise DataFileError(f"{p}, line {line}, column {col!r}: {v!r} is not a number")
            value = float(v)
            if abs(value) > FLOAT32_MAX:  # would become inf, and "diverge" at step 0
                col = [n for i, n in enumerate(names) if i != column][c]
                raise DataFileError(f"{p}, line {line}, column {col!r}: {value:g} is beyond "
                                    f"the float32 range (about ±3.4e38)")
            features[r, c] = value
        if raw_label == "" or (not _is_number(raw_label) and is_float_text(raw_label)):
            raise DataFileError(f"{p}, line {line}: the label {raw_label!r} is missing, NaN "
                                f"or infinite")
        labels.append(raw_label)
    numeric = all(_is_number(v) for v in labels)
    # text labels stay text: ``datafile`` numbers them and keeps them as the classes' names
    y = np.array([float(v) for v in labels]) if numeric else np.array(labels)
    return features, y


def is_float_text(text: str) -> bool:
    """Parses as a float at all (nan and inf included)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_number(text: str) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    return np.isfinite(value)


def read_npz(p: Path) -> tuple[np.ndarray, np.ndarray]:
    # RuntimeError: an encrypted member; NotImplementedError: a compression zipfile lacks
    unreadable = (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile, RuntimeError,
                  NotImplementedError)
    with open(p, "rb") as f:  # ours to close, also when numpy fails half-way
        try:
            data = np.load(f, allow_pickle=False)  # arrays only: never unpickle objects
        except unreadable as exc:
            raise DataFileError(f"{p} is not a readable NPZ file ({exc})") from None
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise DataFileError(f"{p} holds a single array, not an NPZ archive of X and y")
        with data:
            names = {n.lower(): n for n in data.files}
            if "x" not in names or "y" not in names:
                raise DataFileError(f"{p}: needs arrays named X and y (found: "
                                    f"{', '.join(data.files) or 'none'})")
            try:  # members are read (and checked) only now
                x, y = data[names["x"]], data[names["y"]]
            except unreadable as exc:
                raise DataFileError(f"{p}: an array in it cannot be read ({exc})") from None
    if not isinstance(x, np.ndarray) or not isinstance(y, np.ndarray):
        raise DataFileError(f"{p}: X and y must be .npy arrays inside the archive (as "
                            f"numpy.savez writes them)")
    if x.ndim == 0 or y.ndim == 0:
        raise DataFileError(f"{p}: X and y must hold one entry per example, got shapes "
                            f"{tuple(x.shape)} and {tuple(y.shape)}")
    if x.dtype.kind not in "iubf":
        raise DataFileError(f"{p}: X must be numbers, got {x.dtype}")
    if len(x) != len(y):
        raise DataFileError(f"{p}: X has {len(x)} examples but y has {len(y)}")
    x = x.astype(np.float32)
    if x.ndim == 3:  # (N, H, W) images: one channel
        x = x[:, None]
    if x.ndim not in (2, 4):
        raise DataFileError(f"{p}: X must be (N, features), (N, H, W) or (N, C, H, W), "
                            f"got {tuple(x.shape)}")
    if not np.isfinite(x).all():
        raise DataFileError(f"{p}: X contains NaN or infinite values")
    return x, y


def read_idx(p: Path) -> np.ndarray:
    """An IDX file of unsigned bytes (gzipped or not), checked and bounded: a FIFO, a
    cut-short ``.gz`` or a header naming more values than the file holds is a
    `DataFileError`, never a hang, an EOFError or an allocation of the header's size."""
    from ..util.files import read_regular_file
    try:
        raw = read_regular_file(p, MAX_IDX_BYTES)
        if p.name.endswith(".gz"):  # bounded: a .gz can expand without limit
            raw = gzip.GzipFile(fileobj=io.BytesIO(raw)).read(MAX_IDX_BYTES + 1)
    except (EOFError, zlib.error) as exc:
        raise DataFileError(f"{p} is cut short or damaged ({exc})") from None
    except ValueError as exc:  # read_regular_file's plain reasons
        raise DataFileError(f"{p} {exc}") from None
    except OSError as exc:  # BadGzipFile, or the file system
        raise DataFileError(f"{p}: {exc.strerror or exc}") from None
    if len(raw) > MAX_IDX_BYTES:
        raise DataFileError(f"{p} holds over {MAX_IDX_BYTES // 2**20} MiB of pixels")
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataFileError(f"{p} is not an IDX file of unsigned bytes (bad magic number)")
    dims = raw[3]
    if dims == 0 or len(raw) < 4 + 4 * dims:
        raise DataFileError(f"{p}: the IDX header is cut short")
    shape = struct.unpack(">" + "I" * dims, raw[4:4 + 4 * dims])
    data = np.frombuffer(raw, np.uint8, offset=4 + 4 * dims)
    if any(n > MAX_IDX_BYTES for n in shape):
        raise DataFileError(f"{p}: the IDX header's sizes {shape} cannot be right")
    if data.size != math.prod(shape):
        raise DataFileError(f"{p}: header says {shape} but holds {data.size} values")
    return data.reshape(shape)


def idx_pair(images: Path) -> tuple[np.ndarray, np.ndarray]:
    """An images file; its labels file is found by the MNIST naming convention."""
    pixels = read_idx(images)  # first: a broken images file is the thing to report
    name = images.name
    candidates = [name.replace("images-idx3", "labels-idx1"), name.replace("images", "labels")]
    labels = next((images.with_name(c) for c in candidates
                   if c != name and images.with_name(c).exists()), None)
    if labels is None:
        raise DataFileError(f"{images}: no matching labels file next to it "
                            f"(expected {candidates[0]})")
    return _idx_arrays(pixels, read_idx(labels), images)


def idx_folder(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    images = sorted(f for f in folder.iterdir() if "images" in f.name and "idx3" in f.name)
    train = [f for f in images if f.name.startswith("train")] or images
    if not train:
        raise DataFileError(f"{folder}: no MNIST images file (*images-idx3-ubyte) in it")
    return idx_pair(train[0])


def _idx_arrays(x: np.ndarray, y: np.ndarray, p: Path):
    if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
        raise DataFileError(f"{p}: images {tuple(x.shape)} and labels {tuple(y.shape)} do "
                            f"not match (expected (N, H, W) and (N,))")
    return x[:, None].astype(np.float32) / 255.0, y.astype(np.int64)


def csv_columns(path: str) -> list[str]:
    """The header names of a CSV file (empty when it has no header row)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            first = next(csv.reader(f), [])
    except (OSError, UnicodeDecodeError):
        return []
    return [c.strip() for c in first] if any(not _is_number(c) for c in first) else []

