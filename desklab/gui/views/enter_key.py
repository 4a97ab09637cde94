"""Enter on a list does what a double-click (or a click) on its current row does.

Qt's lists act on the mouse; from the keyboard, Enter moved nothing. An event filter
(not a QShortcut: one with a widget context needs the window active, which a test's
offscreen window and a docked tool window may not be) emits ``entered`` on Enter or
Return. The action is a bound method of a QObject, connected to that signal (PySide
does not keep its receiver alive): a lambda held by the filter referred back to the
window, a cycle of Qt wrappers that the garbage collector tore down in the wrong order
(a segfault in a test's teardown).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal


def on_enter(view, act) -> None:
    """Call ``act()`` (a bound method of a QObject) when Enter or Return is pressed in
    ``view``."""
    keys = _EnterKeys(view)
    keys.entered.connect(act)
    view.installEventFilter(keys)


class _EnterKeys(QObject):
    """The event filter of `on_enter` (a child of the view: it lives as long)."""

    entered = Signal()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt naming)
        if event.type() == QEvent.KeyPress and event.key() in (Qt.Key_Return, Qt.Key_Enter):
            self.entered.emit()
            return True
        return False
