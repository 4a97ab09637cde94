"""The Train menu's checks and experiments (a mixin of `MainWindow`): the sanity run
(overfit 20 examples first), the loss landscape and the hyperparameter search."""

from __future__ import annotations

import math

from PySide6.QtWidgets import QMessageBox

from ...design.sanity import EXAMPLES, fits, tiny_subset, verdict
from .download_dialog import data_ready_or_offer


class CheckActions:
    landscape_window = None
    search_window = None
    _sanity_running = False

    def sanity_check(self) -> None:
        """Train the design on 20 examples, regularisers off; say if it can fit them."""
        if not self.doc.analysis.ok:
            self.show_error("Cannot run the sanity check", str(self.doc.analysis.problems[0]))
            return
        if not data_ready_or_offer(self, self.doc.design, then=self.sanity_check):
            return  # a real image set to download first: the check runs once it is here
        self._sanity_running = True
        self.training.start(tiny_subset(self.doc.design))
        self.statusBar().showMessage(f"Sanity check: can the network fit {EXAMPLES} "
                                     f"examples? (regularisers off)")

    def _sanity_follows_train(self) -> None:
        """Offered when Train is: a check started mid-run silently replaced the run."""
        self.act_sanity.setEnabled(self.training.act_train.isEnabled())

    def _sanity_evaluated(self, _step: int) -> None:
        """Stop the sanity run at the first evaluation that fits: no need to go on."""
        if self._sanity_running and self.training.controller.running and \
                fits(*self._sanity_numbers()[:4]):
            self.training.controller.stop()

    def _sanity_ended(self, state: str) -> None:
        if not self._sanity_running:
            return
        self._sanity_running = False
        task, accuracy, first_loss, last_loss, step = self._sanity_numbers()
        passed, text = verdict(task, state, accuracy, first_loss, last_loss, step,
                               self.training.controller.step)
        self.training.redraw(everything=True)  # its last status line before the verdict
        self.sanity_result = text
        self.statusBar().showMessage(f"Sanity check: {text}")
        if passed is not None:  # stopped by the user, or failed (its finding says why)
            self.show_info("Sanity check", text, passed=passed)

    def _sanity_numbers(self) -> tuple[str, float, float, float, int]:
        """The task, the last evaluation's training accuracy, the first and the last
        training loss, and the last evaluation's step (NaN and 0 where none came)."""
        history = self.training.controller.history
        evaluated = bool(history and len(history.metrics))
        _, losses = history.step_series("loss") if history else (None, [])
        return (self.doc.design.output.task,
                float(history.metric("train_acc")[-1]) if evaluated else math.nan,
                float(losses[0]) if len(losses) else math.nan,
                float(history.metric("loss")[-1]) if evaluated else math.nan,
                int(history.metric("step")[-1]) if evaluated else 0)

    def show_info(self, title: str, text: str, passed: bool = True) -> None:
        """A result in a box: an information icon, a warning one when it failed."""
        (QMessageBox.information if passed else QMessageBox.warning)(self, title, text)

    def show_landscape(self, record=None) -> None:
        """Train ▸ Loss landscape… (the current weights), or the Runs dock's Landscape
        (where that run ended)."""
        from .landscape_window import LandscapeWindow
        if self.landscape_window is None:
            self.landscape_window = LandscapeWindow(self)
        # from the menu, QAction.triggered passes its checked flag (False) as ``record``
        self.landscape_window.refresh_choices(record or None)
        self.landscape_window.show()
        self.landscape_window.raise_()
        self.landscape_window.activateWindow()

    def show_search(self) -> None:
        """Train ▸ Search learning rate and L2…: random search, coarse to fine."""
        from .search_window import SearchWindow
        if self.search_window is None:
            self.search_window = SearchWindow(self)
        self.search_window.show()
        self.search_window.raise_()
        self.search_window.activateWindow()  # back from the main window: the keys go to it
