"""The findings list: diagnostics in plain words, with advice."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from ...metrics import Finding
from ...metrics.records import SEVERITIES, said
from ..icons import icon
from .enter_key import on_enter

_GRAVITY = {severity: rank for rank, severity in enumerate(SEVERITIES)}  # error first

COLORS = {"error": "#b71c1c", "warning": "#8a5a00", "info": "#1e4e8c"}


class FindingsList(QListWidget):
    """One row per finding; clicking one (or Enter on it) asks to select its layer
    (`layer_clicked`)."""

    layer_clicked = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("findingsPanel")
        self.setWordWrap(True)
        self.setAlternatingRowColors(True)
        self.findings: list[Finding] = []
        self.itemClicked.connect(self._clicked)
        on_enter(self, self._clicked_current)  # from the keyboard
        self._placeholder()

    def _placeholder(self) -> None:
        item = QListWidgetItem("No findings. Diagnostics appear here while a run trains: "
                               "vanishing or exploding gradients, saturation, dead units, "
                               "overfitting, updates too large or too small.")
        item.setFlags(Qt.NoItemFlags)
        self.addItem(item)

    def set_findings(self, findings: list[Finding], at_step: int | None = None) -> None:
        """Show ``findings``: active ones first (errors, warnings, then notes), resolved
        ones dimmed with their span.
        ``at_step`` (the compare window's replay slider) shows them as they stood then:
        not yet found ones are hidden, ones resolved later are still active."""
        if at_step is not None:
            findings = [f if f.end is None or f.end <= at_step else replace(f, end=None)
                        for f in findings if f.step <= at_step]
        # active first, the gravest of them on top (a note on how the run went, such as
        # the cuda_graphs one, below the warnings); stable within: in the order found
        findings = sorted(findings, key=lambda f: (f.end is not None, _GRAVITY.get(f.severity, 3)))
        key = [(f.kind, f.layer, f.message, f.step, f.end) for f in findings]
        if key == [(f.kind, f.layer, f.message, f.step, f.end) for f in self.findings]:
            return
        self.findings = list(findings)
        self.clear()
        if not findings:
            self._placeholder()
        for f in findings:
            where = f" · {said(f.layer)}" if f.layer else ""
            item = QListWidgetItem(f"{f.kind.replace('_', ' ')}{where} ({f.span()})\n"
                                   f"{f.message}" + ("" if f.end is not None else
                                                     f"\n→ {f.advice}"))
            item.setIcon(icon("resolved" if f.end is not None else f.severity))
            item.setForeground(QColor("#8a8a8a" if f.end is not None
                                      else COLORS.get(f.severity, "#000000")))
            item.setData(Qt.UserRole, f.layer)
            item.setToolTip(f"{f.span()}\n\n{f.message}\n\n{f.advice}")
            self.addItem(item)

    def texts(self) -> list[str]:
        """The rows as shown (for the UI map and exports)."""
        return [self.item(i).text() for i in range(self.count())]

    def _clicked_current(self) -> None:
        self._clicked(self.currentItem())

    def _clicked(self, item: QListWidgetItem | None) -> None:
        layer = item.data(Qt.UserRole) if item is not None else None
        if layer:
            self.layer_clicked.emit(layer)
