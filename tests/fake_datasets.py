"""Small fake copies of the real datasets in their original formats, as torchvision's own
tests do: IDX files for the MNIST family, python-pickled batches for CIFAR-10."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.server
import os
import pickle
import socketserver
import struct
import threading
import time
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
def _serving(server: socketserver.TCPServer):
    """Serve on a thread until the block ends; yields the base URL."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextlib.contextmanager
def mirror(folder: Path, delay: float = 0.0):
    """A local HTTP server over ``folder``: the download path without the network.
    Yields its base URL."""
    import functools
    handler = functools.partial(type("Slow", (_Files,), {"delay": delay}),
                                directory=str(folder))
    with _serving(http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)) as url:
        yield url


# ---------------------------------------------------------------- damaged MNIST sets

def _half_gz(raw: Path) -> None:
    images = np.random.default_rng(0).integers(0, 256, (8, 28, 28))
    (raw / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(images))[:2000])


def _empty_training_set(raw: Path) -> None:
    (raw / "train-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((0, 28, 28))))
    (raw / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros((0,))))


MNIST_DAMAGE = {  # what replaces the training images: each must be refused in one line
    "half a .gz": _half_gz,
    "a header of (0, 2^32-1, 2^32-1)": lambda raw: (raw / "train-images-idx3-ubyte")
    .write_bytes(bytes([0, 0, 8, 3]) + (0).to_bytes(4, "big") + (2**32 - 1).to_bytes(4, "big")
                 * 2),
    "an empty training set": _empty_training_set,
    "a FIFO": lambda raw: os.mkfifo(raw / "train-images-idx3-ubyte"),
    "not gzip": lambda raw: (raw / "train-images-idx3-ubyte.gz").write_bytes(b"plain"),
}


def write_damaged_mnist(root: Path, what: str) -> None:
    """A small fake MNIST under ``root`` whose training images are damaged as
    ``MNIST_DAMAGE[what]`` says."""
    write_mnist(root, train=8, test=4)
    raw = Path(root) / "MNIST" / "raw"
    (raw / "train-images-idx3-ubyte").unlink()
    MNIST_DAMAGE[what](raw)


# ---------------------------------------------------------------- hostile mirrors

class _Raw(socketserver.BaseRequestHandler):
    """Answers every request with ``behave(request_text, send)``."""

    behave = None

    def handle(self):
        data = b""
        while b"\r\n\r\n" not in data:
            piece = self.request.recv(4096)
            if not piece:
                return
            data += piece
        try:
            type(self).behave(data.decode("latin1"), self.request.sendall)
        except OSError:
            pass  # the client gave up, as it should


@contextlib.contextmanager
def raw_mirror(behave):
    """A server on 127.0.0.1 that answers each request with raw bytes of its own
    (``behave(request_text, send)``): how a misbehaving mirror is played."""
    handler = type("H", (_Raw,), {"behave": staticmethod(behave)})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    with _serving(server) as url:
        yield url


FAULT_BODY = gzip.compress(idx_bytes(np.arange(40) % 10), compresslevel=0)  # the file


def http_head(length=None) -> bytes:
    return ("HTTP/1.1 200 OK\r\n" + (f"Content-Length: {length}\r\n" if length is not None
                                     else "") + "Connection: close\r\n\r\n").encode()


def _drip(_req, send):
    send(http_head(len(FAULT_BODY)))
    for b in FAULT_BODY:
        send(bytes([b]))
        time.sleep(0.3)


MIRROR_FAULTS = {  # each must end the download in one error, in bounded time
    "drips a byte every 0.3 s": _drip,
    "bad status line": lambda r, send: send(b"NOT HTTP AT ALL\r\n\r\n"),
    "too many headers": lambda r, send: send(b"HTTP/1.1 200 OK\r\n" + b"X-A: 1\r\n" * 200
                                             + b"\r\n"),
    "a 70 KB header": lambda r, send: send(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 70000
                                           + b"\r\n\r\n"),
    "a broken chunked body": lambda r, send: send(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nabc\r\n"),
    "an endless body of no stated length": lambda r, send: [
        send(http_head()), *(send(b"\0" * 65536) for _ in range(400))],
    "a body cut short": lambda r, send: send(http_head(len(FAULT_BODY))
                                             + FAULT_BODY[:len(FAULT_BODY) // 2]),
    "a wrong body": lambda r, send: send(http_head(9) + b"corrupted"),
    "a 500": lambda r, send: send(b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n"),
}


def range_refused(req, send):
    """416 to a resumed request (a .part longer than the file), the file otherwise."""
    if "Range:" in req:
        send(b"HTTP/1.1 416 Range Not Satisfiable\r\nContent-Length: 0\r\n\r\n")
    else:
        send(http_head(len(FAULT_BODY)) + FAULT_BODY)


# ---------------------------------------------------------------- crafted CIFAR batches

class PickledCall:
    """Pickles as a call of ``fn(*args)``: how a crafted file asks for work."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def shared_lists(levels: int, width: int = 100):
    """A list of ``width`` references to one list, ``levels`` deep: a few hundred bytes
    pickled, width ** (levels + 1) values once walked."""
    value = [0] * width
    for _ in range(levels):
        value = [value] * width
    return value


def _numpy_reconstruct():
    try:
        from numpy._core.multiarray import _reconstruct as fn
    except ImportError:
        from numpy.core.multiarray import _reconstruct as fn
    return fn


_GOOD = np.zeros((4, 3072), np.uint8)
CRAFTED_CIFAR_BATCHES = {  # each must be refused, in bounded time and memory
    "a zero-stride view of 143 GiB": {"data": PickledCall(
        np.ndarray, (143 * 2**30,), np.uint8, b"x", 0, (0,)), "labels": [0]},
    "_reconstruct of 9 TiB": {"data": PickledCall(_numpy_reconstruct(), np.ndarray,
                                                  (9 * 2**40,), b"b"), "labels": [0]},
    "an object array": {"data": np.array([[None] * 3072] * 2, dtype=object),
                        "labels": [0, 1]},
    "shared nested lists (7 GiB)": {"data": _GOOD, "labels": shared_lists(3, 400)},
    "four levels of shared references": {"data": _GOOD, "labels": shared_lists(4)},
    "string labels": {"data": _GOOD, "labels": ["a", "b", "c", "d"]},
    "NaN labels": {"data": _GOOD, "labels": [float("nan")] * 4},
    "a scalar label": {"data": _GOOD, "labels": 3},
    "dict labels": {"data": _GOOD, "labels": {"a": 1}},
    "None labels": {"data": _GOOD, "labels": None},
    "ragged labels": {"data": _GOOD, "labels": [[1], [1, 2], 3, 4]},
    "2-D labels": {"data": _GOOD, "labels": np.zeros((4, 2), np.int64)},
    "too few labels": {"data": _GOOD, "labels": [1, 2]},
    "labels out of range": {"data": _GOOD, "labels": [0, 1, 2, 10]},
    "no data": {"labels": [0]},
    "float data": {"data": _GOOD.astype(np.float32), "labels": [0, 1, 2, 3]},
    "not a dict": [1, 2, 3],
    "code in it": {"data": PickledCall(os.system, "true"), "labels": []},
}


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
