"""Train ▸ Loss landscape: computed off the GUI thread with progress and Cancel, drawn as
a heatmap with isolines and the current point, and summarised in numbers."""

import numpy as np


def test_landscape_window_computes_and_cancels(window, qtbot):
    window.act_landscape.trigger()
    view = window.landscape_window
    assert view.isVisible() and view.weights.currentText() == "at init"
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
