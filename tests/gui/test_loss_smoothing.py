"""The training view's loss panel smooths its training curves (0.6 by default, the
spin box over the plots): the trend over the raw curve, which stays, faint; a new
weight redraws at once, 0 brings back the raw curves alone."""

import numpy as np

from desklab.engine.trainer import Trainer
from desklab.gui.plots import LossPanel
from desklab.lessons import get_preset
from desklab.metrics import RunHistory


def test_the_trend_is_the_weighted_mean_so_far(qtbot):
    design = get_preset("lr-tuned")
    design.train.steps, design.train.eval_every = 60, 20
    history = RunHistory()
    for event in Trainer(design).events():
        history.record(event.kind, event.payload)
    steps, loss = history.step_series("loss")
    panel = LossPanel()
    qtbot.addWidget(panel)
    panel.set_smoothing(0.9)
    panel.update(history)
    np.testing.assert_array_equal(panel.train_loss.yData, loss)  # the raw curve stays

    def weighted_means(w):  # point i: the mean of points 0..i weighted w^(i - j)
        return [np.average(loss[:i + 1], weights=w ** np.arange(i, -1, -1))
                for i in range(len(loss))]
    np.testing.assert_allclose(panel.loss_trend.yData, weighted_means(0.9), rtol=1e-9)
    assert panel.train_loss.opts["pen"].color().alpha() < 255  # faint behind
    panel.set_smoothing(0.5)  # no new step needed to see it
    np.testing.assert_allclose(panel.loss_trend.yData, weighted_means(0.5), rtol=1e-9)
    panel.set_smoothing(0.0)
    assert panel.loss_trend.xData is None or len(panel.loss_trend.xData) == 0
    assert panel.train_loss.opts["pen"].color().alpha() == 255
    panel.reset()  # a new run: nothing of the old one is drawn again
    panel.set_smoothing(0.9)
    assert panel.loss_trend.xData is None or len(panel.loss_trend.xData) == 0


def test_the_last_smoothing_is_kept_for_the_next_window(window, settings, qtbot):
    """Set in one window, the next window (the next launch: the same settings file)
    opens with it, in the box and in the plots; the compare window keeps its own. A
    value the settings file does not hold as a number in range is left out."""
    from desklab.gui.controllers.runs import RunRecord
    from desklab.gui.views.main_window import MainWindow
    window.training.smoothing.setValue(0.2)
    records = [RunRecord(name, window.doc.design, RunHistory()) for name in ("a", "b")]
    compare = window.compare_runs(records)
    assert compare.smoothing.value() == 0.9  # its own default
    compare.smoothing.setValue(0.7)
    compare.close()
    settings.sync()
    again = MainWindow(settings=settings, offer_restore=False)
    qtbot.addWidget(again)
    assert again.training.smoothing.value() == 0.2 and again.training.loss.smoothing == 0.2
    other = again.compare_runs(records)
    assert other.smoothing.value() == 0.7 and other.curves.smoothing == 0.7
    other.close()
    for bad in ("lots", "nan", "5", ""):
        settings.setValue("view/smoothing", bad)
        third = MainWindow(settings=settings, offer_restore=False)
        qtbot.addWidget(third)
        assert third.training.smoothing.value() == 0.6, bad
        third.doc.undo_stack.setClean()
        third.close()
    again.doc.undo_stack.setClean()
    again.close()
