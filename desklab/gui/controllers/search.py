"""Run a hyperparameter search from the app: off the GUI thread, trials in parallel
processes, the study polled for live progress, Cancel through the shared storage."""

from __future__ import annotations

import secrets
import time

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from ...design import NetworkDesign
from ...errors import DeskLabError
from ...experiments.search import (DEFAULT_SPACE, cancel_search, create_study,
                                   default_storage, run_search, study_rows)
from .threads import start_thread, stop_thread

POLL_MS = 500


class SearchWorker(QObject):
    finished = Signal(object)  # the search result dict
    failed = Signal(str)

    def __init__(self, design, spaces, trials, storage, jobs, name):
        super().__init__()
        self.args = (design, spaces, trials, storage, jobs, name)

    @Slot()
    def run(self) -> None:
        try:
            result = run_search(*self.args)
        except Exception as exc:  # noqa: BLE001 - shown in the window, never raised here
            self.failed.emit(str(exc) if isinstance(exc, DeskLabError) else
                             f"{type(exc).__name__}: {exc}")
            return
        self.finished.emit(result)


class SearchController(QObject):
    """One search at a time; ``rows`` while it runs, ``done`` / ``failed`` at the end."""

    rows = Signal(list)
    done = Signal(object)
    failed = Signal(str)
    _begin = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.worker, self.thread = None, None
        self.storage, self.name = default_storage(), None
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def start(self, design: NetworkDesign, trials: int, jobs: int,
              spaces=DEFAULT_SPACE) -> None:
        self.shutdown()
        self.name = f"{design.name}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
        # the storage's tables made here, before the worker and the poll both would
        create_study(self.storage, self.name, design.train.seed, trials)
        self.worker = SearchWorker(design, spaces, trials, self.storage, jobs, self.name)
        self.worker.finished.connect(self._on_finished, Qt.QueuedConnection)
        self.worker.failed.connect(self._on_failed, Qt.QueuedConnection)
        self.thread = start_thread(self.worker, "desklab-search")
        self._begin.connect(self.worker.run, Qt.QueuedConnection)
        self._begin.emit()
        self._begin.disconnect(self.worker.run)
        self.timer.start()

    def poll(self) -> None:
        if self.name is not None:
            self.rows.emit(study_rows(self.storage, self.name))

    def cancel(self) -> None:
        if self.running and self.name is not None:
            try:
                cancel_search(self.storage, self.name)
            except KeyError:  # not created yet: it will see nothing to stop; retry soon
                QTimer.singleShot(POLL_MS, self.cancel)

    def shutdown(self) -> None:
        """Cancel, then join: each process ends its trial at its next evaluation."""
        self.timer.stop()
        if self.running:
            self.cancel()
            stop_thread(self.thread, timeout_ms=120_000, worker=self.worker, receiver=self)
        self.thread, self.worker = None, None

    def _finish(self) -> None:
        self.timer.stop()
        stop_thread(self.thread, worker=self.worker)
        self.thread = None

    @Slot(object)
    def _on_finished(self, result) -> None:
        if self.sender() is self.worker:
            self._finish()
            self.rows.emit(result["trials"])
            self.done.emit(result)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if self.sender() is self.worker:
            self._finish()
            self.failed.emit(message)
