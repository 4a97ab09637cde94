"""The app follows a user's own script live: a torchvision-style CNN under desklab.watch
in another process; its module tree in the Network dock, every plot fed from the run
file, each probe on screen within 200 ms of its commit."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from desklab.runs import RunReader
from run_files import snapshots_in

SCRIPT = """
import sys, time, torch
from torch import nn
import desklab
torch.manual_seed(0)

class SmallNet(nn.Module):  # torchvision's style: features, then a classifier
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(inplace=True),
            nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32),
            nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(32, 10))

    def forward(self, x):
        return self.classifier(self.features(x))

model = SmallNet()
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
x, y = torch.randn(256, 3, 16, 16), torch.randint(0, 10, (256,))
with desklab.watch(model, opt, every=2, run=sys.argv[1], name="smallnet") as watcher:
    for step in range(int(sys.argv[2])):
        idx = torch.randint(0, 256, (32,))
        loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad(); loss.backward(); opt.step()
        watcher.log(loss=loss)
        time.sleep(0.03)
"""


def test_following_a_live_watched_script(window, qtbot, tmp_path):
    run = tmp_path / "live.desklab-run"
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(run), "160"])
    try:
        qtbot.waitUntil(lambda: run.exists() and snapshots_in(run) >= 1, timeout=30000)
        assert window.follow_run(run)
        follower = window.follower
        assert window.training.feed.state == "following"
        tree = window.docks["network"].widget()
        assert tree.objectName() == "moduleTree"
        names = follower.history.layout.names
        assert "features.0" in names and "classifier.1" in names
        qtbot.waitUntil(lambda: len(follower.drawn_lag_ms) >= 12, timeout=30000)
        lags = follower.drawn_lag_ms[1:]  # the first is the backlog found at open
        assert np.median(lags) < 200 and max(lags) < 400, lags
        qtbot.waitUntil(lambda: window.training.feed.state == "finished",
                        timeout=60000)
    finally:
        proc.wait(timeout=60)
    history = window.training.feed.history
    reader = RunReader(run)
    stored = reader.history()
    reader.close()
    assert history.latest.step == stored.latest.step  # everything written was shown
    assert window.training.gradients.lines.layer_data(0)[1].size > 0
    window.stop_following()
    assert window.docks["network"].widget() is window.network


def test_a_followed_classification_shows_its_matrix_from_its_first_evaluation(
        window, qtbot, tmp_path):
    """A run followed from its file (here written step by step, as `desklab train`
    writes one): before any evaluation the findings take the sixth cell; the first
    evaluation's confusion counts bring the matrix, its rows named by the design's
    dataset (iris), and it follows later evaluations. (It stayed on the findings.)"""
    from desklab.design import InputSpec, OutputSpec
    from desklab.lessons import get_preset
    from desklab.metrics import (N_BINS, N_STATS, Confusion, LayerMeta, Metrics,
                                 ProbeLayout, Snapshot)
    from desklab.runs import RunWriter
    from desklab.runs.store import design_meta
    design = get_preset("deep-relu")
    design.input, design.output = InputSpec("iris"), OutputSpec("classes")
    path = tmp_path / "iris.desklab-run"
    writer = RunWriter(path, design_meta(design, "cpu", 15))
    layout = ProbeLayout((LayerMeta("head", "dense", "none", (3,), 15, (-1.0, 1.0), True),))
    view = window.training
    try:
        writer.record("snapshot", Snapshot(0, layout, np.ones((1, N_STATS)),
                                           np.ones((1, N_BINS + 2)), 1.0, 0.01))
        writer.commit()
        assert window.follow_run(path)
        qtbot.waitUntil(lambda: view.feed.history.layout is not None, timeout=5000)
        view.redraw(everything=True)
        assert view.boundary_cell.isHidden()  # no evaluation yet: the findings' cell
        for step, right in ((10, 4), (20, 9)):
            writer.record("metrics", Metrics(step, 1.0, 1.1, 0.5, right / 10, np.nan, np.nan,
                                             0.01))
            writer.record("confusion", Confusion(step, np.array(
                [[right // 3, 0, 0], [0, right // 3, 1], [1, 0, right - 2 * (right // 3)]])))
            qtbot.waitUntil(lambda at=step: view.feed.history.confusion is not None and
                            view.feed.history.confusion.step == at, timeout=5000)
            view.redraw(everything=True)
            assert view.boundary_cell.isVisibleTo(window)
            assert view.boundary_cell.currentWidget() is view.confusion
            qtbot.waitUntil(lambda: view.confusion.grab() is not None and view.confusion.shown(
                )["plots"][0]["y_labels"] == ["0 setosa", "1 versicolor", "2 virginica"],
                timeout=3000)  # (ticks are laid out once painted)
            (matrix,) = view.confusion.shown()["plots"]
            assert matrix["title"].startswith(f"Confusion matrix, step {step}"), matrix
        # File > Export > Run report of a followed run: made from its file as it is now
        # (it said "Train first", then named the command line that writes it)
        assert window.exporter.report(tmp_path / "r.json"), window.errors
        report = json.loads((tmp_path / "r.json").read_text())
        assert report["confusion"]["counts"] == [[3, 0, 0], [0, 3, 1], [1, 0, 3]]  # step 20's
        assert report["confusion"]["class_names"] == ["setosa", "versicolor", "virginica"]
        assert report["evaluations"]["step"] == [10, 20] and report["state"] == "running"
    finally:
        writer.close()
        window.stop_following()


def test_following_a_hugging_face_trainer_run(window, qtbot, tmp_path):
    """examples/watch_huggingface.py (a small BERT under the Trainer, accumulation 2,
    evaluation passes) followed live to its end: every probe it wrote is shown, and the
    example's run is finished and whole (its own test: this is the one run of it)."""
    pytest.importorskip("transformers")
    run = tmp_path / "bert.desklab-run"
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, str(root / "examples/watch_huggingface.py"),
                             "--run", str(run), "--steps", "60", "--every", "5"], cwd=root)
    try:
        qtbot.waitUntil(lambda: run.exists() and snapshots_in(run) >= 1, timeout=60000)
        assert window.follow_run(run)
        assert window.training.feed.state == "following"
        names = window.follower.history.layout.names
        assert "bert.encoder.layer.0.attention.self.query" in names
        qtbot.waitUntil(lambda: window.training.feed.state == "finished", timeout=120000)
    finally:
        proc.wait(timeout=120)
    assert proc.returncode == 0
    reader = RunReader(run)
    stored = reader.history()
    meta = reader.meta
    reader.close()
    assert meta["status"] == "finished" and meta["source"] == "watch"
    assert "bert.encoder.layer.3.attention.self.query" in stored.layout.names
    losses = stored.steps.values[:, 0]
    assert np.all(np.isfinite(losses)) and abs(losses[0] - np.log(2)) < 0.2  # 2 classes
    shown = window.training.feed.history
    assert shown.latest.step == stored.latest.step == 55
    assert len(shown.steps) == len(stored.steps) == 60
    window.stop_following()


