"""Train ▸ Loss landscape: computed off the GUI thread with progress and Cancel, drawn as
a heatmap with isolines and the current point, and summarised in numbers."""

import numpy as np


def test_landscape_window_computes_and_cancels(window, qtbot):
    window.act_landscape.trigger()
    view = window.landscape_window
    assert view.isVisible() and view.weights.currentText() == "current design, at init"
    # before a result: the span's units on the axes, not pyqtgraph's 0..1 as mU
    assert view.surface.vb.viewRange() == [[-1.0, 1.0], [-1.0, 1.0]]
    assert view.surface.getAxis("bottom").labelUnitPrefix == ""
    view.grid.setValue(7)
    view.compute.click()
    qtbot.waitUntil(lambda: view.compute.isEnabled(), timeout=60000)
    assert "local minima" in view.summary.text() and "cancelled" not in view.summary.text()
    image = view.image.image
    assert image.shape == (7, 7) and np.isfinite(image).all()
    assert len(view.isolines) == 6
    assert view.bar.value() == view.bar.maximum() == 49
    x, y = view.centre.getData()
    assert (x[0], y[0]) == (0.0, 0.0)
    # the slice's log axis spans whole decades around both curves (labels at both ends)
    lo, hi = view.lines.vb.viewRange()[1]
    _, slice_loss = view.slice_curve.getData()  # log10 values (a log-mode plot)
    assert lo <= np.nanmin(slice_loss) and hi >= np.nanmax(slice_loss) and hi - lo >= 1
    span = view.span.value()
    assert view.surface.vb.viewRange()[0][0] < -span * 0.99
    view.grid.setValue(101)  # 10,201 forward passes: cancel it
    view.compute.click()
    qtbot.waitUntil(lambda: view.bar.value() > 0, timeout=30000)
    view.cancel.click()
    qtbot.waitUntil(lambda: view.compute.isEnabled(), timeout=60000)
    assert "cancelled" in view.summary.text()
    view.close()


def test_the_runs_dock_opens_the_landscape_where_a_run_ended(window, qtbot):
    design = window.doc.design.copy()
    design.train.steps = 30
    window.training.start(design)
    qtbot.waitUntil(lambda: len(window.runs.records) == 1, timeout=60000)
    panel = window.run_panel
    panel.list.item(0).setSelected(True)
    assert panel.landscape_button.isEnabled()
    panel.landscape_button.click()
    view = window.landscape_window
    assert view.weights.currentText().startswith("run #1")
    chosen_design, weights = view.weights.currentData()
    record = window.runs.records[0]
    assert chosen_design is record.design and weights == record.extra["weights_path"]
    # the trainer process saved the weights beside the run: a state_dict of tensors only
    import torch
    state = torch.load(weights, weights_only=True)
    from desklab.engine import build
    assert set(state) == set(build(record.design).state_dict())
    assert weights.startswith(record.extra["path"].removesuffix(".desklab-run"))
    view.grid.setValue(5)
    view.compute.click()
    qtbot.waitUntil(lambda: view.compute.isEnabled(), timeout=60000)
    assert "local minima" in view.summary.text()
    view.close()


def test_a_paused_run_offers_its_weights_at_that_step(window, qtbot):
    design = window.doc.design.copy()
    design.train.steps = 10**6
    window.training.start(design)
    controller = window.training.controller
    qtbot.waitUntil(lambda: controller.state == "running" and controller.step > 5,
                    timeout=30000)
    window.training.act_pause.trigger()
    qtbot.waitUntil(lambda: controller.state == "paused", timeout=10000)
    window.act_landscape.trigger()
    view = window.landscape_window
    assert view.weights.currentText().startswith("the paused run, at step")
    # asked for and saved by the paused trainer between steps, then offered
    qtbot.waitUntil(lambda: "saving" not in view.weights.currentText(), timeout=10000)
    assert view.compute.isEnabled()
    import torch
    paused = torch.load(view.weights.currentData()[1], weights_only=True)
    view.close()
    with qtbot.waitSignal(controller.run_ended, timeout=5000):
        window.training.stop()
    final = torch.load(controller.ended_info.weights_path, weights_only=True)
    assert all(torch.equal(paused[k], final[k]) for k in final)  # no step after the pause


def test_a_narrow_landscape_window_wraps_its_titles(window, qtbot):
    """At 760 px the slice plot's one-line title made it wider than the window: the
    plot was cut off at the right. Its title wraps now; every plot fits."""
    window.act_landscape.trigger()
    view = window.landscape_window
    view.resize(760, 480)
    qtbot.waitUntil(lambda: view.width() == 760)
    view.grab()
    assert view.plots.ci.geometry().width() <= view.plots.width() + 1
    assert view.lines.titleLabel.itemRect().height() > 20  # two lines
    view.close()
