"""Small fake copies of the real datasets in their original formats, as torchvision's own
tests do: IDX files for the MNIST family, python-pickled batches for CIFAR-10."""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file of unsigned bytes: magic 0x0000 08 <dims>, big-endian sizes, data."""
    header = bytes([0, 0, 8, array.ndim]) + struct.pack(">" + "I" * array.ndim, *array.shape)
    return header + np.ascontiguousarray(array, np.uint8).tobytes()


def write_mnist(root: Path, folder: str = "MNIST", train: int = 256, test: int = 64,
                gz: bool = False, seed: int = 0) -> dict[str, np.ndarray]:
    """Fake ``<root>/<folder>/raw`` files; returns the arrays written."""
    rng = np.random.default_rng(seed)
    raw = Path(root) / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (train, 28, 28)),
              "train-labels-idx1-ubyte": np.arange(train) % 10,
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (test, 28, 28)),
              "t10k-labels-idx1-ubyte": np.arange(test) % 10}
    for name, array in arrays.items():
        data = idx_bytes(array)
        if gz:
            (raw / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (raw / name).write_bytes(data)
    return arrays


def write_cifar(root: Path, per_batch: int = 64, seed: int = 0) -> None:
    """Fake ``<root>/cifar-10-batches-py``: five training batches and a test batch."""
    rng = np.random.default_rng(seed)
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {"data": rng.integers(0, 256, (per_batch, 3072)).astype(np.uint8),
                 "labels": [int(v) for v in rng.integers(0, 10, per_batch)],
                 "batch_label": name}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": list("abcdefghij")}))
