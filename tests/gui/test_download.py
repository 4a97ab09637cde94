"""Train on a dataset the data folder lacks: the app asks, downloads off the GUI thread
with progress and Cancel (served by a local mirror, never the network), then trains."""

import dataclasses

import pytest
from PySide6.QtWidgets import QMessageBox

from desklab.design.catalog import real_data
from desklab.lessons import get_preset
from desklab.util.data_root import set_data_root
from fake_datasets import mirror, serve_fake_mnist


@pytest.fixture
def mnist_window(window, tmp_path, monkeypatch):
    root = tmp_path / "data"
    set_data_root(root)
    design = get_preset("mnist-relu-mlp")
    design.train.steps, design.train.batch_size, design.train.eval_every = 6, 8, 3
    window._replace(design, None)
    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: asked.append(a[2]) or QMessageBox.Yes)
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warnings.append(a[2]))
    yield window, root, asked, warnings
    set_data_root(None)


def _serve(tmp_path, monkeypatch, delay=0.0, size=40):
    folder = tmp_path / "served"
    files = serve_fake_mnist(folder, train=size)
    server = mirror(folder, delay)
    url = server.__enter__()
    fake = dataclasses.replace(real_data.REAL_DATASETS["mnist"], files=files, mirrors=(url,))
    monkeypatch.setitem(real_data.REAL_DATASETS, "mnist", fake)
    return server


def test_train_asks_downloads_then_trains(mnist_window, qtbot, tmp_path, monkeypatch):
    window, root, asked, warnings = mnist_window
    server = _serve(tmp_path, monkeypatch)
    try:
        window.training.act_train.trigger()
        assert asked and "MNIST" in asked[0] and str(root / "MNIST" / "raw") in asked[0]
        dialog = window.training.download_dialog
        assert dialog.objectName() == "downloadDialog"
        controller = window.training.controller
        qtbot.waitUntil(lambda: controller.state in ("finished", "failed"), timeout=20000)
    finally:
        server.__exit__(None, None, None)
    assert controller.state == "finished" and not warnings
    assert (root / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file()
    assert controller.history.latest is not None  # probed: the real data was trained on


def test_cancel_keeps_the_partial_file_and_trains_nothing(mnist_window, qtbot, tmp_path,
                                                          monkeypatch):
    window, root, asked, warnings = mnist_window
    server = _serve(tmp_path, monkeypatch, delay=0.05, size=4000)  # ~3 MB, slowly
    try:
        window.training.act_train.trigger()
        dialog = window.training.download_dialog
        qtbot.waitUntil(lambda: dialog.value() > 0, timeout=10000)
        assert window.isEnabled()  # the window stays responsive under the dialog
        from PySide6.QtWidgets import QPushButton
        (button,) = dialog.findChildren(QPushButton)
        assert button.text() == "Cancel"
        button.click()
        qtbot.waitUntil(lambda: not dialog.fetcher.running, timeout=10000)
    finally:
        server.__exit__(None, None, None)
    assert not warnings  # a cancel is not an error
    assert list((root / "MNIST" / "raw").glob("*.part"))  # kept: the next try resumes
    assert not (root / "MNIST" / "raw" / "train-images-idx3-ubyte").exists()
    assert window.training.controller.state not in ("running", "finished")


def test_sanity_check_asks_for_the_download_then_checks(mnist_window, qtbot, tmp_path,
                                                        monkeypatch):
    """Train ▸ Sanity check on MNIST with no MNIST here: it trained at once and 'failed'
    on the missing files. Now it offers the download and checks once the data is in."""
    window, root, asked, warnings = mnist_window
    window.doc.design.train.lr = 0.01  # 20 of the fake (noise) images: 0.05 diverges
    said = []
    window.show_info = lambda title, text, passed=True: said.append(text)
    server = _serve(tmp_path, monkeypatch, size=200)
    try:
        window.act_sanity.trigger()
        assert asked and "MNIST" in asked[0]
        qtbot.waitUntil(lambda: len(said) == 1, timeout=60000)
    finally:
        server.__exit__(None, None, None)
    assert (root / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file()
    assert said[0].startswith("Passed: the network fits 20 examples"), said  # 20 MNIST images
    assert not warnings
