"""Shared test setup: headless Qt, no test may leave a thread running, and tests that
must have the machine to themselves get it.

The suite runs in two pytest-xdist workers (the README's test command: ``-n 2``). Each keeps
torch to one intra-op thread: two workers on two cores each spinning two threads ran
the in-process training claims up to 9x slower than alone (measured: the dropout claim
13 s alone, 112 s so). DeskLab's own processes the tests start choose their own
threads, as they do for a user (from the free cores, whatever the environment says);
a plain PyTorch script a test runs (the examples under desklab.watch, exported code)
gets one thread through OMP_NUM_THREADS: torch's default of two, beside the other
worker, took the Hugging Face example 30 s instead of 15.5.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import threading
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
IN_WORKER = bool(os.environ.get("PYTEST_XDIST_WORKER"))  # a pytest-xdist worker
if IN_WORKER:
    os.environ["OMP_NUM_THREADS"] = "1"  # inherited by the scripts tests start
    import torch
    torch.set_num_threads(1)

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def machine_share(request):
    """In a worker, every test holds a shared lock on the machine; a test marked
    ``alone`` holds it exclusively, so no other worker's test runs beside it: the tests
    that measure how busy the cores are, those that time a promise in wall-clock
    seconds, and the real-input stories where they run in a worker.

    A turnstile lock stops new shared holders while an ``alone`` test waits, so that it
    is not starved by the other worker's next tests."""
    if not IN_WORKER:  # one process: nothing runs beside a test (xdist not needed)
        yield
        return
    uid = request.getfixturevalue("testrun_uid")  # pytest-xdist's, one per run
    base = Path(tempfile.gettempdir()) / f"desklab-tests-{uid}"
    with open(f"{base}.turnstile", "a") as turnstile, open(f"{base}.share", "a") as share:
        alone = request.node.get_closest_marker("alone") is not None
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        try:
            fcntl.flock(share, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        finally:
            fcntl.flock(turnstile, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(share, fcntl.LOCK_UN)


@pytest.fixture(scope="session", autouse=True)
def runs_in_a_temp_folder(tmp_path_factory):
    """Runs the tests record (desklab train, the app) go to a temp folder, never the
    user's run store."""
    os.environ["DESKLAB_RUNS"] = str(tmp_path_factory.mktemp("runs"))
    os.environ["DESKLAB_CACHE"] = str(tmp_path_factory.mktemp("cache"))  # thread choices
    yield
    from desklab.trainer_process.client import POOL
    POOL.shutdown()  # the warm trainer process the windows shared


@pytest.fixture(scope="session", autouse=True)
def collect_on_main_thread_only():
    """As the app does (desklab/gui/controllers/gc_guard.py): the cycle collector must
    never run in a worker thread, where it could destroy an earlier test's Qt objects and
    deadlock."""
    import gc
    gc.disable()
    yield
    gc.enable()


@pytest.fixture(autouse=True)
def no_leaked_threads(request):
    """Fail any test that leaves a Python or Qt worker thread running."""
    before = set(threading.enumerate())
    yield
    import gc
    # on the main thread, between tests: all of it after a test that used Qt (its
    # objects are destroyed here, not later); otherwise the young generations, which
    # hold what the test made (1 ms instead of 100: a full pass over torch's and Qt's
    # objects after each of 800 tests took 40 s of the suite)
    qt = {"qtbot", "window", "qapp"} & set(request.fixturenames)
    gc.collect() if qt else gc.collect(1)
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()
              and not t.daemon]
    assert not leaked, f"test left threads running: {leaked}"
    try:
        from desklab.gui.controllers.worker import live_threads
    except ImportError:
        return
    running = live_threads()
    assert not running, f"test left {len(running)} QThread(s) running"


@pytest.fixture
def settings(tmp_path):
    """QSettings in a temp file: tests never touch the user's layout or recent files."""
    from PySide6.QtCore import QSettings
    return QSettings(str(tmp_path / "desklab.ini"), QSettings.IniFormat)


@pytest.fixture
def window(qtbot, settings):
    """The main window on deep-relu; answers 'Discard' instead of showing dialogs."""
    from PySide6.QtWidgets import QMessageBox

    from desklab.gui.views.main_window import MainWindow
    from desklab.lessons import get_preset
    win = MainWindow(get_preset("deep-relu"), settings=settings)
    win.ask_save_changes = lambda: QMessageBox.Discard
    win.errors = []
    win.show_error = lambda title, message: win.errors.append(message)
    win.training.ask_stop_to_edit = lambda: QMessageBox.Yes
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.preview.last_snapshot is not None, timeout=10000)
    yield win
    win.shutdown()
