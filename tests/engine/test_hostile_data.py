"""The data folder and the mirrors are hostile input (issue 26): a local server on
127.0.0.1 that misbehaves, planted links, archives that escape, and crafted CIFAR
batches and MNIST files each end in one `DeskLabError` (or a correct download), in
bounded time and memory; nothing outside the data folder is touched."""

import dataclasses
import hashlib
import io
import os
import pickle
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest
from fake_datasets import (
    CRAFTED_CIFAR_BATCHES, FAULT_BODY, MIRROR_FAULTS, MNIST_DAMAGE, http_head, idx_bytes,
    mirror, range_refused, raw_mirror, write_cifar, write_damaged_mnist,
)

from desklab.design.catalog import real_data
from desklab.engine import download
from desklab.engine.download import DatasetUnavailable, ensure_dataset
from desklab.engine.real_data import load_arrays
from desklab.errors import DeskLabError


def one_file_mnist(monkeypatch, url, body=FAULT_BODY, mirrors_twice=False):
    """MNIST reduced to one labels file with ``body``'s MD5, served at ``url``."""
    files = (("train-labels-idx1-ubyte.gz", hashlib.md5(body).hexdigest()),)
    fake = dataclasses.replace(real_data.REAL_DATASETS["mnist"], files=files,
                               mirrors=(url, url) if mirrors_twice else (url,), megabytes=1)
    monkeypatch.setitem(real_data.REAL_DATASETS, "mnist", fake)
    def missing(d, root):
        return [] if (Path(root) / d.folder / "train-labels-idx1-ubyte").is_file() else \
            ["train-labels-idx1-ubyte"]
    monkeypatch.setattr(download, "missing_files", missing)


@pytest.mark.parametrize("what", list(MIRROR_FAULTS))
def test_a_misbehaving_mirror_is_one_error_in_bounded_time(tmp_path, monkeypatch, what):
    monkeypatch.setattr(download, "GRACE_S", 1.0)
    monkeypatch.setattr(download, "TIMEOUT_S", 3.0)
    monkeypatch.setattr(download, "MIN_RATE", 1024)
    with raw_mirror(MIRROR_FAULTS[what]) as url:
        one_file_mnist(monkeypatch, url)
        start = time.monotonic()
        with pytest.raises(DatasetUnavailable) as error:
            ensure_dataset("mnist", tmp_path)
    assert time.monotonic() - start < 15, what
    assert "\n" not in str(error.value) and "cannot download" in str(error.value)
    part = tmp_path / "MNIST" / "raw" / "train-labels-idx1-ubyte.gz.part"
    assert not part.exists() or part.stat().st_size < len(FAULT_BODY)  # a too-long body: gone


def test_a_part_longer_than_the_file_is_dropped_after_416(tmp_path, monkeypatch):
    with raw_mirror(range_refused) as url:
        one_file_mnist(monkeypatch, url, mirrors_twice=True)
        folder = tmp_path / "MNIST" / "raw"
        folder.mkdir(parents=True)
        (folder / "train-labels-idx1-ubyte.gz.part").write_bytes(b"x" * (len(FAULT_BODY) + 10))
        ensure_dataset("mnist", tmp_path)  # the first try drops the .part, the next works
    assert (folder / "train-labels-idx1-ubyte.gz").read_bytes() == FAULT_BODY


def test_planted_links_are_never_written_through(tmp_path, monkeypatch):
    """A .part that is a link and a dangling link at the extracted file's name: the
    download replaces both links and the files they point to are untouched."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_bytes(b"keep me")
    with raw_mirror(lambda r, send: send(http_head(len(FAULT_BODY)) + FAULT_BODY)) as url:
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

@pytest.mark.parametrize("what", list(CRAFTED_CIFAR_BATCHES))
def test_a_crafted_cifar_batch_is_one_error_in_bounded_time(tmp_path, what):
    write_cifar(tmp_path, per_batch=4)
    path = tmp_path / "cifar-10-batches-py" / "data_batch_2"
    path.write_bytes(pickle.dumps(CRAFTED_CIFAR_BATCHES[what], protocol=2))
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

@pytest.mark.parametrize("what", list(MNIST_DAMAGE))
def test_damaged_mnist_files_are_one_error(tmp_path, what):
    write_damaged_mnist(tmp_path, what)
    start = time.monotonic()
    with pytest.raises(DeskLabError) as error:
        load_arrays("mnist", tmp_path)
    assert time.monotonic() - start < 5, what
    assert "train-images" in str(error.value) or "train-labels" in str(error.value), \
        (what, str(error.value))
