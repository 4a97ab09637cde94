"""The Lesson panel: the open lesson's story in the main window.

What to look for, what should happen, and the signs the lesson is about (findings such
as vanishing gradients), each ticked off when the run's findings show it. With no
lesson open it says how to open one.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QLabel, QPushButton, QVBoxLayout, QWidget

SIGN_TEXT = {  # finding kind -> (what to spot, in short; how it shows)
    "vanishing": ("Vanishing gradients", "the first layers' |dL/dh| far below the last's"),
    "exploding": ("Exploding gradients", "|dL/dh| growing layer by layer or step by step"),
    "diverged": ("The run diverges", "the loss blows up to NaN and the run stops"),
    "saturated": ("Saturated units", "outputs stuck at the activation's bounds"),
    "dead_relu": ("Dead ReLUs", "units that output 0 for every input"),
    "collapsed": ("Collapsed activations", "deep layers' activation std near 0"),
    "symmetric": ("Identical units", "every unit of a layer computes the same"),
    "overfitting": ("Overfitting", "validation loss rises while training loss falls"),
    "update_ratio": ("Update size off", "steps too large or too small for the weights"),
    "vanishing_time": ("Vanishing through time",
                       "||dL/dh_t|| at the first time steps decades below the last's"),
    "exploding_time": ("Exploding through time",
                       "||dL/dh_t|| at the first time steps decades above the last's"),
}


def _sign_text(kind: str) -> tuple[str, str]:
    """(what to spot, how it shows) for a finding kind (its own name if not listed)."""
    return SIGN_TEXT.get(kind, (kind.replace("_", " "), ""))


class LessonPanel(QWidget):
    """Shows one `Preset` (a lesson) or, with none, a way to open one."""

    open_lessons = Signal()  # "Open a lesson…" clicked

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("lesson_panel")
        self.preset = None
        self.title = QLabel()
        self.title.setObjectName("lesson_title")
        self.title.setWordWrap(True)
        self.text = QLabel()
        self.text.setObjectName("lesson_text")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.RichText)
        self.signs_head = QLabel("<b>Watch for</b> (ticked when a finding shows it):")
        self.signs_head.setWordWrap(True)
        self.signs: dict[str, QCheckBox] = {}
        self.signs_box = QVBoxLayout()
        self.open_button = QPushButton("Open a lesson…")
        self.open_button.setObjectName("open_lesson")
        self.open_button.setToolTip("The lessons browser: each lesson is a design and what "
                                    "its run should show (also Help ▸ Lessons)")
        self.open_button.clicked.connect(self.open_lessons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        for widget in (self.title, self.text, self.signs_head):
            layout.addWidget(widget)
        layout.addLayout(self.signs_box)
        layout.addWidget(self.open_button)
        layout.addStretch(1)
        self.show_lesson(None)

    def show_lesson(self, preset) -> None:
        """Show ``preset`` (a `desklab.lessons.Preset`), or None for no lesson."""
        self.preset = preset
        for box in self.signs.values():
            self.signs_box.removeWidget(box)
            box.deleteLater()
        self.signs = {}
        if preset is None:
            self.title.setText("<b>No lesson open</b>")
            self.text.setText("A lesson is a design with what to look for in its run and "
                              "what should happen. Open one to follow it here.")
            self.signs_head.hide()
            return
        self.title.setText(f"<b>Lesson: {html.escape(preset.title)}</b>")
        pair = f"<p><i>Compare with:</i> {html.escape(preset.pair)}</p>" if preset.pair else ""
        self.text.setText(f"<p>{html.escape(preset.summary)}</p>"
                          f"<p><b>Look for:</b> {html.escape(preset.look_for)}</p>"
                          f"<p><b>What should happen:</b> {html.escape(preset.expected)}</p>"
                          f"{pair}")
        self.signs_head.setVisible(bool(preset.signs))
        for kind in preset.signs:
            short, how = _sign_text(kind)
            box = QCheckBox(short)
            box.setToolTip(how)
            box.setObjectName(f"sign_{kind}")
            box.setAttribute(Qt.WA_TransparentForMouseEvents)  # ticked by findings only
            box.setFocusPolicy(Qt.NoFocus)
            self.signs_box.addWidget(box)
            self.signs[kind] = box

    def show_findings(self, findings: list) -> None:
        """Tick each sign a finding of the current run shows (with the step it began)."""
        first = {}
        for f in findings:
            first.setdefault(f.kind, f.step)
        for kind, box in self.signs.items():
            seen = kind in first
            box.setChecked(seen)
            base = _sign_text(kind)[0]
            box.setText(f"{base}: seen from step {first[kind]}" if seen else base)
