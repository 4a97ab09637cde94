"""More than two runs compared: every run's curves overlaid in its own colour, two of them
side by side, each side's run picked with its chooser; the Runs dock takes up to six."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from desklab.engine.trainer import Trainer
from desklab.gui.controllers.runs import RunList, RunRecord
from desklab.gui.views.compare import CompareWindow
from desklab.gui.views.compare_curves import COLORS, DIVERGED, MAX_RUNS
from desklab.lessons import get_preset
from desklab.metrics import RunHistory


def _run(name: str, preset: str, lr: float, steps: int = 30) -> RunRecord:
    design = get_preset(preset)
    design.name, design.train.lr = name, lr
    design.train.steps, design.train.probe_every, design.train.eval_every = steps, 10, 10
    history = RunHistory()
    for event in Trainer(design).events():
        history.record(event.kind, event.payload)
    return RunRecord(name, design, history, "finished", steps=steps)


@pytest.fixture(scope="module")
def records():
    return [_run("lr-0.3", "lr-tuned", 0.3), _run("lr-0.1", "lr-tuned", 0.1),
            _run("lr-0.03", "lr-tuned", 0.03), _run("deeper", "deep-relu", 0.05, steps=20)]


def test_every_run_overlaid_and_each_side_chosen(qtbot, records):
    compare = CompareWindow(RunList())
    qtbot.addWidget(compare)
    compare.resize(1280, 720)
    compare.show_records(records)
    for k, record in enumerate(records):  # each run's loss in its own line
        steps, loss = record.history.step_series("loss")
        np.testing.assert_array_equal(compare.lines[k]["loss"].yData, loss)
        assert compare.lines[k]["loss"].opts["pen"].color().name() == COLORS[k]
        depth = compare.lines[k]["depth"].yData  # its newest probe, every layer
        np.testing.assert_array_equal(depth, record.history.latest.stat("grad_mean_abs"))
    # four runs: the sides choose (A and B first), the names move into the choosers
    assert [c.isVisibleTo(compare) for c in compare.choosers] == [True, True]
    assert not any(label.isVisibleTo(compare) for label in compare.names)
    assert [c.currentText() for c in compare.choosers] == ["A: lr-0.3", "B: lr-0.1"]
    assert [c.count() for c in compare.choosers] == [4, 4]
    compare.choosers[1].setCurrentIndex(3)  # the deeper run on the right
    assert compare.panels[1].layout_ is records[3].history.layout
    assert compare.panels[0].layout_ is records[0].history.layout
    assert compare.shown_steps[1] == records[3].history.latest.step == 19
    assert any(text.startswith("dead relu") for text in compare.findings[0].texts())  # lr 0.3's
    compare.choosers[0].setCurrentIndex(2)  # and lr 0.03 on the left
    assert compare.panels[0].layout_ is records[2].history.layout
    assert [f.kind for f in records[2].history.findings] == []  # (its own: none)
    assert not any(text.startswith("dead relu") for text in compare.findings[0].texts())
    compare.slider.setValue(0)  # replayed: both sides at step 0, every curve's marker
    assert compare.shown_steps == [0, 0]
    assert compare.curves.step_marker.isVisible() and compare.curves.step_marker.value() == 0
    compare.close()


def test_the_readout_gives_every_run_at_the_step(qtbot, records):
    compare = CompareWindow(RunList())
    qtbot.addWidget(compare)
    compare.show_records(records)
    losses = [r.history.step_series("loss")[1] for r in records]
    # smoothed (0.9 by default): at step 10, the mean of steps 0..10
    # weighted 0.9^(10 - i), worked out here
    said = compare.curves._values_at(10.2, "loss")
    weights = 0.9 ** np.arange(10, -1, -1)
    values = " · ".join(f"{'ABCD'[k]} {np.average(v[:11], weights=weights):.4g}"
                        for k, v in enumerate(losses))
    assert said == f"train loss (smoothed 0.9) at step 10: {values}"
    compare.smoothing.setValue(0)  # the raw losses
    said = compare.curves._values_at(10.2, "loss")
    values = " · ".join(f"{'ABCD'[k]} {v[10]:.4g}" for k, v in enumerate(losses))
    assert said == f"train loss at step 10: {values}"
    assert compare.lines[0]["loss_smooth"].xData is None or \
        len(compare.lines[0]["loss_smooth"].xData) == 0
    assert compare.lines[0]["loss"].opts["pen"].color().alpha() == 255  # no longer faint
    said = compare.curves._values_at(25, "loss")  # the deeper run ended at step 19
    assert said.startswith("train loss: A ") and said.endswith(" at step 19"), said
    assert said.count("at step 25") == 3, said
    compare.close()


def test_names_are_text_and_a_pair_keeps_its_labels(qtbot, records):
    compare = CompareWindow(RunList())
    qtbot.addWidget(compare)
    odd = RunRecord("<b>bold</b> & co", records[0].design, records[0].history)
    compare.show_records([odd, records[1]])
    assert "&lt;b&gt;bold&lt;/b&gt;&nbsp;&amp;&nbsp;co" in compare.title.text()
    assert not any(c.isVisibleTo(compare) for c in compare.choosers)  # two: no choosing
    assert "&lt;b&gt;bold" in compare.names[0].text() and "lr-0.1" in compare.names[1].text()
    compare.close()


def test_the_runs_dock_compares_up_to_six(window, tmp_path, monkeypatch):
    from desklab.runs import RunWriter
    from desklab.runs.store import design_meta
    monkeypatch.setenv("DESKLAB_RUNS", str(tmp_path))
    for k in range(MAX_RUNS + 1):
        RunWriter(tmp_path / f"run{k}.desklab-run",
                  design_meta(get_preset("deep-relu"), "cpu", 15)).close("finished")
    panel = window.run_panel
    panel.refresh_store()
    assert panel.stored.count() == MAX_RUNS + 1
    for row in range(MAX_RUNS + 1):
        panel.stored.item(row).setSelected(True)
    assert not panel.stored_compare.isEnabled()
    assert f"up to {MAX_RUNS} runs: {MAX_RUNS + 1} are selected" in \
        panel.stored_compare.toolTip()
    panel.stored.item(0).setSelected(False)
    assert panel.stored_compare.isEnabled()
    panel.stored_compare.click()
    compare = window.compare_windows[-1]
    listed = [str(panel.stored.item(row).data(0x0100)) for row in range(1, MAX_RUNS + 1)]
    assert [r.extra["path"] for r in compare.records] == listed  # A, B... in the list's order
    compare.close()


def test_a_diverged_run_leaves_the_loss_plot_at_its_top(qtbot, records):
    """lr 3 diverges (1e17 before NaN): the plot's top is 100x the highest first loss
    (worked out here from the runs' own first losses), so the other runs' curves keep
    its height instead of lying flat along its floor; the title says who is off it."""
    diverged = _run("lr-3", "lr-tuned", 3.0)
    losses = [r.history.step_series("loss")[1] for r in (diverged, records[1])]
    assert np.nanmax(losses[0]) > 1e6  # (it did diverge)
    compare = CompareWindow(RunList())
    qtbot.addWidget(compare)
    compare.show_records([records[1], diverged])
    top = np.log10(DIVERGED * max(v[0] for v in losses))
    assert DIVERGED == 100
    assert compare.loss.vb.viewRange()[1][1] == pytest.approx(top)
    assert "B off the top (over 100x the first loss)" in compare.loss.titleLabel.text
    bottom = np.log10(min(np.nanmin(v[(v > 0) & (v <= 10 ** top)]) for v in losses))
    assert compare.loss.vb.viewRange()[1][0] < bottom  # every kept loss in view
    compare.show_records(records[:2])  # none over: the plot fits its data again
    assert "off the top" not in compare.loss.titleLabel.text
    assert compare.loss.vb.autoRangeEnabled()[1]
    compare.close()


def test_this_sessions_runs_compare_in_the_lists_order(window, records):
    for record in records[:3]:
        window.runs.add(RunRecord(record.name, record.design, record.history, "finished"))
    panel = window.run_panel
    shown = [panel.list.item(row).text() for row in range(3)]  # newest first
    panel.list.selectAll()
    panel.compare_button.click()
    compare = window.compare_windows[-1]
    assert [r.name for r in compare.records] == ["lr-0.03", "lr-0.1", "lr-0.3"]
    assert all(f" {r.name} · " in text for text, r in zip(shown, compare.records)), shown
    compare.close()


def test_a_recurrent_run_among_others_is_drawn_by_depth(qtbot, records):
    """Its gradient by time step and the others' by layer would share one x axis (and
    the title flipped run by run): with any run not recurrent, every run is by depth."""
    design = get_preset("rnn-adding")
    design.input.params["length"] = 12
    design.train.steps, design.train.probe_every = 30, 10
    history = RunHistory()
    for event in Trainer(design).events():
        history.record(event.kind, event.payload)
    rnn = RunRecord("rnn", design, history, "finished", steps=30)
    assert rnn.history.latest.time_grad is not None
    compare = CompareWindow(RunList())
    qtbot.addWidget(compare)
    compare.show_records([rnn, records[0], records[1]])
    assert "by depth" in compare.depth.titleLabel.text
    for k, record in enumerate((rnn, records[0])):
        grad = record.history.latest.stat("grad_mean_abs")
        np.testing.assert_array_equal(compare.lines[k]["depth"].yData, grad[grad > 0])
    compare.show_records([rnn])  # alone, it is by time step again
    assert "by time step" in compare.depth.titleLabel.text
    compare.close()


def test_the_curves_and_the_picture_are_exported(qtbot, records, tmp_path):
    """Ctrl+E's CSV: one row per run and step, the run's letter and name, its loss at
    that step, its validation loss on the row of the step each evaluation followed;
    Ctrl+S's PNG: the window as shown."""
    import csv

    from PySide6.QtGui import QImage
    compare = CompareWindow(RunList())
    qtbot.addWidget(compare)
    compare.resize(1280, 720)
    compare.show_records(records[1:4])
    assert compare.exporter.curves(tmp_path / "c.csv")
    rows = list(csv.DictReader((tmp_path / "c.csv").open()))
    for k, record in enumerate(records[1:4]):
        mine = [r for r in rows if r["run"] == "ABC"[k]]
        assert {r["name"] for r in mine} == {record.name}
        steps, loss = record.history.step_series("loss")
        assert [int(r["step"]) for r in mine] == list(steps)
        np.testing.assert_array_equal([float(r["loss"]) for r in mine], loss)
        evaluated = record.history.metrics.steps  # after N steps: on step N - 1's row
        val = {int(r["step"]) + 1: float(r["val_loss"]) for r in mine if r["val_loss"]}
        assert sorted(val) == list(evaluated)
        np.testing.assert_allclose([val[s] for s in evaluated],
                                   record.history.metric("val_loss"))
    assert len(rows) == sum(len(r.history.step_series("loss")[0]) for r in records[1:4])
    assert compare.exporter.picture(tmp_path / "c.png")
    picture = QImage(str(tmp_path / "c.png"))
    assert picture.width() == compare.centralWidget().width() > 1000
    compare.close()


