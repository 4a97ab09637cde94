"""Threads that fit the machine: how busy the other cores are, measured against a
process we start ourselves; the thread count chosen within the free cores; what
``desklab train`` reports; what ``runs show`` says of a run that oversubscribed."""

import json
import subprocess
import sys
import threading
import time

import pytest
import torch

from desklab.cli import main
from desklab.engine.threads import choose_threads
from desklab.engine.trainer import Trainer
from desklab.lessons import get_preset
from desklab.runs.folder import threads_note
from desklab.util.cpu_load import busy_other_cores, cpu_count, measure_busy_others, sample

# they read how busy the machine's cores are: no other test may run beside them
pytestmark = pytest.mark.alone

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="/proc/stat is Linux's")


@pytest.fixture
def spinner():
    """One other process keeping one core busy."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    time.sleep(0.3)  # started and spinning
    yield proc
    proc.kill()
    proc.wait()


@linux_only
def test_a_spinning_process_counts_as_one_busy_core():
    """Against the load just before the spinner (a trainer process of an earlier test may
    still be warming up): the spinner adds one busy core."""
    for _ in range(5):  # a busy moment of the machine: measure again
        before = measure_busy_others(0.5)
        proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            time.sleep(0.3)
            busy = measure_busy_others(0.5)
        finally:
            proc.kill()
            proc.wait()
        if before < 0.3:
            break
    assert 0.7 < busy - before < 1.3 and busy < 1.4 + before, (before, busy)


@linux_only
def test_our_own_work_is_not_counted_as_others():
    """Two of our threads spin: ours, not others'. Measured again (up to three times)
    while another process is busy: the other worker's test teardown (a trainer process
    that stops) kept a core busy for a second or two in one CI run."""
    def spin():
        while time.perf_counter() < stop:
            pass

    seen = []
    for _ in range(3):
        before = sample()
        stop = time.perf_counter() + 0.4
        helper = threading.Thread(target=spin)
        helper.start()
        spin()
        helper.join()
        seen.append(busy_other_cores(before, sample()))
        if seen[-1] < 0.5:
            break
        time.sleep(1.0)  # let the other process finish
    assert min(seen) < 0.5, seen


@pytest.mark.skipif(cpu_count() < 2, reason="needs two cores")
@linux_only
def test_with_one_core_busy_a_two_core_run_takes_one_thread_less(spinner, monkeypatch,
                                                                   tmp_path):
    monkeypatch.setenv("DESKLAB_CACHE", str(tmp_path))
    saved = torch.get_num_threads()
    try:
        trainer = Trainer(get_preset("deep-sigmoid"))
        choice = choose_threads(trainer)
        assert choice.busy_other_cores > 0.6
        assert choice.threads == choice.free_cores == cpu_count() - 1
        assert torch.get_num_threads() == choice.threads
    finally:
        torch.set_num_threads(saved)


def test_the_run_measures_its_first_steps_and_the_choice_is_cached(monkeypatch, tmp_path):
    monkeypatch.setenv("DESKLAB_CACHE", str(tmp_path))
    monkeypatch.setattr("desklab.engine.threads.cpu_count", lambda: 4)
    monkeypatch.setattr("desklab.util.cpu_load.cpu_count", lambda: 4)
    saved = torch.get_num_threads()
    try:
        design = get_preset("deep-sigmoid")
        design.train.steps = 300
        trainer = Trainer(design)
        first = choose_threads(trainer, busy_others=0.0)
        assert first.how == "measuring" and torch.get_num_threads() == 1
        seen = []  # the thread count each step ran with
        trainer.step_guard = lambda: _note(seen)
        trainer.run()
        assert first.how == "measured" and sorted(first.seconds_per_step) == [1, 2, 4]
        assert all(s > 0 for s in first.seconds_per_step.values())
        assert torch.get_num_threads() == first.threads == seen[-1]
        assert set(seen[:60]) == {1, 2, 4}  # the counts took turns on the first steps
        assert trainer.before_step is None  # the trial is over: nothing per step any more
        design.train.lr, design.name = 0.5, "renamed"  # the same shape
        again = choose_threads(Trainer(design), busy_others=0.0)
        assert again.how == "cached" and again.threads == first.threads
        design.train.batch_size = 16  # another shape
        assert choose_threads(Trainer(design), busy_others=0.0).how == "measuring"
        assert choose_threads(Trainer(design), requested=3).threads == 3
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(saved)


def _note(seen: list):
    import contextlib
    seen.append(torch.get_num_threads())
    return contextlib.nullcontext()


def test_desklab_train_reports_its_threads(tmp_path, capsys):
    report = tmp_path / "r.json"
    assert main(["train", "--preset", "deep-sigmoid", "--steps", "20", "--threads", "1",
                 "--quiet", "--no-record", "--json", str(report)]) == 0
    threads = json.loads(report.read_text())["threads"]
    assert threads["threads"] == 1 and threads["how"] == "set"
    assert "1 thread)" in capsys.readouterr().out
    assert main(["train", "--preset", "deep-sigmoid", "--threads", "-2"]) == 2


def test_runs_show_says_when_a_run_oversubscribed():
    meta = {"threads": {"threads": 2, "how": "user", "cores": 2}, "busy_other_cores": 0.9}
    note = threads_note(meta)
    assert "more threads than the 1 free core" in note and "set_num_threads(1)" in note
    calm = threads_note({**meta, "busy_other_cores": 0.1})
    assert "more threads" not in calm and "0.1 cores busy" in calm
    assert threads_note({}) is None and threads_note({"threads": "x"}) is None
