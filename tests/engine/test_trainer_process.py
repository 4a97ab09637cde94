"""The trainer process without the app: it trains exactly what the same design trains in
this process (seeded), run after run in one process; commands are acknowledged; a Stop
sent before the run is built still stops it; deaths are told in plain words."""

import os
import signal

import numpy as np
import pytest
import torch

from desklab.engine.trainer import Trainer
from desklab.lessons import get_preset
from desklab.metrics import RunHistory
from desklab.runs import RunReader
from desklab.runs.store import mark_ended
from desklab.trainer_process.client import TrainerProcess
from desklab.trainer_process.protocol import Job, exit_cause, unpack_event


@pytest.fixture(scope="module")
def trainer():
    process = TrainerProcess()
    yield process
    process.quit()
    process.process.join(5)
    process.kill()
    process.dispose()


def run_to_end(process, job, commands=()):
    """Send ``job`` (and ``commands`` right after), collect everything until "done"."""
    assert process.start_job(job)
    for name, value in commands:
        process.command(name, value)
    history, layout, messages = RunHistory(), None, []
    while True:
        for message in process.receive(1.0):
            messages.append(message)
            if message[0] == "started":
                layout = history.layout = message[1].layout
            elif message[0] == "events":
                for packed in message[1]:
                    event = unpack_event(packed, layout)
                    history.record(event.kind, event.payload, diagnose=False)
            elif message[0] in ("done", "error"):
                return history, messages
        assert not process.exited, process.cause()


def losses(history):
    return history.step_series("loss")[1]


def test_the_process_trains_what_this_process_trains_run_after_run(trainer, tmp_path):
    design = get_preset("deep-sigmoid")
    design.train.steps = 60
    here = Trainer(design)
    expected = RunHistory(here.layout)
    for event in here.events():
        expected.record(event.kind, event.payload, diagnose=False)
    saved_threads = torch.get_num_threads()
    for k in range(2):  # the second run in the same, reused process
        path = tmp_path / f"run{k}.desklab-run"
        got, messages = run_to_end(trainer, Job(design, str(path), str(tmp_path / f"w{k}.pt")))
        assert np.allclose(losses(got), losses(expected), rtol=1e-5), k
        stats_here = np.stack([s.stats for s in expected.snapshots])
        stats_there = np.stack([s.stats for s in got.snapshots])
        assert np.allclose(stats_there, stats_here, rtol=1e-4, equal_nan=True)
        done = messages[-1][1]
        assert done.state == "finished" and done.step == 60
        final = torch.load(done.weights_path, weights_only=True)
        assert all(torch.allclose(final[k2], v, atol=1e-6)
                   for k2, v in here.model.state_dict().items())
        reader = RunReader(path)  # the run store file it wrote
        stored = reader.history()
        assert reader.meta["pid"] == trainer.process.pid
        assert reader.meta["threads"]["threads"] >= 1
        reader.close()
        assert np.allclose(losses(stored), losses(expected), rtol=1e-5)
    assert torch.get_num_threads() == saved_threads  # ours never changed


def test_a_run_name_taken_before_the_run_starts_moves_on_to_the_next_free_one(trainer,
                                                                             tmp_path):
    """The app chooses the run store's name; a `desklab train` of the same design in the
    same second may take it before the trainer makes the file. The run was then trained
    and never recorded (RunWriter refused the name, silently). It is now recorded at
    the next free name, told to the app in "started", its weights beside it."""
    from desklab.runs import RunWriter, SUFFIX
    from desklab.runs.folder import weights_path_of
    design = get_preset("deep-sigmoid")
    design.train.steps = 20
    chosen = tmp_path / f"20261205-061339-deep-sigmoid{SUFFIX}"
    RunWriter(chosen, {"name": "the other process's run"}).close()
    before = chosen.read_bytes()
    _, messages = run_to_end(trainer, Job(design, str(chosen), str(weights_path_of(chosen))))
    started = next(m[1] for m in messages if m[0] == "started")
    moved = tmp_path / f"20261205-061339-deep-sigmoid-2{SUFFIX}"
    assert started.run_path == str(moved)
    assert chosen.read_bytes() == before  # the other run untouched
    reader = RunReader(moved)
    assert reader.meta["status"] == "finished" and len(losses(reader.history())) == 20
    reader.close()
    assert messages[-1][1].weights_path == str(weights_path_of(moved))
    assert os.path.exists(weights_path_of(moved)) and not os.path.exists(
        weights_path_of(chosen))


def test_commands_are_acknowledged_and_a_stop_before_the_build_counts(trainer):
    design = get_preset("deep-sigmoid")
    design.train.steps = 10**6
    history, messages = run_to_end(trainer, Job(design, None, None),
                                   [("lr", 0.5), ("stop", None)])
    acks = [m[2:] for m in messages if m[0] == "ack"]
    assert acks == [("lr", 0.5), ("stop", None)]
    assert messages[-1][1].state == "stopped" and messages[-1][1].step < 5
    assert all(lr == 0.5 for lr in history.step_series("lr")[1])


def test_a_design_that_cannot_start_says_why(trainer):
    design = get_preset("deep-sigmoid")
    design.input.dataset = "no-such-set"
    _, messages = run_to_end(trainer, Job(design, None, None))
    assert messages[-1][0] == "error" and "Cannot start training" in messages[-1][1]
    assert trainer.process.is_alive() and not trainer.busy  # ready for the next job


def test_a_killed_process_is_told_in_plain_words(tmp_path, capsys):
    process = TrainerProcess()
    try:
        design = get_preset("deep-sigmoid")
        design.train.steps = 10**6
        path = tmp_path / "killed.desklab-run"
        assert process.start_job(Job(design, str(path), None))
        while not path.exists() or not process.ready:
            process.receive(0.2)
        process.receive(0.5)
        os.kill(process.process.pid, signal.SIGKILL)
        while not process.exited:
            process.receive(0.2)
        cause = process.cause()
        assert cause.startswith("The trainer process was ended by SIGKILL")
        assert mark_ended(path, "failed", cause)
        reader = RunReader(path)
        assert reader.meta["status"] == "failed" and reader.meta["cause"] == cause
        reader.close()
        from desklab.cli import main
        assert main(["runs", "show", str(path)]) == 0
        shown = capsys.readouterr().out
        assert f"cause: {cause}" in shown and "CPU thread" in shown
    finally:
        process.dispose()


def test_exit_causes():
    assert "segmentation fault" in exit_cause(-11, "Fatal Python error: x")
    assert exit_cause(-11, "Fatal Python error: x").endswith("Its last output: "
                                                             "Fatal Python error: x")
    assert "out-of-memory killer" in exit_cause(-9)
    assert exit_cause(3) == "The trainer process exited with code 3 before the run ended."
    assert "signal 77" in exit_cause(-77)
    assert mark_ended("/nonexistent/run.desklab-run", "failed", "x") is False
