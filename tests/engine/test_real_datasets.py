"""MNIST / CIFAR-10 at real size, proven offline on small fake files in the real formats
(never the network; downloads are served from a local HTTP server)."""

import dataclasses
import json
import pickle
import time

import numpy as np
import pytest
import torch

from desklab.cli import main
from desklab.design.catalog import real_data
from desklab.engine.image_batches import ImagePrep
from desklab.engine.real_data import load_arrays
from desklab.lessons import PRESETS, get_preset
from desklab.util.data_root import set_data_root
from fake_datasets import mirror, serve_fake_mnist, write_cifar, write_mnist

REAL_PRESETS = [slug for slug, p in PRESETS.items()
                if p.design().input.dataset in real_data.REAL_DATASETS]


@pytest.fixture
def root(tmp_path):
    yield tmp_path / "data"
    set_data_root(None)


def test_datasets_lists_every_set_with_what_is_here(root, capsys):
    write_mnist(root, gz=True)
    assert main(["datasets", "--data-root", str(root)]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    for name in ("mnist", "fashion_mnist", "kmnist", "cifar10", "digits", "iris", "wine",
                 "breast_cancer"):
        assert name in rows
    assert "1x28x28" in rows["mnist"] and "60,000" in rows["mnist"]
    assert rows["mnist"].rstrip().endswith("yes")  # the .gz files alone are enough
    assert "3x32x32" in rows["cifar10"] and "no (163 MB download)" in rows["cifar10"]
    assert str(root) in out


def test_lenet_mnist_trains_offline_from_the_cli(root, tmp_path):
    arrays = write_mnist(root)
    report = tmp_path / "r.json"
    code = main(["train", "--preset", "lenet-mnist", "--data-root", str(root), "--steps", "30",
                 "--json", str(report)])
    assert code == 0
    r = json.loads(report.read_text())
    assert r["history"]["step"] == list(range(30))
    assert r["layers"][0]["out_shape"] == [6, 28, 28]  # 1x28x28 in, padded 5x5 conv
    assert r["layers"][-1]["out_shape"] == [10]
    x, y, xt, yt = load_arrays("mnist", root)
    assert x.shape == (256, 1, 28, 28) and x.dtype == np.uint8
    assert np.array_equal(x[:, 0], arrays["train-images-idx3-ubyte"])  # pixels as written
    assert np.array_equal(yt, arrays["t10k-labels-idx1-ubyte"])


def test_no_data_and_no_network_is_one_line_naming_the_folder(root, monkeypatch, capsys):
    dead = dataclasses.replace(real_data.REAL_DATASETS["mnist"],
                               mirrors=("http://127.0.0.1:9/",))  # nothing listens there
    monkeypatch.setitem(real_data.REAL_DATASETS, "mnist", dead)
    start = time.perf_counter()
    code = main(["train", "--preset", "lenet-mnist", "--data-root", str(root), "--steps", "5"])
    assert time.perf_counter() - start < 60
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert str(root / "MNIST" / "raw") in err[0] and "no network" in err[0]


@pytest.mark.parametrize("slug", REAL_PRESETS)
def test_every_real_size_lesson_builds_trains_and_probes_on_fake_data(slug, root):
    from desklab.engine.trainer import Trainer
    write_mnist(root, train=64, test=32)
    write_cifar(root, per_batch=16)
    set_data_root(root)
    design = get_preset(slug)
    design.train.steps, design.train.batch_size = 2, 8
    design.train.eval_every, design.train.probe_every = 2, 1
    trainer = Trainer(design)
    kinds = [e.kind for e in trainer.events()]
    assert trainer.state == "finished", slug
    assert kinds.count("snapshot") == 2 and "metrics" in kinds
    assert trainer.data.x_train.dtype == torch.uint8  # bytes on the device, float per batch


def test_cifar_batches_are_read_and_code_in_them_is_refused(root):
    write_cifar(root, per_batch=16)
    x, y, xt, yt = load_arrays("cifar10", root)
    assert x.shape == (80, 3, 32, 32) and xt.shape == (16, 3, 32, 32)
    marker = root / "ran"

    class Evil:
        def __reduce__(self):
            import os
            return os.system, (f"touch {marker}",)

    (root / "cifar-10-batches-py" / "data_batch_3").write_bytes(
        pickle.dumps({"data": Evil(), "labels": []}))
    from desklab.design.data_readers import DataFileError
    with pytest.raises(DataFileError, match="refused"):
        load_arrays("cifar10", root)
    assert not marker.exists()


def test_augmentation_is_a_padded_crop_and_a_flip_of_each_image():
    """Checked against numpy: every augmented image is one of the 81 crops of the image
    padded by 4 zeros, flipped or not; a seed gives the same batch twice."""
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.integers(0, 256, (12, 3, 32, 32)).astype(np.uint8))
    prep = ImagePrep(np.zeros(3, np.float32), np.ones(3, np.float32), augment=True, flip=True)
    prep.start(torch.device("cpu"), seed=5)
    out = (prep.for_train(x) * 255).round().numpy()
    prep.start(torch.device("cpu"), seed=5)
    assert np.array_equal(out, (prep.for_train(x) * 255).round().numpy())
    padded = np.pad(x.numpy().astype(np.float64), ((0, 0), (0, 0), (4, 4), (4, 4)))
    flips, shifts = 0, set()
    for i in range(len(x)):
        matches = [(dy, dx, f) for dy in range(9) for dx in range(9) for f in (False, True)
                   if np.array_equal(out[i], (lambda c: c[..., ::-1] if f else c)(
                       padded[i, :, dy:dy + 32, dx:dx + 32]))]
        assert matches, i
        flips += matches[0][2]
        shifts.add(matches[0][:2])
    assert 0 < flips < len(x) and len(shifts) > 3  # random, not constant