def test_any_two_recorded_runs_compare_side_by_side(window, qtbot, tmp_path, monkeypatch):
    """A run trained in DeskLab (desklab train) and a watched script, from the run store,
    in the compare window with the replay slider."""
    from desklab.cli import main
    monkeypatch.setenv("DESKLAB_RUNS", str(tmp_path))
    assert main(["train", "--preset", "bench-mlp", "--steps", "30", "--quiet"]) == 0
    watched = tmp_path / "watched.desklab-run"
    subprocess.run([sys.executable, "-c", SCRIPT, str(watched), "20"], check=True,
                   timeout=120)
    panel = window.run_panel
    panel.refresh_store()
    assert panel.stored.count() == 2
    for row in range(2):
        panel.stored.item(row).setSelected(True)
    panel.stored_compare.click()
    compare = window.compare_windows[-1]
    assert sorted(r.name for r in compare.records) == ["bench-mlp", "smallnet"]
    sources = {r.name: r.extra["source"] for r in compare.records}
    assert sources == {"bench-mlp": "designed", "smallnet": "watch"}
    assert all(r.history.latest is not None for r in compare.records)
    assert compare.slider.maximum() > 0
    compare.close()


def test_the_run_store_is_current_when_its_tab_is_shown(window, qtbot, tmp_path,
                                                        monkeypatch):
    """A run another program wrote while the Runs tab was behind another tab was
    missing when the tab came forward, until the next 3 s poll: listed at once now (the
    poll stopped here, so only the showing can list it). A run of this window is listed
    as soon as it ends."""
    from desklab.cli import main
    monkeypatch.setenv("DESKLAB_RUNS", str(tmp_path))
    panel = window.run_panel
    panel.store_timer.stop()
    window.docks["preview"].raise_()
    qtbot.waitUntil(lambda: panel.visibleRegion().isEmpty(), timeout=2000)  # behind
    assert main(["train", "--preset", "bench-mlp", "--steps", "5", "--quiet"]) == 0
    window.docks["runs"].raise_()
    qtbot.waitUntil(lambda: not panel.visibleRegion().isEmpty(), timeout=2000)
    assert [panel.stored.item(i).text().split(" · ")[0]
            for i in range(panel.stored.count())] == ["bench-mlp"]
    window.doc.design.train.steps = 5
    with qtbot.waitSignal(window.training.controller.run_ended, timeout=60000):
        window.training.act_train.trigger()
    qtbot.waitUntil(lambda: panel.stored.count() == 2, timeout=1000)
    assert panel.stored.item(0).text().startswith("deep-relu · designed · finished")


