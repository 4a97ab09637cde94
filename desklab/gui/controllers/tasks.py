"""One piece of work off the GUI thread: progress, Cancel, then a result or one line.

`Task` runs ``work(progress, cancelled)`` on its own registered QThread (see
``threads``): ``progress(done, total)`` reports, ``cancelled()`` tells the work that
Cancel was pressed. Its signals arrive on the GUI thread; what a replaced or detached
worker still sends is dropped. The dataset download, the loss landscape and the
hyperparameter search are each a `Task` with their own work.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot

from ...errors import DeskLabError
from .threads import start_thread, stop_thread

Work = Callable[[Callable[[object, object], None], Callable[[], bool]], object]


def describe(exc: BaseException) -> str:
    """One line: the user's problem in its own words, anything else with its type."""
    if isinstance(exc, (DeskLabError, OSError)):
        return str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {exc}"


class TaskWorker(QObject):
    progress = Signal(object, object)  # done, total
    finished = Signal(object)  # the work's result
    failed = Signal(str)

    def __init__(self, work: Work):
        super().__init__()
        self.work = work
        self.cancel_flag = threading.Event()

    @Slot()
    def run(self) -> None:
        try:
            result = self.work(self.progress.emit, self.cancel_flag.is_set)
        except Exception as exc:  # noqa: BLE001 - said in one line, never raised here
            self.failed.emit(describe(exc))
            return
        self.finished.emit(result)


class Task(QObject):
    """One work at a time; ``progress``, then ``done`` (the result) or ``failed``."""

    progress = Signal(object, object)
    done = Signal(object)
    failed = Signal(str)
    JOIN_TIMEOUT_MS: int | None = None  # None: threads.JOIN_TIMEOUT_MS

    def __init__(self, thread_name: str, parent=None):
        super().__init__(parent)
        self.thread_name = thread_name
        self.worker: TaskWorker | None = None
        self.thread = None
        self.cancelled = False

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def start(self, work: Work) -> None:
        self.shutdown()
        self.cancelled = False
        self.worker = TaskWorker(work)
        self.worker.progress.connect(self._on_progress, Qt.QueuedConnection)
        self.worker.finished.connect(self._on_finished, Qt.QueuedConnection)
        self.worker.failed.connect(self._on_failed, Qt.QueuedConnection)
        self.thread = start_thread(self.worker, self.thread_name, run="run")

    def cancel(self) -> None:
        self.cancelled = True
        if self.worker is not None:
            self.worker.cancel_flag.set()

    def shutdown(self) -> None:
        """Cancel and join (detached if the work does not notice in time)."""
        if self.running:
            self.cancel()
            stop_thread(self.thread, self.JOIN_TIMEOUT_MS, worker=self.worker, receiver=self)
        self.thread, self.worker = None, None

    def _current(self) -> bool:
        return self.sender() is self.worker

    def _finish(self) -> None:
        stop_thread(self.thread, worker=self.worker)
        self.thread = None
        self.worker = None  # its progress still queued is stale now (not _current)

    @Slot(object, object)
    def _on_progress(self, done, total) -> None:
        if self._current():
            self.progress.emit(done, total)

    @Slot(object)
    def _on_finished(self, result) -> None:
        if self._current():
            self._finish()
            self.done.emit(result)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if self._current():
            self._finish()
            self.failed.emit(message)
