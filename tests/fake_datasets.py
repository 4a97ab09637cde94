"""Small fake copies of the real datasets in their original formats, as torchvision's own
tests do: IDX files for the MNIST family, python-pickled batches for CIFAR-10."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import pickle
import struct
from pathlib import Path

import http.server

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


class _Files(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; ``delay`` seconds between 64 KiB pieces (a slow network)."""

    delay = 0.0

    def log_message(self, *args):
        pass

    def copyfile(self, source, outputfile):
        import time
        while True:
            piece = source.read(64 * 1024)
            if not piece:
                break
            outputfile.write(piece)
            time.sleep(self.delay)


@contextlib.contextmanager
def mirror(folder: Path, delay: float = 0.0):
    """A local HTTP server over ``folder``: the download path without the network.
    Yields its base URL."""
    import functools
    import threading
    handler = functools.partial(type("Slow", (_Files,), {"delay": delay}),
                                directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def serve_fake_mnist(folder: Path, train: int = 40, test: int = 8, seed: int = 1):
    """Fake MNIST .gz files in ``folder``; the (file name, MD5) list a RealDataset needs."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for name, shape, high in (("train-images-idx3-ubyte", (train, 28, 28), 256),
                              ("train-labels-idx1-ubyte", (train,), 10),
                              ("t10k-images-idx3-ubyte", (test, 28, 28), 256),
                              ("t10k-labels-idx1-ubyte", (test,), 10)):
        data = gzip.compress(idx_bytes(rng.integers(0, high, shape)), compresslevel=0)
        (folder / f"{name}.gz").write_bytes(data)
        files.append((f"{name}.gz", hashlib.md5(data).hexdigest()))
    return tuple(files)