def test_a_followed_run_does_not_sit_beside_the_designs_preview(window, qtbot, tmp_path,
                                                               monkeypatch):
    """Following a script's BERT, the At-init preview still showed the design's fc1..head
    as if it were that run's: it steps aside with a note while a run is shown, and
    comes back with the design."""
    from desklab.cli import main
    from desklab.gui.ui_map import snapshot
    monkeypatch.setenv("DESKLAB_RUNS", str(tmp_path))
    assert main(["train", "--preset", "bench-mlp", "--steps", "5", "--quiet"]) == 0
    (run,) = tmp_path.glob("*.desklab-run")
    window.docks["preview"].raise_()
    assert "preview_following" not in snapshot(window)["labels"]
    assert window.follow_run(run)
    note = snapshot(window)["labels"]["preview_following"]
    assert "of your design (deep-relu), not of the run shown" in note
    assert "preview_status" not in snapshot(window)["labels"]
    window.stop_following()
    labels = snapshot(window)["labels"]
    assert "preview_following" not in labels and labels["preview_status"].startswith("At init")


def classifier_steps(model, optimizer, watcher, n, before_step=None) -> float:
    """``n`` steps of a 4 -> 3 classifier on random data, each logged to ``watcher``
    (``before_step(i)`` first); the last loss."""
    import torch
    from torch import nn
    for i in range(n):
        if before_step is not None:
            before_step(i)
        loss = nn.functional.cross_entropy(model(torch.randn(16, 4)),
                                           torch.randint(0, 3, (16,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        watcher.log(loss=loss)
    return float(loss.detach())


def test_a_script_before_its_first_probe_says_so(window, qtbot, tmp_path):
    """A script probed every 10 steps: while it is in its first 10 steps, and after a run
    that ended sooner, every plot said "Press Train (F5) to see this plot fill in" (the
    design's words) and the status read "loss –". Now the empty plots say why nothing
    is measured yet, the status has the script's last loss, and the design's words come
    back with the design."""
    import torch
    from PySide6.QtWidgets import QLabel
    from torch import nn

    import desklab

    def hints():
        return {p.findChild(QLabel, "plot_hint").text() for p in window.training.shown_panels()
                if p.findChild(QLabel, "plot_hint").isVisible()}
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    watcher = desklab.watch(model, optimizer, every=10, run=tmp_path / "r")

    def steps(n):
        return classifier_steps(model, optimizer, watcher, n)
    steps(3)
    assert window.follow_run(watcher.path)
    qtbot.wait(100)
    assert hints() and all("Waiting for the run's first probe (it probes every 10 steps)"
                           in text for text in hints()), hints()
    steps(9)  # the probe at step 10 arrives: the plots fill in
    qtbot.waitUntil(lambda: window.follower.history.latest is not None, timeout=10000)
    window.training.redraw(everything=True)
    qtbot.waitUntil(lambda: not hints(), timeout=5000)
    watcher.close()
    window.stop_following()

    watcher = desklab.watch(model, optimizer, every=10, run=tmp_path / "short")
    last = steps(5)
    watcher.close()
    assert window.follow_run(watcher.path)
    qtbot.waitUntil(lambda: window.training.feed.state == "finished", timeout=10000)
    window.training.redraw(everything=True)
    assert hints() and all("ended after 5 steps, before its first probe (it probes every "
                           "10 steps): nothing was measured" in text for text in hints())
    assert f"loss {last:.4g} ·" in window.statusBar().currentMessage()
    window.stop_following()
    window.training.redraw(everything=True)
    assert hints() and all("Press <b>Train</b>" in text for text in hints()), hints()


def test_a_followed_sequence_model_fits_its_panels_at_1280_by_720(window, qtbot, tmp_path):
    """A script's transformer-style model with time_dim=1, followed at 1280 x 720 (its
    module tree widens the Network dock): the gradient-through-time panel's plots were
    laid out 195 px wide in a 163 px panel, cut off at the right, its heatmap squeezed
    under a six-line title; an axis title ran past its plot's edge."""
    import torch
    from torch import nn

    import desklab
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True)
    model = nn.Sequential(nn.Embedding(50, 16),
                          nn.TransformerEncoder(layer, 2, enable_nested_tensor=False))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with desklab.watch(model, optimizer, every=2, run=tmp_path / "seq", time_dim=1) as w:
        for _ in range(12):
            loss = model(torch.randint(0, 50, (4, 12))).pow(2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            w.log(loss=loss)
    window.resize(1280, 720)
    qtbot.waitUntil(lambda: window.width() == 1280, timeout=3000)
    assert window.follow_run(w.path)
    view = window.training
    qtbot.waitUntil(lambda: view.feed.state == "finished", timeout=10000)
    view.redraw(everything=True)
    qtbot.wait(300)  # the docks settle, the panels paint
    panels = view.shown_panels()
    assert view.through_time in panels
    for panel in panels:
        assert panel.ci.geometry().width() <= panel.width() + 1, (
            type(panel).__name__, panel.ci.geometry().width(), panel.width())
        for item in panel.ci.items:
            for side in ("bottom",):
                axis = item.getAxis(side) if hasattr(item, "getAxis") else None
                if axis is None or not axis.label.isVisible():
                    continue
                label = axis.label.mapRectToScene(axis.label.boundingRect())
                assert label.right() <= panel.width() + 1 and label.left() >= -1, (
                    type(panel).__name__, axis.labelText, label)
    heat = view.through_time.heat_plot.vb
    assert heat.height() >= 40, heat.height()  # the heatmap itself, not its title


def test_the_module_tree_says_which_modules_the_first_step_did_not_run(qtbot):
    from desklab.gui.views.module_tree import ModuleTree

    def row(name, depth, params, calls):
        return {"name": name, "type": "Linear" if depth else "Net", "params": params,
                "calls": calls, "depth": depth, "out_shape": [8] if calls else None,
                "measured": None}
    meta = {"model": "Net", "total_params": 139, "modules": [
        row("(model)", 0, 0, 0), row("a", 1, 56, 1), row("late", 1, 72, 0),
        row("act", 1, 0, 2)]}
    tree = ModuleTree(meta, ["a", "act"])
    qtbot.addWidget(tree)
    top = tree.tree.topLevelItem(0)
    calls = {top.child(i).text(0): top.child(i).text(4) for i in range(top.childCount())}
    assert calls == {"a": "", "late": "not run", "act": "2"}
    late = top.child(1)
    assert late.toolTip(0).startswith("late\nnot measured: ") and "not measured" in \
        late.toolTip(4)


def test_a_followed_run_that_failed_says_why(window, qtbot, tmp_path, monkeypatch):
    """A watched run that failed (here: its hooks made to fail on purpose) records its
    cause; the app showed only "failed". Its status line now ends with the cause."""
    import warnings

    import torch
    from torch import nn

    import desklab

    def fault(*args, **kwargs):
        raise ZeroDivisionError("a fault made on purpose")

    def fail_from_step_5(i):
        if i == 5:
            monkeypatch.setattr("desklab.attach.forwards.weight_grad_norms", fault)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the watcher's one warning: tested elsewhere)
        with desklab.watch(model, optimizer, every=2, run=tmp_path / "r") as watcher:
            classifier_steps(model, optimizer, watcher, 8, before_step=fail_from_step_5)
    assert window.follow_run(watcher.path)
    qtbot.waitUntil(lambda: "ZeroDivisionError: a fault made on purpose" in
                    window.statusBar().currentMessage(), timeout=5000)
    assert window.statusBar().currentMessage().startswith("failed · step")


def test_the_run_store_says_why_a_run_failed(window, tmp_path, monkeypatch):
    from desklab.lessons import get_preset
    from desklab.runs import RunWriter
    from desklab.runs.store import design_meta
    monkeypatch.setenv("DESKLAB_RUNS", str(tmp_path))
    writer = RunWriter(tmp_path / "a.desklab-run", design_meta(get_preset("deep-relu"),
                                                              "cpu", 15))
    writer.set_meta(cause="the training loop raised ValueError: boom")
    writer.close("failed")
    window.run_panel.refresh_store()
    item = window.run_panel.stored.item(0)
    assert item.toolTip().endswith("failed: the training loop raised ValueError: boom")


def test_enter_on_a_stored_run_opens_it(window, qtbot, tmp_path, monkeypatch):
    """The Runs dock's lists opened a run on a double-click only: from the keyboard,
    Enter did nothing."""
    from PySide6.QtCore import Qt

    from desklab.lessons import get_preset
    from desklab.runs import RunWriter
    from desklab.runs.store import design_meta
    monkeypatch.setenv("DESKLAB_RUNS", str(tmp_path))
    RunWriter(tmp_path / "a.desklab-run", design_meta(get_preset("deep-relu"), "cpu",
                                                      15)).close("finished")
    panel = window.run_panel
    panel.refresh_store()
    window.docks["runs"].show()
    window.docks["runs"].raise_()
    panel.stored.setCurrentRow(0)
    panel.stored.setFocus()
    qtbot.waitUntil(panel.stored.hasFocus, timeout=3000)
    with qtbot.waitSignal(panel.follow_requested, timeout=3000) as opened:
        qtbot.keyClick(panel.stored, Qt.Key_Return)
    assert opened.args[0] == tmp_path / "a.desklab-run"
