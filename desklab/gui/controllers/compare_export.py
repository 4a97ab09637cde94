"""The compare window's exports: its picture (PNG) and every run's curves (CSV), for a
report or a notebook. Written atomically; a failure is said in a dialog."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from ...metrics.comparison import curves_csv
from ...util.files import atomic_write_text
from .exports import _file_stem, _save_png, guarded


class CompareExporter:
    """The export actions of a CompareWindow (``window``)."""

    def __init__(self, window):
        self.window = window

    def picture(self, path: Path) -> bool:
        """The window's contents (title row, curves, both sides) as a PNG."""
        return self._guard("the picture", lambda: _save_png(
            self.window.centralWidget().grab().toImage(), path))

    def curves(self, path: Path) -> bool:
        """Every run's curves as CSV (`curves_csv`)."""
        return self._guard("the curves", lambda: atomic_write_text(
            path, curves_csv([(r.name, r.history) for r in self.window.records])))

    def ask_picture(self) -> None:
        path = self._ask("Save the comparison as a picture", "-compare.png", "PNG (*.png)")
        if path is not None:
            self.picture(path)

    def ask_curves(self) -> None:
        path = self._ask("Export the compared runs' curves", "-compare.csv", "CSV (*.csv)")
        if path is not None:
            self.curves(path)

    def _ask(self, title: str, ending: str, filter_: str) -> Path | None:
        records = self.window.records
        stem = _file_stem(records[0].name) if records else "runs"
        path, _ = QFileDialog.getSaveFileName(self.window, title, stem + ending, filter_)
        return Path(path) if path else None

    def _guard(self, what: str, action) -> bool:
        return guarded(self.window, what, action, self._show_error)

    def _show_error(self, title: str, message: str) -> None:
        QMessageBox.critical(self.window, title, message)
