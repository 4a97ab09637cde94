"""Side-by-side runs: a lesson pair from the lessons browser, the run list, replay."""

import os

import numpy as np
from PySide6.QtCore import QPointF

from desklab.gui.views.dialogs import LessonDialog
from desklab.gui.controllers.worker import live_threads
from qt_input import mouse_move


def has_data(item) -> bool:
    x, y = item.getData()
    return x is not None and len(x) > 0 and np.isfinite(y).any()


def test_lesson_pair_runs_both_and_both_show_in_the_plots(window, qtbot):
    dialog = LessonDialog(window)
    qtbot.addWidget(dialog)
    dialog.run_both.connect(window.run_pair)
    row = next(i for i in range(dialog.list.count())
               if dialog.list.item(i).data(0x0100) == "lr-too-low")
    dialog.list.setCurrentRow(row)
    assert dialog.both.isEnabled()
    dialog.both.click()
    compare = window.compare_windows[-1]
    screen = compare.screen().availableGeometry()
    assert compare.width() <= screen.width() and compare.height() <= screen.height()
    # live: the views follow the newest snapshot without anyone touching the slider
    qtbot.waitUntil(lambda: (compare.shown_steps[0] or 0) > 0, timeout=30000)
    assert compare.step_label.text() == "live"
    qtbot.waitUntil(lambda: len(window.runs.records) == 2, timeout=30000)
    qtbot.waitUntil(lambda: not compare.controller.running, timeout=10000)
    compare._redraw(force=True)
    names = [r.name for r in compare.records]
    assert names == ["lr-too-low", "lr-tuned"]
    # two trainer processes, one run each (their pids in the run files they wrote)
    from desklab.runs import RunReader
    pids = []
    for record in compare.records:
        reader = RunReader(record.extra["path"])
        pids.append(reader.meta["pid"])
        reader.close()
    assert len(set(pids)) == 2 and os.getpid() not in pids
    assert compare.records[0].design.train.seed == compare.records[1].design.train.seed
    for k in range(2):  # both runs' data in every view
        assert has_data(compare.lines[k]["loss"]) and has_data(compare.lines[k]["val_acc"])
        assert has_data(compare.lines[k]["depth"])
        ridges = compare.panels[k].ridges
        assert len(ridges) > 0
        assert all(len(ridges.layer_data(i)[0]) > 0 for i in range(len(ridges)))
    assert compare.acc in compare.curves.ci.items  # classifications: the accuracy shown
    compare.resize(1280, 720)  # (the test screen is 800 px wide: room made here)
    for k, record in enumerate(compare.records):  # beside each run, its newest boundary
        boundary = compare.boundaries[k]
        assert boundary.isVisible() and not compare.confusions[k].isVisible()
        assert len(boundary.points.data) == len(record.history.data_points[0])
        assert boundary.image.image is not None and not boundary.shown()["hint"]
    grids = [r.history.drawing["label"] for r in compare.records]
    assert (grids[0] != grids[1]).any()  # two runs, two boundaries
    low, tuned = (r.history.metric("loss")[-1] for r in compare.records)
    assert tuned < low / 3  # the lesson, visible side by side
    # at its smallest, the plots still fit: the titles wrap instead of widening their
    # plots (at 900 px the depth plot was cut off, at 700 gone); the depth plot's axis
    # names the layers (it counted 0, 0.5, 1, ... unlabelled)
    compare.resize(compare.minimumSize())
    qtbot.waitUntil(lambda: compare.width() <= 820)  # 800 on the test screen
    compare.grab()  # painted: the axes drew their labels
    assert compare.curves.ci.geometry().width() <= compare.curves.width() + 1
    assert not any(b.isVisible() for b in compare.boundaries)  # no room: left out
    names = compare.records[0].history.layout.names
    drawn = compare.depth.getAxis("bottom").drawn_labels
    assert drawn and set(drawn) <= set(names) and names[0] in drawn, (drawn, names)
    assert compare.depth.getAxis("bottom").labelText.startswith("layer")
    # replay: the per-layer views go back to an early snapshot
    compare.slider.setValue(0)
    assert compare.step_label.text() == "step 0"
    assert compare.shown_steps == [0, 0]
    compare.slider.setValue(compare.slider.maximum())
    assert compare.step_label.text() == "live" and compare.shown_steps[0] > 0
    # a histogram row pointed at on one side is drawn thick on both (it was on neither:
    # the window did not listen)
    compare.resize(1280, 900)
    qtbot.waitUntil(lambda: compare.panels[1].ridge.vb.height() > 100)
    compare.grab()  # room again: every layer named (they stayed thinned for 820 px)
    assert set(compare.depth.getAxis("bottom").drawn_labels) == set(names)
    # pointing at the curves reads both runs there, into the status bar
    histories = [r.history for r in compare.records]
    at = int(histories[0].metrics.steps[1])  # an evaluation's step
    y_mid = sum(compare.loss.vb.viewRange()[1]) / 2  # (log10 of the loss)
    mouse_move(compare.curves, compare.loss.vb.mapViewToScene(QPointF(at, y_mid)))
    told = compare.statusBar().currentMessage()
    train, validation = told.split(" | ")  # each curve, both runs' values at the step
    val = [h.metric("val_loss")[1] for h in histories]
    assert validation == f"validation loss at step {at}: A {val[0]:.4g} · B {val[1]:.4g}"
    assert train.startswith(f"train loss (smoothed 0.9) at step {at}: A "), told
    y_mid = sum(compare.depth.vb.viewRange()[1]) / 2
    mouse_move(compare.curves, compare.depth.vb.mapViewToScene(QPointF(2, y_mid)))
    grads = [h.latest.stat("grad_mean_abs")[2] for h in histories]
    assert compare.statusBar().currentMessage() == (
        f"layer {names[2]} · mean |dL/dh| A {grads[0]:.2g}, B {grads[1]:.2g}")
    side = compare.panels[1]
    middle = sum(side.ridge.vb.viewRange()[0]) / 2
    mouse_move(side, side.ridge.vb.mapViewToScene(QPointF(middle, 2)))
    assert [p.highlighted for p in compare.panels] == [2, 2]  # (one design, two settings)
    told = compare.statusBar().currentMessage()  # the layer and its histogram bin there
    assert told.startswith(f"layer {names[2]} · step ") and " of its values in [" in told
    compare.close()
    assert [t.objectName() for t in live_threads()] == ["desklab-preview"]


