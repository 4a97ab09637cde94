"""Compute a loss landscape off the GUI thread, with progress and cancel.

The worker calls `engine.landscape_run.landscape_report` on its own registered QThread;
its progress callback reports each grid row and returns False once Cancel was pressed,
which ends the surface early (the rows done are kept).
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Qt, Signal, Slot

from ...design import NetworkDesign
from ...engine.landscape_run import landscape_report
from ...errors import DeskLabError
from .threads import start_thread, stop_thread


class LandscapeWorker(QObject):
    progress = Signal(int, int)
    finished = Signal(object)  # the report dict
    failed = Signal(str)

    def __init__(self, design: NetworkDesign, weights, grid: int, span: float):
        super().__init__()
        self.design, self.weights, self.grid, self.span = design, weights, grid, span
        self.cancel_flag = threading.Event()

    @Slot()
    def run(self) -> None:
        def progress(done: int, total: int) -> bool:
            self.progress.emit(done, total)
            return not self.cancel_flag.is_set()
        try:
            report = landscape_report(self.design, 0, self.weights, self.grid, self.span,
                                      self.design.train.seed, progress)
        except Exception as exc:  # noqa: BLE001 - shown in the window, never raised here
            self.failed.emit(str(exc) if isinstance(exc, DeskLabError) else
                             f"{type(exc).__name__}: {exc}")
            return
        report["cancelled"] = self.cancel_flag.is_set()
        self.finished.emit(report)


class LandscapeController(QObject):
    """One computation at a time; signals arrive on the GUI thread."""

    progress = Signal(int, int)
    done = Signal(object)
    failed = Signal(str)
    _begin = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.worker: LandscapeWorker | None = None
        self.thread = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def start(self, design: NetworkDesign, weights, grid: int, span: float) -> None:
        self.shutdown()
        self.worker = LandscapeWorker(design, weights, grid, span)
        self.worker.progress.connect(self._on_progress, Qt.QueuedConnection)
        self.worker.finished.connect(self._on_finished, Qt.QueuedConnection)
        self.worker.failed.connect(self._on_failed, Qt.QueuedConnection)
        self.thread = start_thread(self.worker, "desklab-landscape")
        self._begin.connect(self.worker.run, Qt.QueuedConnection)
        self._begin.emit()
        self._begin.disconnect(self.worker.run)

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel_flag.set()

    def shutdown(self) -> None:
        self.cancel()
        if self.thread is not None:
            stop_thread(self.thread, worker=self.worker, receiver=self)
        self.thread, self.worker = None, None

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        if self.sender() is self.worker:
            self.progress.emit(done, total)

    @Slot(object)
    def _on_finished(self, report) -> None:
        if self.sender() is self.worker:
            stop_thread(self.thread, worker=self.worker)
            self.thread = None
            self.done.emit(report)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if self.sender() is self.worker:
            stop_thread(self.thread, worker=self.worker)
            self.thread = None
            self.failed.emit(message)
