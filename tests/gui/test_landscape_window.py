"""Train ▸ Loss landscape: computed off the GUI thread with progress and Cancel, drawn as
a heatmap with isolines and the current point, and summarised in numbers."""

import numpy as np


def test_landscape_window_computes_and_cancels(window, qtbot):
    window.act_landscape.trigger()
    view = window.landscape_window
    assert view.isVisible() and view.weights.currentText() == "current design, at init"
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
    assert chosen_design is record.design and weights is record.extra["weights"]
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
    view.close()
    window.training.stop()