def test_normalisation_uses_training_statistics_per_channel(root):
    from desklab.engine.datasets import make_dataset
    write_cifar(root, per_batch=16)
    set_data_root(root)
    design = get_preset("resnet-20")
    data = make_dataset(design)
    x = data.x_train.numpy().astype(np.float64) / 255.0
    batch = data.eval_batch(data.x_train[:5]).numpy()
    mean, std = x.mean((0, 2, 3)), x.std((0, 2, 3))
    expected = (x[:5] - mean[None, :, None, None]) / std[None, :, None, None]
    assert np.abs(batch - expected).max() < 1e-5


@pytest.fixture
def served(tmp_path, monkeypatch):
    """Fake MNIST files behind a local HTTP mirror (after a dead one)."""
    folder = tmp_path / "served"
    files = serve_fake_mnist(folder)
    with mirror(folder) as url:
        fake = dataclasses.replace(real_data.REAL_DATASETS["mnist"], files=files,
                                   mirrors=("http://127.0.0.1:9/", url))
        monkeypatch.setitem(real_data.REAL_DATASETS, "mnist", fake)
        yield folder


def test_download_checks_md5_extracts_and_can_be_cancelled(root, served):
    from desklab.engine.download import DownloadCancelled, ensure_dataset
    with pytest.raises(DownloadCancelled):
        ensure_dataset("mnist", root, cancelled=lambda: True)
    seen = []
    folder = ensure_dataset("mnist", root, progress=lambda done, total: seen.append(
        (done, total)))
    assert folder == root / "MNIST" / "raw"
    assert seen and seen[-1][0] == seen[-1][1] > 0
    assert (folder / "train-images-idx3-ubyte").is_file()  # extracted as torchvision does
    assert not list(folder.glob("*.part"))
    x, y, xt, yt = load_arrays("mnist", root)
    assert x.shape == (40, 1, 28, 28) and xt.shape == (8, 1, 28, 28)
    # a corrupt mirror file is refused by its checksum and never kept
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    (folder / "t10k-labels-idx1-ubyte").unlink()
    (served / "t10k-labels-idx1-ubyte.gz").write_bytes(b"corrupt")
    from desklab.engine.download import DatasetUnavailable
    with pytest.raises(DatasetUnavailable, match="checksum"):
        ensure_dataset("mnist", root)
    assert not (folder / "t10k-labels-idx1-ubyte.gz").exists()


def test_global_pooling_is_not_called_vanishing(root):
    """ResNet-20 at init: the per-element |dL/dh| drops ~64x across the global 8x8 pool
    (each position gets 1/64 of the gradient), which is not vanishing; deep sigmoid is."""
    from desklab.engine import probe_at_init
    from desklab.metrics.diagnostics import layer_gradient, vanishing
    write_cifar(root, per_batch=32)
    write_mnist(root, train=64, test=32)
    set_data_root(root)
    snap, _, _ = probe_at_init(get_preset("resnet-20"), max_batch=32)
    names = snap.layout.names
    mean = snap.stat("grad_mean_abs")
    block, pool = names.index("res10"), names.index("avgpool11")  # 64x8x8 -> 64x1x1
    assert mean[block] / mean[pool] == pytest.approx(1 / 64, rel=1e-4)  # spread, not lost
    summed = layer_gradient(snap)
    assert summed[block] == pytest.approx(summed[pool], rel=1e-4)
    assert vanishing(snap) == []
    sigmoid, _, _ = probe_at_init(get_preset("mnist-sigmoid-mlp"), max_batch=32)
    assert [f.kind for f in vanishing(sigmoid)] == ["vanishing"]
