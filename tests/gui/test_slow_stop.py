"""A stop that cannot join in time never destroys a running QThread (that aborts the
process, exit 134): the thread is detached, ends after its step, and its late events
are ignored; closing the window waits for it behind a small dialog.

The steps here are made deliberately slow (1.2 s) and the join timeout short, as a
4 x conv2d(1024) net on digits at batch 256 did for real with the 5 s timeout."""

import gc
import threading
import time

import pytest

from desklab.engine.trainer import Trainer
from desklab.gui.controllers import threads
from desklab.gui.controllers.threads import detached_threads, live_threads

SLOW_S = 1.2


@pytest.fixture
def slow_steps(monkeypatch):
    """Every training step takes SLOW_S; `entered` is set when the first one starts."""
    entered = threading.Event()
    original = Trainer._train_step

    def slow(self, *args, **kwargs):
        entered.set()
        time.sleep(SLOW_S)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "_train_step", slow)
    monkeypatch.setattr(threads, "JOIN_TIMEOUT_MS", 100)
    return entered


def start(window, qtbot, entered):
    design = window.doc.design.copy()
    design.train.steps, design.train.probe_every = 50, 1
    window.training.start(design)
    qtbot.waitUntil(entered.is_set, timeout=20000)


def test_stop_during_a_slow_step_detaches_the_thread(window, qtbot, slow_steps):
    start(window, qtbot, slow_steps)
    controller = window.training.controller
    history = controller.history
    assert controller.stop_and_join() is False  # the step is still running
    gc.collect()  # nothing holds the thread in the controller any more
    assert len(detached_threads()) == 1
    seen = len(history.steps.steps)
    qtbot.waitUntil(lambda: not detached_threads(), timeout=10000)
    qtbot.wait(100)  # let anything the old worker queued arrive (it must not)
    assert controller.history is history and controller.thread is None
    assert len(history.steps.steps) == seen  # what the old worker sent late was ignored
    # a new run starts and ends normally after it
    window.training.controller.start(window.doc.design.copy())
    window.training.controller.stop_and_join(timeout_ms=20000)


def test_reset_during_a_slow_step_says_it_finishes_in_the_background(window, qtbot,
                                                                     slow_steps):
    start(window, qtbot, slow_steps)
    window.training.reset()
    assert "finishing in the background" in window.statusBar().currentMessage()
    assert window.training.controller.state == "idle"
    qtbot.waitUntil(lambda: not detached_threads(), timeout=10000)


def test_closing_during_a_slow_step_waits_for_it(window, qtbot, slow_steps):
    start(window, qtbot, slow_steps)
    window.doc.undo_stack.setClean()
    began = time.perf_counter()
    seen = []

    def look():
        from PySide6.QtWidgets import QApplication
        seen.extend(w.labelText() for w in QApplication.topLevelWidgets()
                    if w.objectName() == "finishingDialog" and w.isVisible())

    from PySide6.QtCore import QTimer
    QTimer.singleShot(800, look)  # runs inside the close's wait loop
    window.close()  # shuts down, detaches, then waits behind the "finishing" dialog
    assert seen == ["Finishing the current training step…"]
    assert not live_threads()  # training and preview threads both ended
    assert time.perf_counter() - began < SLOW_S + 5


def test_closing_while_the_preview_computes_waits_for_it(window, qtbot, monkeypatch):
    from desklab.gui.views import preview
    entered = threading.Event()
    original = preview.probe_at_init

    def slow_probe(*args, **kwargs):
        entered.set()
        time.sleep(SLOW_S)
        return original(*args, **kwargs)

    monkeypatch.setattr(preview, "probe_at_init", slow_probe)
    monkeypatch.setattr(threads, "JOIN_TIMEOUT_MS", 100)
    window.doc.design.train.lr = 0.002  # any edit asks for a new preview
    window.preview.request()
    qtbot.waitUntil(entered.is_set, timeout=10000)
    window.doc.undo_stack.setClean()
    window.close()
    assert not live_threads()
