"""The data folder and the mirrors are hostile input (issue 26): a local server on
127.0.0.1 that misbehaves, planted links, archives that escape, and crafted CIFAR
batches and MNIST files each end in one `DeskLabError` (or a correct download), in
bounded time and memory; nothing outside the data folder is touched."""

import contextlib
import dataclasses
import gzip
import hashlib
import io
import os
import pickle
import socketserver
import tarfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from fake_datasets import idx_bytes, write_cifar, write_mnist

from desklab.design.catalog import real_data
from desklab.engine import download
from desklab.engine.download import DatasetUnavailable, ensure_dataset
from desklab.engine.real_data import load_arrays
from desklab.errors import DeskLabError

BODY = gzip.compress(idx_bytes(np.arange(40) % 10), compresslevel=0)


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
def raw_server(behave):
    handler = type("H", (_Raw,), {"behave": staticmethod(behave)})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def one_file_mnist(monkeypatch, url, body=BODY, mirrors_twice=False):
    """MNIST reduced to one labels file with ``body``'s MD5, served at ``url``."""
    files = (("train-labels-idx1-ubyte.gz", hashlib.md5(body).hexdigest()),)
    fake = dataclasses.replace(real_data.REAL_DATASETS["mnist"], files=files,
                               mirrors=(url, url) if mirrors_twice else (url,), megabytes=1)
    monkeypatch.setitem(real_data.REAL_DATASETS, "mnist", fake)
    def missing(d, root):
        return [] if (Path(root) / d.folder / "train-labels-idx1-ubyte").is_file() else \
            ["train-labels-idx1-ubyte"]
    monkeypatch.setattr(download, "missing_files", missing)


def head(length=None, extra=""):
    return ("HTTP/1.1 200 OK\r\n" + (f"Content-Length: {length}\r\n" if length is not None
                                     else "") + extra + "Connection: close\r\n\r\n").encode()


def drip(_req, send):
    send(head(len(BODY)))
    for b in BODY:
        send(bytes([b]))
        time.sleep(0.3)


