"""The training view: controls, the live plots and the findings, drawn from one feed.

What it shows is a `RunFeed`: the app's own run (``controller``, a trainer process),
a run followed from the run store, or a finished run reopened. Events reach the feed
on the GUI thread and only mark it dirty; a QTimer redraws at most 30 times a second
from the latest data.
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QGridLayout, QHBoxLayout, QLabel, QStackedWidget,
                               QVBoxLayout, QWidget)

from ...metrics.records import layer_badges
from ...metrics.report import MAX_CONFUSION_CLASSES
from ..controllers.document import DesignDocument
from .findings import FindingsList
from .plot_scroll import PlotScroll
from ..plots import (ActivationPanel, BoundaryPanel, ConfusionPanel, GradientPanel,
                     HealthPanel, LossPanel, ThroughTimePanel)
from .run_controls import RunControls
from .smoothing_box import smoothing_box
from .train_panel import TrainPanel
from ..controllers.feed import RunFeed
from ..controllers.worker import TrainingController

REDRAW_MS = 33  # <= 30 Hz
DRAW_SHARE = 0.3  # the panels' updates and paints take at most this share of the GUI
# thread: after a panel that cost 15 ms to update and paint, the next waits 50 ms
DIAGNOSE_EVERY_S = 0.25  # the rules run at most 4 times a second (followed runs)


class TrainingView(RunControls, QWidget):
    """Central area of the window: train, watch, stop."""

    badges_changed = Signal(object)  # dict: layer name -> finding text, for the editor's cards
    findings_shown = Signal(object)  # the findings of what is shown now (a list)
    select_layer = Signal(str)
    status_message = Signal(str)

    def __init__(self, doc: DesignDocument, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.setObjectName("training_view")
        self.controller = TrainingController(self)
        self.feed: RunFeed = self.controller  # what the plots show
        self._make_actions()
        self.panel = TrainPanel(doc, [self.act_train, self.act_pause, self.act_step,
                                      self.act_stop, self.act_reset], self)
        self.activations = ActivationPanel()
        self.gradients = GradientPanel()
        self.loss = LossPanel()
        self.health = HealthPanel()
        self.boundary = BoundaryPanel()
        self.through_time = ThroughTimePanel()
        self.confusion = ConfusionPanel()
        # one cell: a recurrent run's gradient through time, the decision boundary of 2-D
        # inputs, else for a classification its confusion matrix (`_cell_panel`)
        self.boundary_cell = QStackedWidget()
        for panel in (self.boundary, self.through_time, self.confusion):
            self.boundary_cell.addWidget(panel)
        self.findings = FindingsList()
        self.panels = [self.activations, self.gradients, self.loss, self.health, self.boundary,
                       self.through_time, self.confusion]
        self.stat_combo = QComboBox()
        for key, (label, _, _) in ActivationPanel.STATS.items():
            self.stat_combo.addItem(label, key)
        self.stat_combo.setToolTip("Statistic shown in the layer x time heatmap")
        self.stat_combo.currentIndexChanged.connect(self._stat_chosen)
        self.smoothing = smoothing_box("lossSmoothing")  # the loss panel's trends
        self.smoothing.valueChanged.connect(self.loss.set_smoothing)
        self.loss.set_smoothing(self.smoothing.value())
        self.grid = grid = QGridLayout()
        grid.setSpacing(4)
        head = QHBoxLayout()  # over the plots: the heatmap's statistic (at the left, over
        head.addWidget(QLabel("heatmap:"))  # its panel), the loss's smoothing (right)
        head.addWidget(self.stat_combo)
        head.addStretch(1)
        head.addWidget(self.smoothing)
        for i, widget in enumerate([self.activations, self.gradients, self.loss, self.health,
                                    self.boundary_cell, self.findings]):
            grid.addWidget(widget, i // 3, i % 3)
        self.plots_area = QWidget()  # what "Export figure sheet" saves
        self.plots_area.setLayout(grid)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.panel)
        layout.addLayout(head)
        layout.addWidget(PlotScroll(self.plots_area), 1)  # a short window scrolls them
        self.redraw_ms: list[float] = []  # cost of each redraw, for the benchmark
        self.timer = QTimer(self)
        self.timer.setInterval(REDRAW_MS)
        self.timer.timeout.connect(self.redraw)
        self.timer.start()
        self._layout, self._unlaid = None, set()  # the run's layout; panels not yet given it
        self._cell = False  # the sixth cell's panel (None: the findings'); False: unset
        self._last_diagnosis = 0.0
        self._stale: set[int] = set()  # panels with data newer than they show
        self._next_panel = 0
        self.first_snapshot_drawn = None  # perf_counter of the run's first probe on screen
        self._points = None  # the data points the boundary panel shows
        self._next_redraw = 0.0  # perf_counter before which no tick redraws (DRAW_SHARE)
        self._status_sent = ""  # the last status line given to the window's status bar
        self.controller.run_failed.connect(self.status_message)
        self.controller.acknowledged.connect(self._acknowledged)
        self._connect(self.controller)
        self.panel.live_change.connect(self._live_change)
        self.findings.layer_clicked.connect(self.select_layer)
        for p in self.panels:
            p.hovered.connect(self.highlight)
            p.hover_detail.connect(self.status_message)  # a curve's value, after its name
        self.doc.edit_guard = self.allow_edit
        self.doc.changed.connect(self.update_status)
        for p in self.panels:
            p.reset()  # the empty state: a hint in each panel until the first run
        self._state_changed("idle")

    # ------------------------------------------------------------ what is shown

    def _connect(self, feed: RunFeed) -> None:
        feed.state_changed.connect(self._state_changed)
        feed.findings_changed.connect(self._findings_changed)

    def show_feed(self, feed: RunFeed) -> None:
        """Draw ``feed`` from now on (a followed run, a reopened one, or the app's own
        run again). The previous feed is left as it is."""
        if feed is self.feed:
            return
        if self.feed is not self.controller:
            self.feed.state_changed.disconnect(self._state_changed)
            self.feed.findings_changed.disconnect(self._findings_changed)
        self.feed = feed
        if feed is not self.controller:
            self._connect(feed)
        self._layout, self._unlaid = None, set()
        self._cell = False  # chosen again at the feed's first redraw
        for p in self.panels:
            p.reset()
        self._points = feed.data_points
        self.boundary.set_data_points(feed.data_points)
        feed.dirty = True
        self._findings_changed()
        self._state_changed(feed.state)
        self.redraw(everything=True)

    def show_history(self, history, state: str = "finished", class_names=(),
                     device: str = "", steps_per_second: float = 0.0) -> None:
        """Show a finished run's measurements (the run list's Open)."""
        self.stop_and_reset()
        feed = RunFeed(self, history, state, tuple(class_names))
        feed.device_name, feed.steps_per_second = device, steps_per_second
        self.show_feed(feed)

    def shown_panels(self) -> list:
        """The panels on screen: the boundary panel or, in its cell for a recurrent run,
        the gradient through time (the figure sheet and the UI map take these)."""
        cell = (self.boundary, self.through_time, self.confusion)
        return [p for p in self.panels if p not in cell or p is self._cell]

    def _cell_panel(self, history):
        """The boundary cell's panel: a recurrent net's gradient through time, 2-D points'
        boundary (or a 1-D regression's curve), a classification's confusion matrix (the
        app's run counts one from its first evaluation, a recorded run has one); None
        (the findings take the cell) for a script's run."""
        if history.layout.time_layers:
            return self.through_time
        if self.feed.data_points is not None:
            return self.boundary
        design = self.feed.design if self.feed is self.controller else None
        classes = history.layout.layers[-1].out_shape[0] if len(history.layout) else 0
        if history.confusion is not None or (  # else nothing is counted:
                design is not None and design.output.task == "classes"
                and 2 <= classes <= MAX_CONFUSION_CLASSES):
            return self.confusion
        return None

    def _show_cell(self, panel) -> None:
        """Put ``panel`` in the boundary cell, or give the cell to the findings (None)."""
        self._cell = panel
        if panel is self.confusion:
            self.confusion.set_class_names(self.feed.class_names)
        self.grid.removeWidget(self.findings)
        if panel is None:
            self.boundary_cell.hide()
            self.grid.addWidget(self.findings, 1, 1, 1, 2)
        else:
            self.boundary_cell.setCurrentWidget(panel)
            self.boundary_cell.show()
            self.grid.addWidget(self.findings, 1, 2)

    def shutdown(self) -> None:
        self.timer.stop()
        self.controller.stop_and_join()

    def _stat_chosen(self, _index: int) -> None:
        self.activations.set_stat(self.stat_combo.currentData())
        self.feed.dirty = True

    def _findings_changed(self) -> None:
        history = self.feed.history
        findings = history.findings if history else []
        self.findings.set_findings(findings)
        self.findings_shown.emit(list(findings))
        self.badges_changed.emit(layer_badges(findings))

    def highlight(self, index: int) -> None:
        if all(p.highlighted == index for p in self.panels):
            return
        for p in self.panels:
            p.highlight(index)
        history = self.feed.history
        if history is not None and history.layout is not None and index >= 0:
            self.status_message.emit(f"layer {history.layout.names[index]}")
        self.feed.dirty = True

    def redraw(self, everything: bool = False) -> None:
        """Refresh from the latest data: one stale panel per tick, round-robin.

        A panel's update and repaint take a few ms with 50 layers; doing all five in one
        tick blocked the event loop for ~45 ms. One per tick keeps each block short, and
        every panel is fresh within five ticks; a costly panel delays the next tick
        (`DRAW_SHARE`), so long blocks never follow each other. ``everything``
        refreshes all at once (screenshots, tests).
        """
        c = self.feed
        if c.history is None:
            return
        if not everything and time.perf_counter() < self._next_redraw:
            return
        if c.dirty:
            c.dirty = False
            self._stale = set(range(len(self.panels)))
        if not self._stale:
            return
        start = time.perf_counter()
        if start - self._last_diagnosis >= DIAGNOSE_EVERY_S:
            self._last_diagnosis = start
            c.diagnose()
        history = c.history
        new_run = history.layout is not None and history.layout is not self._layout
        if new_run:
            self._layout = history.layout  # each panel takes it on its own turn below:
            self._unlaid = set(range(len(self.panels)))  # 50 layers' items, 5-15 ms a panel
        cell = self._cell_panel(history) if self._layout is not None else None
        if new_run or cell is not self._cell:  # (a followed run's points or first
            self._show_cell(cell)  # evaluation may come after its layout)
        order = sorted(self._stale, key=lambda i: (i - self._next_panel) % len(self.panels))
        cost = 0.0
        planned = c.run_steps if c.running else 0
        for index in (order if everything else order[:1]):
            panel = self.panels[index]
            panel.planned_steps, panel.ran_steps = planned, c.step
            if index in self._unlaid:  # this turn lays the panel out, the next fills it
                self._unlaid.discard(index)
                panel.set_layout(self._layout)
                if not everything:
                    self._next_panel = (index + 1) % len(self.panels)
                    continue
            if panel is self.boundary:
                if self._points is not c.data_points:  # a new run's, once it started
                    self._points = c.data_points
                    panel.set_data_points(c.data_points)
                panel.update_grid(c.boundary)
            elif panel is self.confusion:
                panel.update_counts(history.confusion)
            else:
                panel.update(history)
            self._stale.discard(index)
            self._next_panel = (index + 1) % len(self.panels)
            cost += panel.last_paint_ms  # its paint follows; the last one is a fair guess
        if self.first_snapshot_drawn is None and history.latest is not None:
            self.first_snapshot_drawn = time.perf_counter()
        self.update_status()
        spent = (time.perf_counter() - start) * 1000
        self.redraw_ms.append(spent)
        self._next_redraw = start + (spent + cost) / 1000 / DRAW_SHARE

    def update_status(self) -> None:
        """The status line: state, step, speed, loss and where (a followed run's name,
        device and, once it failed, why)."""
        c = self.feed
        loss = c.history.latest_loss() if c.history is not None else math.nan
        # a run shows its own length (a sanity check's 1000 steps, not the design's 200),
        # also once it ended; before any run (or after Reset), the steps field's value
        steps = max(c.run_steps, c.step) if c is not self.controller else \
            c.run_steps or self.doc.design.train.steps
        loss_text = f"{loss:.4g}" if math.isfinite(loss) else "–"
        text = (f"{c.state} · step {c.step}/{steps} · {c.steps_per_second:.0f} steps/s · "
                f"loss {loss_text} · {c.device_name or self.doc.design.train.device}")
        self.panel.status.setText(text)
        self.panel.status.setToolTip(text)  # cut at the panel's edge when it is narrow
        if text != self._status_sent:  # a repeat would cover a newer message (a verdict)
            self._status_sent = text
            self.status_message.emit(text)

__all__ = ["TrainingView", "Qt"]