def test_six_runs_in_the_smallest_window_keep_their_labels_apart(qtbot, records):
    """820 x 540, six runs' names over the plots: the accuracy axis is short, and its
    labels 0.2 apart were drawn over each other (pyqtgraph always draws its major
    ticks); the replay slider keeps a row of its own (beside the names it was a knob)."""
    from PySide6.QtGui import QImage, QPainter
    compare = CompareWindow(RunList())
    qtbot.addWidget(compare)
    compare.show_records([records[k % 4] for k in range(6)])
    compare.resize(820, 540)
    compare.show()
    qtbot.waitExposed(compare)
    qtbot.waitUntil(lambda: compare.acc.vb.height() < 90)
    assert compare.slider.width() > 600
    image = QImage(200, 200, QImage.Format_ARGB32)
    painter = QPainter(image)
    texts = compare.acc.getAxis("left").generateDrawSpecs(painter)[2]
    painter.end()
    rects = [rect for rect, _, _ in texts]
    assert len(rects) >= 2, [t for _, _, t in texts]  # numbers on it
    assert not any(a.intersects(b) for i, a in enumerate(rects) for b in rects[i + 1:]), \
        [(r.top(), r.bottom(), t) for r, _, t in texts]
    compare.close()


LIVE_SCRIPT = """
import sys, time, torch
from torch import nn
import desklab
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3))
opt = torch.optim.SGD(model.parameters(), lr=0.05)
x, y = torch.randn(256, 8), torch.randint(0, 3, (256,))
with desklab.watch(model, opt, every=5, run=sys.argv[1], name="script") as watcher:
    for step in range(100):
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(); loss.backward(); opt.step()
        watcher.log(loss=loss)
        time.sleep(0.03)
"""


