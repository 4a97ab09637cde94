"""Shared test setup: headless Qt, and no test may leave a thread running."""

from __future__ import annotations

import os
import threading

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def no_leaked_threads():
    """Fail any test that leaves a Python or Qt worker thread running."""
    before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()
              and not t.daemon]
    assert not leaked, f"test left threads running: {leaked}"
    try:
        from desklab.gui.worker import live_threads
    except ImportError:
        return
    running = live_threads()
    assert not running, f"test left {len(running)} QThread(s) running"