BEHAVIOURS = {
    "drips a byte every 0.3 s": drip,
    "bad status line": lambda r, send: send(b"NOT HTTP AT ALL\r\n\r\n"),
    "too many headers": lambda r, send: send(b"HTTP/1.1 200 OK\r\n" + b"X-A: 1\r\n" * 200
                                             + b"\r\n"),
    "a 70 KB header": lambda r, send: send(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 70000
                                           + b"\r\n\r\n"),
    "a broken chunked body": lambda r, send: send(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nabc\r\n"),
    "an endless body of no stated length": lambda r, send: [
        send(head()), *(send(b"\0" * 65536) for _ in range(400))],
    "a body cut short": lambda r, send: send(head(len(BODY)) + BODY[:len(BODY) // 2]),
    "a wrong body": lambda r, send: send(head(9) + b"corrupted"),
    "a 500": lambda r, send: send(b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n"),
}


@pytest.mark.parametrize("what", list(BEHAVIOURS))
def test_a_misbehaving_mirror_is_one_error_in_bounded_time(tmp_path, monkeypatch, what):
    monkeypatch.setattr(download, "GRACE_S", 1.0)
    monkeypatch.setattr(download, "TIMEOUT_S", 3.0)
    monkeypatch.setattr(download, "MIN_RATE", 1024)
    with raw_server(BEHAVIOURS[what]) as url:
        one_file_mnist(monkeypatch, url)
        start = time.monotonic()
        with pytest.raises(DatasetUnavailable) as error:
            ensure_dataset("mnist", tmp_path)
    assert time.monotonic() - start < 15, what
    assert "\n" not in str(error.value) and "cannot download" in str(error.value)
    part = tmp_path / "MNIST" / "raw" / "train-labels-idx1-ubyte.gz.part"
    assert not part.exists() or part.stat().st_size < len(BODY)  # a too-long body: gone


def test_a_part_longer_than_the_file_is_dropped_after_416(tmp_path, monkeypatch):
    def answer(req, send):
        if "Range:" in req:
            send(b"HTTP/1.1 416 Range Not Satisfiable\r\nContent-Length: 0\r\n\r\n")
        else:
            send(head(len(BODY)) + BODY)
    with raw_server(answer) as url:
        one_file_mnist(monkeypatch, url, mirrors_twice=True)
        folder = tmp_path / "MNIST" / "raw"
        folder.mkdir(parents=True)
        (folder / "train-labels-idx1-ubyte.gz.part").write_bytes(b"x" * (len(BODY) + 10))
        ensure_dataset("mnist", tmp_path)  # the first try drops the .part, the next works
    assert (folder / "train-labels-idx1-ubyte.gz").read_bytes() == BODY


def test_planted_links_are_never_written_through(tmp_path, monkeypatch):
    """A .part that is a link and a dangling link at the extracted file's name: the
    download replaces both links and the files they point to are untouched."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_bytes(b"keep me")
    with raw_server(lambda r, send: send(head(len(BODY)) + BODY)) as url:
        one_file_mnist(monkeypatch, url)
        folder = tmp_path / "data" / "MNIST" / "raw"
        folder.mkdir(parents=True)
        os.symlink(outside / "precious", folder / "train-labels-idx1-ubyte.gz.part")
        os.symlink(outside / "planted", folder / "train-labels-idx1-ubyte")  # dangling
        ensure_dataset("mnist", tmp_path / "data")
    assert (outside / "precious").read_bytes() == b"keep me"
    assert sorted(p.name for p in outside.iterdir()) == ["precious"]
    extracted = folder / "train-labels-idx1-ubyte"
    assert not extracted.is_symlink() and extracted.read_bytes() == idx_bytes(
        np.arange(40) % 10)


def _cifar_archive(members: dict) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, (kind, data) in members.items():
            info = tarfile.TarInfo(name)
            if kind == "link":
                info.type, info.linkname = tarfile.SYMTYPE, data
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


@pytest.mark.parametrize("members", [
    {"../escaped": ("file", b"x")},
    {"/abs/escaped": ("file", b"x")},
    {"cifar-10-batches-py/link": ("link", "/etc/passwd")},
], ids=["dot-dot", "absolute", "link out"])
def test_archive_members_that_escape_are_one_error(tmp_path, monkeypatch, members):
    archive = _cifar_archive(members)
    served = tmp_path / "served"
    served.mkdir()
    (served / "cifar-10-python.tar.gz").write_bytes(archive)
    from fake_datasets import mirror
    with mirror(served) as url:
        fake = dataclasses.replace(
            real_data.REAL_DATASETS["cifar10"], mirrors=(url,),
            files=(("cifar-10-python.tar.gz", hashlib.md5(archive).hexdigest()),))
        monkeypatch.setitem(real_data.REAL_DATASETS, "cifar10", fake)
        with pytest.raises(DatasetUnavailable, match="cannot be extracted|did not hold"):
            ensure_dataset("cifar10", tmp_path / "data")
    assert not (tmp_path / "escaped").exists() and not list((tmp_path / "data").rglob(
        "link"))


# ---------------------------------------------------------------- CIFAR batches

class _Call:
    """Pickles as a call of ``fn(*args)``: how a crafted file asks for work."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def _shared(levels: int, width: int = 100):
    value = [0] * width
    for _ in range(levels):
        value = [value] * width
    return value


def _reconstruct():
    try:
        from numpy._core.multiarray import _reconstruct as fn
    except ImportError:
        from numpy.core.multiarray import _reconstruct as fn
    return fn


GOOD = np.zeros((4, 3072), np.uint8)
CRAFTED_BATCHES = {
    "a zero-stride view of 143 GiB": {"data": _Call(np.ndarray, (143 * 2**30,), np.uint8,
                                                    b"x", 0, (0,)), "labels": [0]},
    "_reconstruct of 9 TiB": {"data": _Call(_reconstruct(), np.ndarray, (9 * 2**40,), b"b"),
                              "labels": [0]},
    "an object array": {"data": np.array([[None] * 3072] * 2, dtype=object),
                        "labels": [0, 1]},
    "shared nested lists (7 GiB)": {"data": GOOD, "labels": _shared(3, 400)},
    "four levels of shared references": {"data": GOOD, "labels": _shared(4)},
    "string labels": {"data": GOOD, "labels": ["a", "b", "c", "d"]},
    "NaN labels": {"data": GOOD, "labels": [float("nan")] * 4},
    "a scalar label": {"data": GOOD, "labels": 3},
    "dict labels": {"data": GOOD, "labels": {"a": 1}},
    "None labels": {"data": GOOD, "labels": None},
    "ragged labels": {"data": GOOD, "labels": [[1], [1, 2], 3, 4]},
    "2-D labels": {"data": GOOD, "labels": np.zeros((4, 2), np.int64)},
    "too few labels": {"data": GOOD, "labels": [1, 2]},
    "labels out of range": {"data": GOOD, "labels": [0, 1, 2, 10]},
    "no data": {"labels": [0]},
    "float data": {"data": GOOD.astype(np.float32), "labels": [0, 1, 2, 3]},
    "not a dict": [1, 2, 3],
}


@pytest.mark.parametrize("what", list(CRAFTED_BATCHES))
def test_a_crafted_cifar_batch_is_one_error_in_bounded_time(tmp_path, what):
    write_cifar(tmp_path, per_batch=4)
    path = tmp_path / "cifar-10-batches-py" / "data_batch_2"
    path.write_bytes(pickle.dumps(CRAFTED_BATCHES[what], protocol=2))
    start = time.monotonic()
    with pytest.raises(DeskLabError) as error:
        load_arrays("cifar10", tmp_path)
    assert time.monotonic() - start < 5, what
    assert "data_batch_2" in str(error.value)


def test_a_real_shaped_batch_still_reads(tmp_path):
    """10000 labels and file names, as CIFAR's own batches hold."""
    write_cifar(tmp_path, per_batch=4)
    batch = {"data": np.random.default_rng(0).integers(0, 256, (10000, 3072), np.uint8),
             "labels": [i % 10 for i in range(10000)], "batch_label": "training batch 1",
             "filenames": [f"image_{i}.png" for i in range(10000)]}
    (tmp_path / "cifar-10-batches-py" / "data_batch_1").write_bytes(
        pickle.dumps(batch, protocol=2))
    x, y, _, _ = load_arrays("cifar10", tmp_path)
    assert x.shape == (10016, 3, 32, 32) and (y[:10000] == np.arange(10000) % 10).all()
    assert (x[:10000].reshape(10000, -1) == batch["data"]).all()


# ---------------------------------------------------------------- MNIST files

def test_damaged_mnist_files_are_one_error(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    cases = {
        "half a .gz": lambda: (raw / "train-images-idx3-ubyte.gz").write_bytes(
            gzip.compress(idx_bytes(np.random.default_rng(0).integers(0, 256, (8, 28, 28))))
            [:2000]),
        "a header of (0, 2^32-1, 2^32-1)": lambda: (raw / "train-images-idx3-ubyte").write_bytes(
            bytes([0, 0, 8, 3]) + (0).to_bytes(4, "big") + (2**32 - 1).to_bytes(4, "big") * 2),
        "an empty training set": lambda: [
            (raw / "train-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((0, 28, 28)))),
            (raw / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros((0,))))],
        "a FIFO": lambda: os.mkfifo(raw / "train-images-idx3-ubyte"),
        "not gzip": lambda: (raw / "train-images-idx3-ubyte.gz").write_bytes(b"plain"),
    }
    for what, make in cases.items():
        for name in list(raw.iterdir()) if raw.exists() else []:
            name.unlink()
        write_mnist(tmp_path, train=8, test=4)
        (raw / "train-images-idx3-ubyte").unlink()
        make()
        start = time.monotonic()
        with pytest.raises(DeskLabError) as error:
            load_arrays("mnist", tmp_path)
        assert time.monotonic() - start < 5, what
        assert "train-images" in str(error.value) or "train-labels" in str(error.value), \
            (what, str(error.value))