def test_run_list_reopen_compare_delete(window, qtbot):
    view = window.training
    for lr in (0.01, 0.001):
        design = window.doc.design.copy()
        design.train.steps, design.train.lr, design.train.eval_every = 40, lr, 20
        view.start(design)
        qtbot.waitUntil(lambda: view.controller.state == "finished", timeout=20000)
    panel = window.run_panel
    assert panel.list.count() == 2 and "lr 0.001" in panel.list.item(0).text()
    records = list(window.runs.records)
    compare = window.compare_runs(records)
    compare._redraw(force=True)
    assert all(has_data(compare.lines[k]["loss"]) for k in range(2))
    # the depth plot names every layer once laid out (its names were thinned for the
    # plot's width before the window first showed: every other one, for good)
    compare.resize(1280, 720)
    qtbot.waitExposed(compare)
    qtbot.waitUntil(lambda: compare.depth.vb.width() > 250)
    compare.grab()
    names = records[0].history.layout.names
    assert set(compare.depth.getAxis("bottom").drawn_labels) == set(names), names
    compare.close()
    window.reopen_run(records[0])
    assert window.doc.design.train.lr == 0.01
    assert view.feed.history is records[0].history and view.feed.state == "finished"
    assert has_data(view.loss.train_loss)
    panel.list.item(0).setSelected(True)
    panel.delete_button.click()
    assert len(window.runs.records) == 1


def test_run_list_is_bounded():
    from desklab.design import NetworkDesign
    from desklab.gui.controllers.runs import MAX_RUNS, RunList, RunRecord
    from desklab.metrics import RunHistory
    runs = RunList()
    for i in range(MAX_RUNS + 7):
        runs.add(RunRecord(f"r{i}", NetworkDesign(), RunHistory()))
    assert len(runs.records) == MAX_RUNS and runs.records[0].name == "r7"


def test_stopping_a_pair_still_records_both_runs(window, qtbot, monkeypatch):
    """The pair's last events are queued when Stop joins its thread; they must land
    (each side's 'ended' puts the run in the run list), not be dropped as stale. Both
    runs start together, once both trainer processes are warm; each step takes 30 ms
    more here (the test-only fault hook), so the stop comes mid-run."""
    monkeypatch.setenv("DESKLAB_TRAINER_FAULT", "slow=0.03")
    compare = window.run_pair("lr-too-low")
    controller = compare.controller
    qtbot.waitUntil(lambda: all(side.step > 0 for side in controller.sides),
                    timeout=20000)
    controller.stop()
    assert [r.state for r in controller.records] == ["stopped", "stopped"]
    assert all(0 < r.steps < 2000 for r in controller.records)
    assert {r.name for r in window.runs.records} == {"lr-too-low", "lr-tuned"}
    compare.close()


def test_recurrent_runs_side_by_side_overlay_their_gradient_through_time(qtbot):
    """Two finished recurrent runs: the depth plot becomes ||dL/dh_t|| by time step, each
    run's curve the snapshot's own row at the slider (step 0 and the last)."""
    from desklab.engine.trainer import Trainer
    from desklab.gui.controllers.runs import RunList, RunRecord
    from desklab.gui.views.compare import CompareWindow
    from desklab.lessons import get_preset
    from desklab.metrics import RunHistory
    records = []
    for slug in ("rnn-adding", "lstm-adding"):
        design = get_preset(slug)
        design.input.params["length"] = 12
        design.train.steps, design.train.probe_every = 30, 10
        history = RunHistory()
        for event in Trainer(design).events():
            if event.kind in ("snapshot", "metrics", "steps"):
                history.record(event.kind, event.payload)
        records.append(RunRecord(slug, design, history, "finished", steps=30))
    compare = CompareWindow(RunList())
    qtbot.addWidget(compare)
    compare.show_records(records)
    compare._redraw(force=True)
    assert "by time step" in compare.depth.titleLabel.text
    # two regressions: no empty accuracy plot between the loss and the depth plots
    assert compare.loss in compare.curves.ci.items and compare.depth in compare.curves.ci.items
    assert compare.acc not in compare.curves.ci.items
    for k, record in enumerate(records):
        item = compare.lines[k]["depth"]  # its raw data (getData gives log10 here)
        x, y = item.xData, item.yData
        np.testing.assert_array_equal(x, np.arange(1, 13))
        np.testing.assert_array_equal(y, record.history.latest.time_grad[0])
    assert compare.shown_steps == [29, 29]  # opened at the end (the last step's probe)
    compare.slider.setValue(0)
    np.testing.assert_array_equal(compare.lines[1]["depth"].yData,
                                  records[1].history.first.time_grad[0])
    compare.close()
