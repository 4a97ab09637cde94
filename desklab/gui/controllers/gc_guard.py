"""Garbage collection on the GUI thread only.

Python's cycle collector runs in whichever thread happens to allocate when a
threshold is crossed. If that is the training or preview thread and the garbage
holds Qt objects (an old window's widgets in a reference cycle), ~QObject runs
there: it takes Qt's connection mutex and then needs the GIL, while the GUI
thread holds the GIL and waits for that mutex. That deadlock was seen here
(gdb: training thread in QObject::~QObject from gc, GUI thread in
QObject::~QObject under runDeletionInMainThread). So automatic collection is
switched off and the GUI thread collects on a timer, as pyqtgraph's
GarbageCollector does.

The first check also freezes what the start-up made (`gc.freeze`): torch, numpy, Qt
and pyqtgraph leave ~220 000 objects that live as long as the app, and a full
collection walked them all (120 ms of a frozen window, the live view's worst
lateness); frozen, a full collection looks only at what came after.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

_guard: "MainThreadGC | None" = None


class MainThreadGC(QObject):
    """Collects garbage from the GUI thread, generation by generation."""

    def __init__(self, interval_ms: int = 1000, parent=None):
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        self.frozen = False  # the start-up objects moved out of collection (first check)
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)

    def check(self) -> None:
        if not self.frozen:
            self.frozen = True
            gc.freeze()
        counts = gc.get_count()
        if counts[0] > self.threshold[0]:
            generation = 0
            if counts[1] > self.threshold[1]:
                generation = 2 if counts[2] > self.threshold[2] else 1
            gc.collect(generation)


def install_gc_guard() -> MainThreadGC:
    """Once per process (the QApplication must exist): GUI-thread-only collection."""
    global _guard
    if _guard is None:
        from PySide6.QtCore import QCoreApplication
        _guard = MainThreadGC(parent=QCoreApplication.instance())
    return _guard
