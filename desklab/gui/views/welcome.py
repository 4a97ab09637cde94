"""The first launch: three ways to start, on a card over the (still empty) plots.

A card inside the window rather than a dialog: nothing waits for it, and it goes as
soon as one of its ways is taken, Train is pressed, or it is closed.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

WATCH_SNIPPET = ("import desklab\n"
                 "watcher = desklab.watch(model, optimizer)  # after building them\n"
                 "...\n"
                 "optimizer.step()\n"
                 "watcher.log(loss)  # once per step\n")


class WelcomeCard(QFrame):
    """Build from scratch, a vanishing-gradient lesson, or watch your own script."""

    scratch = Signal()
    lesson = Signal()
    script = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("welcome")
        self.setAutoFillBackground(True)
        self.setFrameShape(QFrame.StyledPanel)
        self.setStyleSheet("QFrame#welcome { background: white; }")
        head = QLabel("<h2>Welcome to DeskLab</h2>Build a network, press Train, and watch "
                      "every layer learn: activations, gradients and what goes wrong. "
                      "Three ways to start:")
        head.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 18, 24, 18)
        layout.addWidget(head)
        choices = [
            ("welcome_scratch", "Build from scratch",
             "An empty network: drag layers from the Palette, pick activations and init "
             "in the Inspector, then Train (F5).", self.scratch),
            ("welcome_lesson", "Lesson: vanishing gradients",
             "Ten sigmoid layers on a spiral. The Lesson panel says what to look for; the "
             "findings tick it off as the run shows it.", self.lesson),
            ("welcome_script", "Watch your own script",
             "Two lines in your PyTorch loop (below); its run appears in the Runs dock, "
             "live.", self.script),
        ]
        for name, title, text, signal in choices:
            row = QHBoxLayout()
            button = QPushButton(title)
            button.setObjectName(name)
            button.setMinimumWidth(210)
            button.clicked.connect(signal)
            if signal is not self.script:  # the snippet stays on screen for the script
                button.clicked.connect(self.hide)
            about = QLabel(text)
            about.setWordWrap(True)
            row.addWidget(button)
            row.addWidget(about, 1)
            layout.addLayout(row)
        code = QLabel(f"<pre>{WATCH_SNIPPET}</pre>")
        code.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout.addWidget(code)
        close = QPushButton("Close")
        close.setObjectName("welcome_close")
        close.clicked.connect(self.hide)
        layout.addWidget(close, 0, Qt.AlignRight)
        layout.addStretch(1)
        if parent is not None:  # covers the parent (the plots) as it resizes
            parent.installEventFilter(self)
            self.setGeometry(parent.rect())

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt naming)
        if watched is self.parent() and event.type() == QEvent.Resize:
            self.setGeometry(watched.rect())
        return False
