"""The training view's run controls (a mixin of `TrainingView`): the actions and their
shortcuts, Train, Pause/Resume, Step, Stop, Reset, live learning rate and penalties,
and the question before an edit while a run trains.

They act on the app's own run (``self.controller``, a trainer process), whatever feed
the plots show.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox

from ..icons import icon
from .download_dialog import data_ready_or_offer


class RunControls:
    """Needs ``controller``, ``doc``, ``panel``, ``panels``, ``boundary``, ``findings``
    and the signals ``status_message`` and ``badges_changed`` of the view."""

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
        self.first_snapshot_drawn = None
        self.controller.start(design)
        self.show_feed(self.controller)
        self._layout, self._unlaid = None, set()
        for p in self.panels:
            p.reset()
        self._points = None
        self.boundary.set_data_points(None)  # they come with the trainer's "started"

    def toggle_pause(self) -> None:
        if self.controller.state == "paused":
            self.controller.resume()
        elif self.controller.running:
            self.controller.pause()

    def step(self) -> None:
        if self.controller.state == "paused":
            self.controller.step_once()

    def stop(self) -> None:
        """Ask the run to stop; returns at once. A step still running after the grace
        period ends with its process (the window never waits for it)."""
        if self.controller.running:
            self.controller.stop()
            self.status_message.emit("Stopping after the current step…")

    def reset(self) -> None:
        self.stop_and_reset()

    def stop_and_reset(self) -> None:
        """Stop, wait for the run to end (a second at most), and clear the plots."""
        self.controller.stop_and_join()
        self.controller.begin()
        self.controller._set_state("idle")
        self.show_feed(self.controller)
        self._layout, self._unlaid = None, set()
        for p in self.panels:
            p.reset()
        self.findings.set_findings([])
        self.findings_shown.emit([])
        self.badges_changed.emit({})

    def allow_edit(self) -> bool:
        """Editing the network while it trains asks to stop first."""
        if not self.controller.running:
            return True
        if self.ask_stop_to_edit() != QMessageBox.Yes:
            return False
        self.controller.stop_and_join()  # the run has ended when the edit is made
        return True

    def ask_stop_to_edit(self):
        return QMessageBox.question(self, "Training is running",
                                    "Stop training to edit the design?",
                                    QMessageBox.Yes | QMessageBox.No, QMessageBox.No)

    # ------------------------------------------------------------ updates

    def _acknowledged(self, name: str, value) -> None:
        if name in ("lr", "l1", "l2") and value is not None:
            label = {"lr": "learning rate", "l1": "L1", "l2": "L2"}[name]
            self.status_message.emit(f"{label} {value:g} in force from step "
                                     f"{self.controller.step}")

    def _live_change(self, key: str, value: float) -> None:
        {"lr": self.controller.set_lr, "l1": self.controller.set_l1,
         "l2": self.controller.set_l2}[key](value)

    def _state_changed(self, _state: str = "") -> None:
        state = self.controller.state  # the buttons act on the app's own run
        running = state in ("starting", "running", "paused")
        self.act_train.setEnabled(not running)
        self.act_pause.setEnabled(running)
        self.act_pause.setText("Resume" if state == "paused" else "Pause")
        self.act_pause.setIcon(icon("resume" if state == "paused" else "pause"))
        self.act_step.setEnabled(state == "paused")
        self.act_stop.setEnabled(running)
        self.panel.set_running(running)
        self.update_status()

    def actions_for_menu(self) -> list[QAction]:
        return [self.act_train, self.act_pause, self.act_step, self.act_stop, self.act_reset]
