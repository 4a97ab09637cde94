"""The training view: controls, the live plots and the findings, around one controller.

Snapshots arrive on the GUI thread through the controller's slots and only mark
the view dirty; a QTimer redraws at most 30 times a second from the latest data.
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox, QGridLayout, QHBoxLayout, QLabel, QMessageBox, QVBoxLayout, QWidget,
)

from ..controllers.document import DesignDocument
from .findings import FindingsList
from ..icons import icon
from ..plots import ActivationPanel, BoundaryPanel, GradientPanel, HealthPanel, LossPanel
from .download_dialog import data_ready_or_offer
from .train_panel import TrainPanel
from ..controllers.worker import TrainingController

REDRAW_MS = 33  # <= 30 Hz
DIAGNOSE_EVERY_S = 0.25  # the rules run at most 4 times a second
ENDED = ("finished", "stopped", "diverged", "failed", "early_stopped")


class TrainingView(QWidget):
    """Central area of the window: train, watch, stop."""

    badges_changed = Signal(dict)  # layer name -> finding text, for the editor's cards
    select_layer = Signal(str)
    status_message = Signal(str)

    def __init__(self, doc: DesignDocument, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.setObjectName("training_view")
        self.controller = TrainingController(self)
        self._make_actions()
        self.panel = TrainPanel(doc, [self.act_train, self.act_pause, self.act_step,
                                      self.act_stop, self.act_reset], self)
        self.activations = ActivationPanel()
        self.gradients = GradientPanel()
        self.loss = LossPanel()
        self.health = HealthPanel()
        self.boundary = BoundaryPanel()
        self.findings = FindingsList()
        self.panels = [self.activations, self.gradients, self.loss, self.health, self.boundary]
        self.stat_combo = QComboBox()
        for key, (label, _, _) in ActivationPanel.STATS.items():
            self.stat_combo.addItem(label, key)
        self.stat_combo.setToolTip("Statistic shown in the layer x time heatmap")
        self.stat_combo.currentIndexChanged.connect(self._stat_chosen)
        grid = QGridLayout()
        grid.setSpacing(4)
        activations = QWidget()
        col = QVBoxLayout(activations)
        col.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(QLabel("heatmap:"))
        head.addWidget(self.stat_combo, 1)
        col.addLayout(head)
        col.addWidget(self.activations, 1)
        for i, widget in enumerate([activations, self.gradients, self.loss, self.health,
                                    self.boundary, self.findings]):
            grid.addWidget(widget, i // 3, i % 3)
        self.plots_area = QWidget()  # what "Export figure sheet" saves
        self.plots_area.setLayout(grid)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.panel)
        layout.addWidget(self.plots_area, 1)
        self.redraw_ms: list[float] = []  # cost of each redraw, for the benchmark
        self.timer = QTimer(self)
        self.timer.setInterval(REDRAW_MS)
        self.timer.timeout.connect(self.redraw)
        self.timer.start()
        self._layout = None
        self._last_diagnosis = 0.0
        self._stale: set[int] = set()  # panels with data newer than they show
        self._next_panel = 0
        self.controller.state_changed.connect(self._state_changed)
        self.controller.findings_changed.connect(self._findings_changed)
        self.controller.run_failed.connect(lambda m: self.status_message.emit(m))
        self.panel.live_change.connect(self._live_change)
        self.findings.layer_clicked.connect(self.select_layer)
        for p in self.panels:
            p.hovered.connect(self.highlight)
        self.doc.edit_guard = self.allow_edit
        self.doc.changed.connect(self._update_status)
        for p in self.panels:
            p.reset()  # the empty state: a hint in each panel until the first run
        self._state_changed("idle")

    # ------------------------------------------------------------ actions

    def _make_actions(self) -> None:
        def action(text, slot, keys, tip):
            a = QAction(icon(slot.__name__.replace("toggle_", "")), text, self)
            a.setShortcuts([QKeySequence(k) for k in keys])
            a.setToolTip(f"{tip} ({', '.join(keys)})")
            a.triggered.connect(slot)
            a.setObjectName("act_" + slot.__name__.replace("toggle_", ""))
            self.addAction(a)
            return a
        self.act_train = action("Train", self.train, ["F5", "Ctrl+Return"],
                                "Train the design from scratch")
        self.act_pause = action("Pause", self.toggle_pause, ["F6"], "Pause or resume")
        self.act_step = action("Step", self.step, ["F10"], "Take one probed step while paused")
        self.act_stop = action("Stop", self.stop, ["Shift+F5"], "Stop the run")
        self.act_reset = action("Reset", self.reset, ["Ctrl+R"],
                                "Stop and clear the plots")

    def train(self) -> None:
        if not self.doc.analysis.ok:
            self.status_message.emit(f"Cannot train: {self.doc.analysis.problems[0]}")
            return
        if data_ready_or_offer(self, self.doc.design, then=self.train):  # else: downloads
            self.start(self.doc.design)

    def start(self, design) -> None:
        """Start a run of ``design`` (the screenshot mode passes a trimmed copy)."""
        self._layout = None
        self.controller.start(design)
        self.boundary.set_data_points(self.controller.data_points)

    def toggle_pause(self) -> None:
        if self.controller.state == "paused":
            self.controller.resume()
        elif self.controller.running:
            self.controller.pause()

    def step(self) -> None:
        if self.controller.state == "paused":
            self.controller.step_once()

    def stop(self) -> None:
        joined = self.controller.stop_and_join()
        if self.controller.state not in ENDED:
            self.controller._set_state("stopped")
        self._tell_if_detached(joined)

    def _tell_if_detached(self, joined: bool) -> None:
        """After a stop: say so when the current step finishes in the background."""
        if not joined:
            self.status_message.emit("Stopped. The step in progress is finishing in the "
                                     "background; its result is discarded.")

    def reset(self) -> None:
        self.stop_and_reset()

    def stop_and_reset(self) -> None:
        """Stop, join, and clear everything the last run drew."""
        joined = self.controller.stop_and_join()
        self.controller.history = None
        self._layout = None
        for p in self.panels:
            p.reset()
        self.findings.set_findings([])
        self.badges_changed.emit({})
        c = self.controller
        c.step, c.steps_per_second, c.run_steps, c.device_name = 0, 0.0, 0, ""
        self.controller._set_state("idle")
        self._tell_if_detached(joined)

    def show_history(self, history) -> None:
        """Show a finished run's measurements (the run list's Open)."""
        self.stop_and_reset()
        self.controller.history = history
        self.controller.dirty = True
        self._findings_changed()
        self.redraw(everything=True)

    def shutdown(self) -> None:
        self.timer.stop()
        self.controller.stop_and_join()

    def allow_edit(self) -> bool:
        """Editing the network while it trains asks to stop first."""
        if not self.controller.running:
            return True
        if self.ask_stop_to_edit() != QMessageBox.Yes:
            return False
        self.stop()
        return True

    def ask_stop_to_edit(self):
        return QMessageBox.question(self, "Training is running",
                                    "Stop training to edit the design?",
                                    QMessageBox.Yes | QMessageBox.No, QMessageBox.No)

    # ------------------------------------------------------------ updates

    def _live_change(self, key: str, value: float) -> None:
        {"lr": self.controller.set_lr, "l1": self.controller.set_l1,
         "l2": self.controller.set_l2}[key](value)

    def _stat_chosen(self, _index: int) -> None:
        self.activations.set_stat(self.stat_combo.currentData())
        self.controller.dirty = True

    def _state_changed(self, state: str) -> None:
        running = state in ("starting", "running", "paused")
        self.act_train.setEnabled(not running)
        self.act_pause.setEnabled(running)
        self.act_pause.setText("Resume" if state == "paused" else "Pause")
        self.act_pause.setIcon(icon("resume" if state == "paused" else "pause"))
        self.act_step.setEnabled(state == "paused")
        self.act_stop.setEnabled(running)
        self.panel.set_running(running)
        self._update_status()

    def _findings_changed(self) -> None:
        history = self.controller.history
        findings = history.findings if history else []
        self.findings.set_findings(findings)
        badges = {}
        for f in findings:
            if f.end is not None:
                continue  # resolved: in the list (dimmed), no longer a badge on the card
            for name in (f.layers or ((f.layer,) if f.layer else ())):
                badges.setdefault(name, f.kind.replace("_", " "))
        self.badges_changed.emit(badges)

    def highlight(self, index: int) -> None:
        if all(p.highlighted == index for p in self.panels):
            return
        for p in self.panels:
            p.highlight(index)
        history = self.controller.history
        if history is not None and history.layout is not None and index >= 0:
            self.status_message.emit(f"layer {history.layout.names[index]}")
        self.controller.dirty = True

    def redraw(self, everything: bool = False) -> None:
        """Refresh from the latest data: one stale panel per tick, round-robin.

        A panel's update and repaint take a few ms with 50 layers; doing all five in one
        tick blocked the event loop for ~45 ms. One per tick keeps each block short, and
        every panel is fresh within five ticks. ``everything`` refreshes all at once
        (screenshots, tests).
        """
        c = self.controller
        if c.history is None:
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
        if history.layout is not None and history.layout is not self._layout:
            self._layout = history.layout
            for p in self.panels:
                p.set_layout(history.layout)
        order = sorted(self._stale, key=lambda i: (i - self._next_panel) % len(self.panels))
        for index in (order if everything else order[:1]):
            panel = self.panels[index]
            if panel is self.boundary:
                panel.update_grid(c.boundary)
            else:
                panel.update(history)
            self._stale.discard(index)
            self._next_panel = (index + 1) % len(self.panels)
        self._update_status()
        self.redraw_ms.append((time.perf_counter() - start) * 1000)

    def _update_status(self) -> None:
        c = self.controller
        loss = math.nan
        if c.history is not None and len(c.history.metrics):
            loss = float(c.history.metric("loss")[-1])
        elif c.history is not None and c.history.latest is not None:
            loss = c.history.latest.loss
        # a run shows its own length; otherwise the steps field's value
        steps = c.run_steps if (c.running or c.state == "following") and c.run_steps \
            else self.doc.design.train.steps
        loss_text = f"{loss:.4g}" if math.isfinite(loss) else "–"
        text = (f"{c.state} · step {c.step}/{steps} · {c.steps_per_second:.0f} steps/s · "
                f"loss {loss_text} · {c.device_name or self.doc.design.train.device}")
        self.panel.status.setText(text)
        self.status_message.emit(text)

    def actions_for_menu(self) -> list[QAction]:
        return [self.act_train, self.act_pause, self.act_step, self.act_stop, self.act_reset]


__all__ = ["TrainingView", "Qt"]
