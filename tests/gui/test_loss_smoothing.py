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
