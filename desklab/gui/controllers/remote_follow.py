"""Follow a run that `desklab serve` serves from another machine, live.

The same `Follower` as for a local file (the view cannot tell them apart), but an HTTP
request may hold for a second or hang on a lost network, so the rows are read by a
worker on its own thread (`runs.remote.follow`: a long poll, back-off after a lost
server) and reach the GUI thread as queued signals. A lost server shows as the
follower's ``connection`` ("disconnected: ..."); what was shown stays, and the follow
goes on from its cursor when the server answers again, so nothing is read twice or
missed. `RemoteStore` lists a server's runs every few seconds, also off the GUI thread.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from ...runs.checks import RunFileError
from ...runs.remote import RemoteError, RemoteRun, check_url, follow, remote_runs
from .follow import Follower
from .tasks import Task
from .threads import start_thread, stop_thread

WAIT_S = 1.0  # the server holds a request this long for new rows (a stop waits <= this)
LIST_EVERY_MS = 5000  # the server's listing, read again
LIST_TIMEOUT_S = 4.0  # a listing that takes longer: the server counts as unreachable


class RemoteWorker(QObject):
    """Reads one remote run to its end on its own thread; see the module docstring."""

    piece = Signal(object)  # (events, cursor, layout): new rows, in order
    connection = Signal(str)  # "disconnected: ...", "reconnected"
    finished = Signal(object)  # the run's final meta (its rows all sent)
    failed = Signal(str)  # a refused token, a vanished or damaged run

    def __init__(self, run: RemoteRun):
        super().__init__()
        self.run = run
        self.stop_flag = threading.Event()

    @Slot()
    def work(self) -> None:
        run, stop = self.run, self.stop_flag
        try:
            follow(run, self._events, self.connection.emit, stop.is_set, wait=WAIT_S,
                   sleep=stop.wait)  # the back-off's sleep ends at once on a stop
            if stop.is_set():
                return
            try:
                meta = run.read_meta()  # its end time and speed, for the status line
            except RemoteError:
                meta = run.meta  # gone again just now: the rows are all here anyway
        except (RemoteError, RunFileError) as exc:
            if not stop.is_set():
                self.failed.emit(str(exc))
            return
        self.finished.emit({**meta, "status": run.status})

    def _events(self, events: list) -> None:
        self.piece.emit((events, self.run.cursor, self.run.layout))


class RemoteFollower(Follower):
    """A served run, followed from a `RemoteWorker`; ``run`` is an opened `RemoteRun`
    (its meta read: open it with `RemoteStore.open`, off the GUI thread)."""

    def __init__(self, run: RemoteRun, parent=None):
        super().__init__(dict(run.meta), run.layout, parent)
        self.url = run.url
        self.worker = RemoteWorker(run)
        self.worker.piece.connect(self._piece, Qt.QueuedConnection)
        self.worker.connection.connect(self._connection, Qt.QueuedConnection)
        self.worker.finished.connect(self._finished, Qt.QueuedConnection)
        self.worker.failed.connect(self._failed, Qt.QueuedConnection)
        self.thread = start_thread(self.worker, "desklab-remote-follow", run="work")

    @Slot(object)
    def _piece(self, piece) -> None:
        if self.sender() is self.worker:
            self.take(*piece)

    @Slot(str)
    def _connection(self, text: str) -> None:
        if self.sender() is self.worker:
            self.set_connection("" if text == "reconnected" else text)
            if self.connection:  # nothing arrives: no speed to show until it does
                self._seen.clear()
                self.steps_per_second = 0.0
            self.dirty = True  # the status line says it

    @Slot(object)
    def _finished(self, meta) -> None:
        if self.sender() is not self.worker:
            return
        self.meta.update(meta)
        self.set_connection("")
        self._measure_rate()
        self.dirty = True
        # ended also for a run that had ended before it was opened: its rows are all
        # here only now
        self.status = str(meta.get("status", "?"))
        self.end(self.status)

    @Slot(str)
    def _failed(self, why: str) -> None:
        if self.sender() is self.worker:
            self.fail(why)

    def stop_reading(self) -> None:
        self.worker.stop_flag.set()

    def close(self) -> None:
        """Stop the worker and join its thread (within about `WAIT_S`)."""
        super().close()
        stop_thread(self.thread, worker=self.worker)


class RemoteStore(QObject):
    """One server's runs: ``listed`` (the listing, newest first) every few seconds or
    ``unreachable`` (why, in one line); ``opened`` (a `RemoteRun`) or ``open_failed``
    after `open`."""

    listed = Signal(object)
    unreachable = Signal(str)
    opened = Signal(object)
    open_failed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.url: str | None = None
        self.token = ""
        self.lister = Task("desklab-remote-list", self)
        self.lister.done.connect(self.listed)
        self.lister.failed.connect(self.unreachable)
        self.opener = Task("desklab-remote-open", self)
        self.opener.done.connect(self.opened)
        self.opener.failed.connect(self.open_failed)
        self.timer = QTimer(self)
        self.timer.setInterval(LIST_EVERY_MS)
        self.timer.timeout.connect(self.refresh)

    def connect_to(self, url: str, token: str) -> None:
        """List ``url``'s runs now and every few seconds (`RemoteError` for a URL that
        is not a server address)."""
        self.url, self.token = check_url(url), token
        self.lister.shutdown()  # an old server's listing in flight is not this one's
        self.refresh()
        self.timer.start()

    def refresh(self) -> None:
        if self.url is not None and not self.lister.running:
            url, token = self.url, self.token
            self.lister.start(lambda progress, cancelled: remote_runs(
                url, token, LIST_TIMEOUT_S))

    def open(self, run: dict) -> None:
        url, token = self.url, self.token
        self.opener.start(lambda progress, cancelled: RemoteRun(
            url, run["id"], token, run.get("name", "")))

    def shutdown(self) -> None:
        self.timer.stop()
        self.lister.shutdown()
        self.opener.shutdown()
