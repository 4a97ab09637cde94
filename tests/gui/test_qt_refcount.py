"""Qt-level guards. Regression: PySide6 6.12.0 under Python 3.11 drops a reference to None on every
void Qt call and aborts the interpreter ("none_dealloc") after a few thousand.
The refcount of None must not fall across thousands of void Qt calls."""

import sys

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QWidget


def test_none_refcount_survives_void_qt_calls(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    for _ in range(100):  # warm up caches that may legitimately hold None
        widget.update()
        QCoreApplication.processEvents()
    before = sys.getrefcount(None)
    for _ in range(3000):
        widget.update()
        widget.setEnabled(True)
        QCoreApplication.processEvents()
    after = sys.getrefcount(None)
    assert after >= before - 50, f"None lost {before - after} references over 9000 Qt calls"


def test_gc_guard_keeps_collection_on_the_gui_thread(qtbot):
    import gc

    from desklab.gui.controllers.gc_guard import install_gc_guard
    guard = install_gc_guard()
    assert not gc.isenabled() and guard.timer.isActive()
    assert install_gc_guard() is guard  # once per process
