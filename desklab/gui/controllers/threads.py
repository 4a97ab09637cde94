"""Every QThread DeskLab starts goes through here, so none can outlive its owner.

A QThread destroyed while running aborts the process (exit 134). A stop that
cannot join in time (a long training step, a slow at-init probe) therefore never
drops the thread: `stop_thread` *detaches* it, keeping the thread and its worker
alive, with the worker's signals blocked so its late results are ignored, until it
ends by itself. The window's close waits for detached threads behind a small
"finishing" dialog (`wait_for_detached`); `live_threads` lists all of them.
"""

from __future__ import annotations

import os
import weakref

from PySide6.QtCore import QCoreApplication, QEvent, QMetaObject, QObject, Qt, QThread

JOIN_TIMEOUT_MS = 5000  # how long a stop waits before it detaches the thread

_threads: "weakref.WeakSet[QThread]" = weakref.WeakSet()
_detached: list[tuple[QThread, QObject | None]] = []  # strong references: never destroyed


def start_thread(worker: QObject, name: str, run: str | None = None) -> QThread:
    """Move ``worker`` to a new, registered, started QThread and return the thread.

    ``run`` names a slot of the worker to call on that thread once its event loop
    runs: queued, not from QThread.started, so that a quit() asked during a long run()
    is honoured when it returns (a quit before the loop starts would be lost).
    """
    _prune()
    thread = QThread()
    thread.setObjectName(name)
    worker.moveToThread(thread)
    _threads.add(thread)
    thread.start()
    if run is not None:
        QMetaObject.invokeMethod(worker, run, Qt.QueuedConnection)
    return thread


def stop_thread(thread: QThread | None, timeout_ms: int | None = None,
                worker: QObject | None = None, receiver: QObject | None = None) -> bool:
    """Quit the thread's event loop and join it (quit first, then wait).

    Returns True when it ended; then everything the thread queued for ``receiver``
    (a controller on this thread) is delivered now, while the caller still treats that
    run as its current one. When the thread is still busy after ``timeout_ms`` (default
    `JOIN_TIMEOUT_MS`), it is detached: kept alive with ``worker`` until it ends,
    and ``worker``'s signals are blocked so nothing it still sends arrives.
    Controllers drop slot calls whose ``sender()`` is not their current worker, which
    covers what a detached worker had queued before it was blocked.
    """
    if thread is None:
        return True
    thread.quit()
    if thread.wait(JOIN_TIMEOUT_MS if timeout_ms is None else timeout_ms):
        _threads.discard(thread)
        if receiver is not None:
            QCoreApplication.sendPostedEvents(receiver, QEvent.MetaCall)
        return True
    if worker is not None:
        # for good: the worker is dropped, so no QSignalBlocker scope to restore; the
        # flag is read at each emit, so its late results are never delivered
        worker.blockSignals(True)
    _detached.append((thread, worker))
    return False


def _prune() -> None:
    """Drop detached threads that have ended (safe to destroy now)."""
    _detached[:] = [(t, w) for t, w in _detached if not t.isFinished()]


def detached_threads() -> list[QThread]:
    """Threads that were stopped but had not ended in time, still running."""
    _prune()
    return [t for t, _ in _detached]


def live_threads() -> list[QThread]:
    """Registered threads still running (a detached one stays registered until it ends)."""
    return [t for t in list(_threads) if t.isRunning()]


def wait_for_detached(parent=None, settings=None) -> None:
    """Block (events keep flowing) until every detached thread has ended, behind a
    small dialog after half a second. Its "Quit now" button ends the process at once
    (``settings`` synced first): the only safe way out while a thread still runs."""
    if not detached_threads():
        return
    import time

    from PySide6.QtWidgets import QProgressDialog
    dialog = QProgressDialog("Finishing the current training step…", "Quit now", 0, 0,
                             parent)
    dialog.setObjectName("finishingDialog")
    dialog.setWindowTitle("DeskLab")
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    dialog.hide()  # shown only if the wait is long enough to notice
    show_at = time.perf_counter() + 0.5
    while detached_threads():
        if dialog.wasCanceled():
            if settings is not None:
                settings.sync()
            os._exit(0)  # no destructors: a running QThread must never be destroyed
        if not dialog.isVisible() and time.perf_counter() >= show_at:
            dialog.show()
        QCoreApplication.processEvents()
        for thread in detached_threads():
            thread.wait(20)
    dialog.close()
    dialog.deleteLater()
