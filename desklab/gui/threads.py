"""Every QThread DeskLab starts goes through here, so none can outlive its owner.

A QThread destroyed while running aborts the process; `start_thread` keeps a
registry that the window's close and the tests check (`live_threads`).
"""

from __future__ import annotations

import weakref

from PySide6.QtCore import QObject, QThread

_threads: "weakref.WeakSet[QThread]" = weakref.WeakSet()


def start_thread(worker: QObject, name: str) -> QThread:
    """Move ``worker`` to a new, registered, started QThread and return the thread."""
    thread = QThread()
    thread.setObjectName(name)
    worker.moveToThread(thread)
    _threads.add(thread)
    thread.start()
    return thread


def stop_thread(thread: QThread | None, timeout_ms: int = 5000) -> bool:
    """Quit the thread's event loop and join it (quit first, then wait)."""
    if thread is None:
        return True
    thread.quit()
    done = thread.wait(timeout_ms)
    _threads.discard(thread)
    return done


def live_threads() -> list[QThread]:
    """Registered threads still running."""
    return [t for t in list(_threads) if t.isRunning()]