def test_a_run_still_training_grows_in_the_compare_window(qtbot, records, tmp_path):
    """A watched script's run chosen from the run store while it trains, beside a run
    that ended: followed from its file, marked live, its curve growing until the script
    ends, when it holds every step the file holds (read with sqlite3)."""
    import sqlite3
    import subprocess
    import sys

    from desklab.gui.controllers.runs import stored_record
    run = tmp_path / "live.desklab-run"
    proc = subprocess.Popen([sys.executable, "-c", LIVE_SCRIPT, str(run)])
    compare = CompareWindow(RunList())
    qtbot.addWidget(compare)
    try:
        def steps_written():
            try:
                db = sqlite3.connect(f"file:{run}?mode=ro", uri=True)  # (never made here)
                try:
                    return db.execute("SELECT COUNT(*) FROM steps").fetchone()[0]
                finally:
                    db.close()
            except sqlite3.Error:
                return 0
        qtbot.waitUntil(lambda: steps_written() >= 10, timeout=60000)
        compare.show_records([stored_record(run), records[1]])
        assert compare.records[0].state == "running"
        assert "●" in compare.title.text() and "●" not in compare.title.text().split("vs")[1]
        first = len(compare.lines[0]["loss"].xData)
        qtbot.waitUntil(lambda: len(compare.lines[0]["loss"].xData) >= first + 20,
                        timeout=30000)  # drawn as it is written, with no one touching it
        assert proc.wait(60) == 0
        qtbot.waitUntil(lambda: "●" not in compare.title.text(), timeout=10000)
        compare._redraw(force=True)
        assert len(compare.lines[0]["loss"].xData) == steps_written() == 100
        with sqlite3.connect(run) as db:  # its newest probe (every 5th step)
            (newest,) = db.execute("SELECT MAX(step) FROM snapshots").fetchone()
        assert compare.shown_steps[0] == newest == 95
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        compare.close()


