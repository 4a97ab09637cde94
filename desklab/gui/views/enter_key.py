"""Enter on a list does what a double-click (or a click) on its current row does.

Qt's lists act on the mouse; from the keyboard, Enter moved nothing. An event filter
(not a QShortcut: one with a widget context needs the window active, which a test's
offscreen window and a docked tool window may not be) calls ``act`` on Enter / Return.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt


def on_enter(view, act) -> None:
    """Call ``act()`` when Enter or Return is pressed in ``view``."""
    view.installEventFilter(_EnterActs(view, act))


class _EnterActs(QObject):
    """The event filter of `on_enter` (a child of the view: it lives as long)."""

    def __init__(self, view, act):
        super().__init__(view)
        self._act = act

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt naming)
        if event.type() == QEvent.KeyPress and event.key() in (Qt.Key_Return, Qt.Key_Enter):
            self._act()
            return True
        return False
