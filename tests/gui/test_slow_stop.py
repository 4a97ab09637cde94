"""Faults stay in the trainer process, and nothing waits for a slow step.

A stop during a step that takes 1.2 s (the test-only fault hook slows every step) ends
the run within the grace period by ending the process; resetting and closing the window
never wait for the step either. A trainer that segfaults, is killed with SIGKILL or
calls os._exit leaves the window running: the run is marked failed with the cause in
plain words, and the run file keeps everything up to its last commit. Results are read
from what the app writes (the run file), the trainer's pid from that file.
"""

import os
import signal
import threading
import time

import pytest

from desklab.gui.controllers import threads
from desklab.gui.controllers.threads import live_threads
from desklab.runs import RunReader
from desklab.trainer_process.client import STOP_GRACE_S

SLOW_S = 1.2


def start(window, qtbot, monkeypatch, fault: str, steps: int = 50):
    monkeypatch.setenv("DESKLAB_TRAINER_FAULT", fault)
    design = window.doc.design.copy()
    design.train.steps, design.train.probe_every = steps, 1
    window.training.start(design)
    controller = window.training.controller
    # "running" (or, for a fault at step 3, already over): the process built the run
    qtbot.waitUntil(lambda: controller.state != "starting", timeout=30000)
    return controller


def run_file(controller):
    reader = RunReader(controller.run_path)
    try:
        return reader.meta, reader.history()
    finally:
        reader.close()


@pytest.mark.alone  # times the grace period in wall-clock seconds
def test_stop_during_a_slow_step_ends_the_process_within_the_grace(window, qtbot,
                                                                     monkeypatch):
    controller = start(window, qtbot, monkeypatch, f"slow={SLOW_S}")
    qtbot.waitUntil(lambda: controller.snapshots_received >= 1, timeout=10000)
    time.sleep(0.1)  # inside the second step now
    pid = run_file(controller)[0]["pid"]
    began = time.perf_counter()
    with qtbot.waitSignal(controller.run_ended, timeout=5000) as ended:
        window.training.stop()  # returns at once
        assert time.perf_counter() - began < 0.2
    took = time.perf_counter() - began
    assert ended.args == ["stopped"] and controller.state == "stopped"
    assert STOP_GRACE_S - 0.2 < took < STOP_GRACE_S + 0.8, took  # killed, not waited for
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    meta, history = run_file(controller)
    assert meta["status"] == "stopped" and "did not end within" in meta["cause"]
    assert history.latest.step == 0  # what was committed before the kill is all there
    assert [t.objectName() for t in live_threads()] == ["desklab-preview"]
    monkeypatch.delenv("DESKLAB_TRAINER_FAULT")
    window.training.start(window.doc.design.copy())  # a fresh process trains the next run
    qtbot.waitUntil(lambda: controller.snapshots_received >= 1, timeout=30000)
    window.training.stop_and_reset()


@pytest.mark.alone
def test_reset_and_close_during_a_slow_step_wait_about_a_second(window, qtbot, monkeypatch):
    controller = start(window, qtbot, monkeypatch, f"slow={SLOW_S}")
    began = time.perf_counter()
    window.training.reset()
    assert time.perf_counter() - began < STOP_GRACE_S + 0.8
    assert controller.state == "idle" and controller.thread is None
    window.training.start(window.doc.design.copy())
    qtbot.waitUntil(lambda: controller.state == "running", timeout=30000)
    window.doc.undo_stack.setClean()
    began = time.perf_counter()
    window.close()
    assert time.perf_counter() - began < STOP_GRACE_S + 0.8
    assert not live_threads()  # training and preview threads both ended


@pytest.mark.parametrize("fault, words", [
    ("segfault@3", ["SIGSEGV", "segmentation fault", "Fatal Python error"]),
    ("exit@3", ["exited with code 3"]),
])
def test_a_trainer_that_crashes_leaves_the_app_running(window, qtbot, monkeypatch, fault,
                                                        words):
    controller = start(window, qtbot, monkeypatch, fault)
    qtbot.waitUntil(lambda: controller.thread is None, timeout=20000)  # the run is over
    assert controller.state == "failed"
    window.training.redraw(everything=True)
    shown = [window.training.findings.item(i).text()
             for i in range(window.training.findings.count())]
    assert any(all(w in text for w in words[:2]) for text in shown), shown
    meta, history = run_file(controller)
    assert meta["status"] == "failed" and all(w in meta["cause"] for w in words)
    assert history.latest.step == 2  # steps 0, 1 and 2 were probed and committed
    assert window.isVisible() and window.training.act_train.isEnabled()


def test_kill_9_of_the_trainer_mid_run(window, qtbot, monkeypatch):
    controller = start(window, qtbot, monkeypatch, "slow=0.02", steps=10**6)
    qtbot.waitUntil(lambda: controller.snapshots_received >= 5, timeout=20000)
    pid = run_file(controller)[0]["pid"]
    assert pid != os.getpid()
    with qtbot.waitSignal(controller.run_ended, timeout=10000):
        os.kill(pid, signal.SIGKILL)
    assert controller.state == "failed"
    meta, history = run_file(controller)
    assert meta["status"] == "failed" and "SIGKILL" in meta["cause"]
    assert "out-of-memory killer" in meta["cause"]
    assert history.latest.step >= 4  # everything up to the last commit is readable
    assert window.isVisible()
    monkeypatch.delenv("DESKLAB_TRAINER_FAULT")
    window.training.start(window.doc.design.copy())  # the app trains on
    qtbot.waitUntil(lambda: controller.snapshots_received >= 1, timeout=30000)
    window.training.stop_and_reset()


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