def test_a_run_hidden_from_the_title_leaves_every_plot(qtbot, records):
    """Its name in the title is a link (the mouse, or Tab and Enter): clicked, its curves
    leave the loss, accuracy and depth plots and the readout; a diverged run hidden no
    longer sets the loss plot's top; clicked again, all come back."""
    diverged = _run("lr-3", "lr-tuned", 3.0)
    compare = CompareWindow(RunList())
    qtbot.addWidget(compare)
    compare.show_records([records[1], diverged, records[2]])
    assert "B off the top" in compare.loss.titleLabel.text
    compare.title.linkActivated.emit("run:1")
    assert not any(item.isVisible() for item in compare.lines[1].values())
    assert all(item.isVisible() for item in compare.lines[0].values())
    assert "<s>" in compare.title.text() and "off the top" not in compare.loss.titleLabel.text
    said = compare.curves._values_at(3, "loss")
    assert " A " in said and " B " not in said and " C " in said, said
    compare.title.linkActivated.emit("run:1")
    assert all(item.isVisible() for item in compare.lines[1].values())
    assert "<s>" not in compare.title.text() and "B off the top" in compare.loss.titleLabel.text
    compare.show_records(records[:3])  # other runs: none hidden
    assert compare.curves.hidden == set()
    compare.show()  # from the keyboard: Tab to the first run's link, Enter
    compare.title.setFocus()
    qtbot.keyClick(compare.title, Qt.Key_Tab)
    qtbot.keyClick(compare.title, Qt.Key_Return)
    assert compare.curves.hidden == {0}
    compare.close()
