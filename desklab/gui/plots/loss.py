"""Loss and accuracy: every training step, and validation at each evaluation; with
smoothing (`set_smoothing`), each training curve's trend over it, the raw one faint."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from ...metrics import RunHistory
from ...metrics.smoothing import RunningEma
from .hover import read_curves
from .base import (MAX_STEP_POINTS, Panel, _log_range, _set_range, _step_range, _thin,
                   legend_title, show_item)


class LossPanel(Panel):
    """Loss and accuracy: every training step's batch values (thin lines), validation at
    evaluations (markers), top-5 only when there are more than 5 classes. A run with no
    accuracy (a regression, or a followed script that reports none) shows the loss
    alone, over the panel's whole height, rather than an empty accuracy plot."""

    HINT = ("Press <b>Train</b> (F5): the loss of every training step and the validation "
            "loss at each evaluation appear here, with the accuracy below.")
    TRAIN, VAL = "#1e64c8", "#e07b00"

    def __init__(self, parent=None):
        super().__init__("Loss and accuracy", parent)
        self.setObjectName("lossPlot")
        self.loss = self._plot("")
        self.loss.setLogMode(y=True)
        self.loss.disableAutoRange()  # set in update: whole decades, always labelled, so a
        # near-flat loss looks flat (auto range stretched a loss of 1.0986 +- 0.001 to fill
        # the plot, with no tick label); and an axis whose range moves redoes its ticks
        self.loss.setLabel("left", "loss")
        self.loss.setLabel("bottom", "step")  # shown while the accuracy plot is not
        self.loss.showLabel("bottom", False)
        self.train_loss = self.loss.plot(pen=pg.mkPen(self.TRAIN, width=1))
        self.val_loss = self.loss.plot(pen=pg.mkPen(self.VAL, width=1.5), symbol="o",
                                       symbolSize=4, symbolBrush=self.VAL, symbolPen=None)
        self.nextRow()
        self.acc = self._plot("")
        self.acc.disableAutoRange()
        _set_range(self.acc, "y", 0, 1.02)
        self.acc.setLabel("bottom", "step")
        self.acc.setLabel("left", "accuracy")
        self.train_acc = self.acc.plot(pen=pg.mkPen(self.TRAIN, width=1))
        self.val_acc = self.acc.plot(pen=pg.mkPen(self.VAL, width=1.5), symbol="o",
                                     symbolSize=4, symbolBrush=self.VAL, symbolPen=None)
        self.train_top5 = self.acc.plot(pen=pg.mkPen(self.TRAIN, width=1, style=Qt.DashLine))
        self.val_top5 = self.acc.plot(pen=pg.mkPen(self.VAL, width=1.5, style=Qt.DashLine))
        self.loss_trend = self.loss.plot(pen=pg.mkPen(self.TRAIN, width=1.5))  # smoothed
        self.acc_trend = self.acc.plot(pen=pg.mkPen(self.TRAIN, width=1.5))
        self.smoothing, self._trends = 0.0, {}
        self._history = None  # what was drawn last: drawn again when the smoothing changes
        self._set_titles(False)
        losses = (("train loss", self.train_loss), ("smoothed loss", self.loss_trend),
                  ("validation loss", self.val_loss))
        accuracies = (("train accuracy", self.train_acc), ("smoothed", self.acc_trend),
                      ("validation accuracy", self.val_acc),
                      ("train top-5", self.train_top5), ("validation top-5", self.val_top5))
        self.hover.on_plot(self.loss, lambda x, _y: read_curves(x, losses))
        self.hover.on_plot(self.acc, lambda x, _y: read_curves(x, accuracies))

    def _show_accuracy(self, shown: bool) -> None:
        """The accuracy plot under the loss, or out of the layout: the loss then carries
        the step axis."""
        if show_item(self.ci, self.acc, shown, row=1, col=0):
            self.loss.showLabel("bottom", not shown)

    def reset(self) -> None:
        super().reset()
        self._history = None
        self._show_accuracy(True)  # until a run shows it has none

    def _set_titles(self, top5: bool) -> None:
        self._top5 = top5
        self.loss.setTitle(legend_title("Loss", [("train", self.TRAIN, False),
                                                 ("validation", self.VAL, False)]), size="9pt")
        entries = [("train", self.TRAIN, False), ("validation", self.VAL, False)]
        if top5:
            entries += [("top-5", "#555555", True)]
        self.acc.setTitle(legend_title("Accuracy" + (" (top-1, top-5)" if top5 else ""),
                                       entries), size="9pt")
        self.train_top5.setVisible(top5)
        self.val_top5.setVisible(top5)

    def _fixed_items(self) -> list:
        return [self.train_loss, self.val_loss, self.train_acc, self.val_acc,
                self.train_top5, self.val_top5, self.loss_trend, self.acc_trend]

    def set_smoothing(self, weight: float) -> None:
        """Draw each training curve's trend (`metrics.smoothing`, ``weight``; 0: none),
        the raw curve faint behind it."""
        self.smoothing = weight
        self._trends = {"loss": RunningEma(weight), "train_acc": RunningEma(weight)}
        raw = pg.mkColor(self.TRAIN)
        raw.setAlpha(70 if weight else 255)
        for curve in (self.train_loss, self.train_acc):
            curve.setPen(pg.mkPen(raw, width=1))
        if self._history is not None:
            self.update(self._history)
        else:
            self.loss_trend.setData([], [])
            self.acc_trend.setData([], [])

    def update(self, history: RunHistory) -> None:
        steps, loss = history.step_series("loss")
        if not len(steps) and not len(history.metrics):
            return
        self._show_hint(False)
        self._history = history
        _, acc = history.step_series("train_acc")
        smoothing = self.smoothing > 0
        draw_trend(self.loss_trend, smoothing and self._trends["loss"], steps, loss, True)
        draw_trend(self.acc_trend, smoothing and self._trends["train_acc"], steps, acc, False)
        steps, values = _thin(steps, np.stack([loss, acc]), MAX_STEP_POINTS)
        positive = np.isfinite(values[0]) & (values[0] > 0)
        self.train_loss.setData(steps[positive], values[0][positive])
        finite = np.isfinite(values[1])
        self.train_acc.setData(steps[finite], values[1][finite])
        evaluated = history.metrics.steps
        has_accuracy = bool(finite.any())
        for curve, name in ((self.val_loss, "val_loss"), (self.val_acc, "val_acc"),
                            (self.train_top5, "train_top5"), (self.val_top5, "val_top5")):
            v = history.metric(name) if len(evaluated) else np.zeros(0)
            keep = np.isfinite(v) & ((v > 0) if "loss" in name else True)
            curve.setData(evaluated[keep], v[keep])
            has_accuracy |= name == "val_acc" and bool(keep.any())
        self._show_accuracy(has_accuracy)
        shown = np.concatenate([steps, evaluated])
        _step_range(self.loss, shown, self.planned_steps, ran=self.ran_steps)
        _step_range(self.acc, shown, self.planned_steps, ran=self.ran_steps)
        _log_range(self.loss, np.concatenate([values[0], history.metric("val_loss")
                                              if len(evaluated) else []]))
        top5 = bool(len(evaluated)) and bool(np.isfinite(history.metric("val_top5")).any() or
                                             np.isfinite(history.metric("train_top5")).any())
        if top5 != self._top5:
            self._set_titles(top5)


def draw_trend(curve, trend, steps: np.ndarray, values: np.ndarray, positive: bool) -> None:
    """``curve``: ``values`` (N,) at ``steps`` (N,) smoothed by ``trend`` (a
    `RunningEma`; falsy: nothing drawn), thinned to draw; only the points above 0 where
    ``positive`` (a log axis). The loss panel's and the compare window's trends."""
    if not trend:
        curve.setData([], [])
        return
    x, y = _thin(steps, trend(steps, values), MAX_STEP_POINTS)
    ok = np.isfinite(y) & ((y > 0) if positive else True)
    curve.setData(x[ok], y[ok])
