"""The Network dock: the card editor plus a summary line (parameters, problems)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ..controllers.document import DesignDocument
from .editor import NetworkEditor


class NetworkPanel(QWidget):
    """The editor plus a summary line (total parameters, problems)."""

    def __init__(self, doc: DesignDocument, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.setObjectName("network")
        self.tree = NetworkEditor(doc, self)
        self.summary = QLabel(self)
        self.summary.setObjectName("network_summary")
        self.summary.setWordWrap(True)  # a long problem must not widen the window
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.tree)
        layout.addWidget(self.summary)
        doc.changed.connect(self.update_summary)
        self.update_summary()

    def update_summary(self) -> None:
        a, n = self.doc.analysis, len(self.doc.analysis.problems)
        text = f"<b>{a.total_params:,}</b> parameters · {len(self.doc.design.layers)} layers"
        if n:
            text += (f" · <span style='color:#c02020'>{n} problem{'s' if n > 1 else ''}: "
                     f"{a.problems[0]}</span>")
        else:
            text += " · <span style='color:#2e7d32'>valid</span>"
        self.summary.setText(text)
        self.summary.setToolTip("<br>".join(str(p) for p in a.problems))
