"""Download a real dataset off the GUI thread, with progress and cancel.

The worker runs `engine.download.ensure_dataset` on its own QThread (registered with
``threads``, so closing the window never destroys it running); Cancel sets a flag the
download checks between chunks, and what was fetched stays as ``.part`` to resume.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal, Slot

from ...engine.download import ensure_dataset
from ...errors import DeskLabError
from .threads import start_thread, stop_thread


class DownloadWorker(QObject):
    progress = Signal(object, object)  # bytes done, bytes total (0 = unknown)
    finished = Signal(str)  # "" when the data is ready, else why not (one line)

    def __init__(self, name: str, root: Path):
        super().__init__()
        self.name, self.root = name, root
        self.cancel_flag = threading.Event()

    @Slot()
    def run(self) -> None:
        try:
            ensure_dataset(self.name, self.root, lambda done, total: self.progress.emit(
                done, total), self.cancel_flag.is_set)
        except (DeskLabError, OSError) as exc:
            self.finished.emit(str(exc) or type(exc).__name__)
            return
        self.finished.emit("")


class DatasetFetcher(QObject):
    """Controller of one download: ``progress`` and ``done`` arrive on the GUI thread."""

    progress = Signal(object, object)
    done = Signal(bool, str)  # ready, message (why not, or "cancelled")
    _begin = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.worker: DownloadWorker | None = None
        self.thread = None
        self.cancelled = False

    def start(self, name: str, root: Path) -> None:
        self.worker = DownloadWorker(name, root)
        self.worker.progress.connect(self._on_progress, Qt.QueuedConnection)
        self.worker.finished.connect(self._on_finished, Qt.QueuedConnection)
        self.thread = start_thread(self.worker, "desklab-download")
        self._begin.connect(self.worker.run, Qt.QueuedConnection)
        self._begin.emit()
        self._begin.disconnect(self.worker.run)

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def cancel(self) -> None:
        self.cancelled = True
        if self.worker is not None:
            self.worker.cancel_flag.set()

    def shutdown(self) -> None:
        """Cancel and join (a slow read ends within the download's socket timeout)."""
        self.cancel()
        stop_thread(self.thread, worker=self.worker, receiver=self)
        self.thread = None

    @Slot(object, object)
    def _on_progress(self, done, total) -> None:
        if self.sender() is self.worker:
            self.progress.emit(done, total)

    @Slot(str)
    def _on_finished(self, message: str) -> None:
        if self.sender() is not self.worker:
            return
        stop_thread(self.thread, worker=self.worker)
        self.thread = None
        self.done.emit(not message, "cancelled" if self.cancelled and message else message)
