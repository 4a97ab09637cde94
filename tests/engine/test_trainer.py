"""The headless trainer: commands, reproducibility, divergence, failures, options."""

import math
import threading
import time

import numpy as np
import pytest
import torch

from desklab.design import InputSpec, LayerSpec, NetworkDesign
from desklab.engine.trainer import Trainer
from desklab.lessons import get_preset


def small(steps=60, **train):
    design = NetworkDesign(input=InputSpec("moons", {"samples": 400}), layers=[
        LayerSpec.make("dense", units=16, init="he_normal"),
        LayerSpec.make("dense", units=16, init="he_normal", dropout=0.2)])
    design.train.steps, design.train.batch_size = steps, 32
    design.train.probe_every, design.train.eval_every = 5, 20
    for key, value in train.items():
        setattr(design.train, key, value)
    return design


def collect(trainer):
    events = []
    trainer.run(events.append)
    return events


def test_events_and_probe_schedule():
    events = collect(Trainer(small()))
    snaps = [e.payload for e in events if e.kind == "snapshot"]
    assert [s.step for s in snaps] == [*range(0, 60, 5), 59]  # and the last step
    metrics = [e.payload for e in events if e.kind == "metrics"]
    assert [m.step for m in metrics] == [20, 40, 60]
    assert events[-1].kind == "ended" and events[-1].payload == "finished"
    assert all(np.isfinite(s.stat("act_std")).all() for s in snaps)
    assert np.isfinite(snaps[-1].stat("update_ratio")[0])


def test_seeded_runs_reproduce_exactly():
    a = [e.payload for e in collect(Trainer(small())) if e.kind in ("snapshot", "metrics")]
    b = [e.payload for e in collect(Trainer(small())) if e.kind in ("snapshot", "metrics")]
    for x, y in zip(a, b):
        if hasattr(x, "stats"):
            assert np.array_equal(x.stats, y.stats) and np.array_equal(x.hist, y.hist)
        else:  # NaN (no top-5 for 2 classes) compares equal to itself here
            np.testing.assert_array_equal(np.array(list(vars(x).values()), float),
                                          np.array(list(vars(y).values()), float))
    c = [e.payload for e in collect(Trainer(small(seed=1))) if e.kind == "metrics"]
    assert c[-1].loss != a[-1].loss


class Driver:
    """Runs a trainer on a thread and records its events."""

    def __init__(self, trainer):
        self.trainer, self.events = trainer, []
        self.thread = threading.Thread(target=trainer.run, args=(self.events.append,))

    def wait_for(self, predicate, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.005)
        raise AssertionError("timed out")

    def kinds(self):
        return [e.kind for e in self.events]


def test_pause_step_resume_stop_and_live_lr():
    trainer = Trainer(small(steps=100000, probe_every=0))
    drive = Driver(trainer)
    drive.thread.start()
    try:
        drive.wait_for(lambda: trainer.step >= 3)
        trainer.pause()
        drive.wait_for(lambda: "paused" in drive.kinds())
        held = trainer.step
        time.sleep(0.2)
        assert trainer.step == held and trainer.state == "paused"
        trainer.step_once()
        drive.wait_for(lambda: trainer.step == held + 1)
        time.sleep(0.1)
        assert trainer.step == held + 1  # exactly one step, then paused again
        stepped = [e for e in drive.events if e.kind == "snapshot"]
        assert stepped and stepped[-1].step == held  # single steps are always probed
        trainer.set_lr(0.05)
        trainer.resume()
        drive.wait_for(lambda: trainer.step > held + 5)
        assert "resumed" in drive.kinds()
        assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.05)
    finally:
        trainer.stop()
        drive.thread.join(5)
    assert not drive.thread.is_alive()
    assert trainer.state == "stopped" and drive.events[-1].payload == "stopped"


def test_stop_while_paused():
    trainer = Trainer(small(steps=100000))
    drive = Driver(trainer)
    trainer.pause()
    drive.thread.start()
    drive.wait_for(lambda: "paused" in drive.kinds())
    trainer.stop()
    drive.thread.join(5)
    assert trainer.state == "stopped" and trainer.step == 0


def test_divergence_ends_cleanly_with_history_intact():
    events = collect(Trainer(get_preset("lr-too-high")))
    diverged = [e.payload for e in events if e.kind == "finding"]
    assert diverged and diverged[0].kind == "diverged" and diverged[0].severity == "error"
    assert f"step {diverged[0].step}" in diverged[0].message
    assert events[-1].payload == "diverged"
    snaps = [e.payload for e in events if e.kind == "snapshot"]
    metrics = [e.payload for e in events if e.kind == "metrics"]
    assert snaps and all(s.step < diverged[0].step for s in snaps)
    assert all(np.isfinite(s.stats[:, :8]).all() and math.isfinite(s.loss) for s in snaps)
    assert all(math.isfinite(m.loss) for m in metrics)


def test_device_failure_is_a_message_not_a_crash(monkeypatch):
    trainer = Trainer(small())
    calls = {"n": 0}
    forward = trainer.model.forward

    def failing(x):
        calls["n"] += 1
        if calls["n"] == 7:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")
        return forward(x)

    monkeypatch.setattr(trainer.model, "forward", failing)
    events = collect(trainer)
    failed = [e.payload for e in events if e.kind == "finding"]
    assert trainer.state == "failed" and failed[0].kind == "failed"
    assert "out of memory" in failed[0].message and "step 6" in failed[0].message
    assert "smaller batch" in failed[0].advice


def test_a_failure_that_is_not_memory_is_not_blamed_on_the_batch(monkeypatch):
    trainer = Trainer(small(steps=20))

    def failing(x):
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (32x3 and 2x16)")

    monkeypatch.setattr(trainer.model, "forward", failing)
    failed = [e.payload for e in collect(trainer) if e.kind == "finding"]
    assert trainer.state == "failed" and "shapes cannot be multiplied" in failed[0].message
    assert "batch" not in failed[0].advice and "report" in failed[0].advice


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw", "rmsprop"])
@pytest.mark.parametrize("schedule", ["constant", "step", "cosine"])
def test_optimizers_and_schedules_learn(optimizer, schedule):
    lr = 0.1 if optimizer == "sgd" else 0.01
    events = collect(Trainer(small(steps=120, optimizer=optimizer, schedule=schedule, lr=lr,
                                   l1=1e-5, l2=1e-4, grad_clip=1.0, nesterov=True)))
    metrics = [e.payload for e in events if e.kind == "metrics"]
    assert metrics[-1].train_acc > 0.8
    if schedule == "cosine":
        assert metrics[-1].lr < 1e-3 * lr


def test_schedules_and_penalties():
    from desklab.engine.optim import add_penalty_grads, schedule_factor
    assert schedule_factor("step", 0, 300) == 1.0
    assert schedule_factor("step", 100, 300) == pytest.approx(0.1)
    assert schedule_factor("step", 299, 300) == pytest.approx(0.01)
    assert schedule_factor("cosine", 150, 300) == pytest.approx(0.5)
    # the gradients equal autograd's of the penalty written out (sign(0) = 0 included)
    w = [torch.tensor([1.0, -2.0, 0.0], requires_grad=True), torch.tensor([[3.0]],
                                                                        requires_grad=True)]
    ref = [t.detach().clone().requires_grad_() for t in w]
    (0.5 * sum(t.abs().sum() for t in ref) + 0.1 * sum(t.pow(2).sum() for t in ref)
     + ref[0].sum()).backward()
    w[0].sum().backward()  # w[1] gets no gradient from the loss: .grad starts as None
    add_penalty_grads(w, 0.5, 0.1)
    for mine, theirs in zip(w, ref):
        torch.testing.assert_close(mine.grad, theirs.grad)
    assert w[0].grad.tolist() == pytest.approx([1.0 + 0.5 + 0.2, 1.0 - 0.5 - 0.4, 1.0])
    before = [t.grad.clone() for t in w]
    add_penalty_grads(w, 0.0, 0.0)  # nothing to add
    assert all(torch.equal(a, t.grad) for a, t in zip(before, w))


def test_early_stopping():
    design = small(steps=5000, early_stopping=2, eval_every=10)
    design.train.lr = 0.05
    events = collect(Trainer(design))
    assert events[-1].payload == "early_stopped"
    assert any(e.kind == "finding" and e.payload.kind == "early_stopped" for e in events)


def test_top5_and_regression_metrics():
    digits = get_preset("cnn-digits")
    digits.train.steps, digits.train.eval_every = 20, 20
    m = [e.payload for e in collect(Trainer(digits)) if e.kind == "metrics"][-1]
    assert 0 <= m.val_top5 <= 1 and m.val_top5 >= m.val_acc
    sine = NetworkDesign(input=InputSpec("sine", {"samples": 200}), layers=[
        LayerSpec.make("dense", units=32, activation="tanh")])
    sine.output.task = "regression"
    sine.train.steps, sine.train.eval_every, sine.train.lr = 200, 100, 0.01
    ms = [e.payload for e in collect(Trainer(sine)) if e.kind == "metrics"]
    assert ms[-1].loss < ms[0].loss and math.isnan(ms[-1].train_acc)


def test_trainer_copies_the_design():
    design = small()
    trainer = Trainer(design)
    design.layers.clear()
    assert len(trainer.design.layers) == 2


def test_runs_stay_reproducible_while_previews_probe_in_another_thread():
    from desklab.engine import probe_at_init
    design = small(steps=80)
    solo = [e.payload for e in collect(Trainer(design)) if e.kind == "snapshot"]
    stop = threading.Event()

    def previews():
        while not stop.is_set():
            probe_at_init(get_preset("cnn-digits"), max_batch=32)

    thread = threading.Thread(target=previews)
    thread.start()
    try:
        busy = [e.payload for e in collect(Trainer(design)) if e.kind == "snapshot"]
    finally:
        stop.set()
        thread.join(10)
    for a, b in zip(solo, busy):
        assert np.array_equal(a.stats, b.stats)


def test_interleaved_runs_and_previews_keep_their_own_dropout_streams():
    """Two seeded runs stepped alternately (as the compare window's two threads may be),
    with an at-init preview (which reseeds) between their steps, give exactly what each
    gives alone. Dropout draws from torch's global generator, so this needs each user
    to keep a private stream."""
    from desklab.engine import probe_at_init

    def snapshots(events):
        return [e.payload.stats for e in events if e.kind == "snapshot"]

    first, second = small(steps=40), small(steps=40)
    second.train.seed = 7
    solo = [snapshots(collect(Trainer(d))) for d in (first, second)]
    runs = [Trainer(first).events(), Trainer(second).events()]
    mixed: list[list] = [[], []]
    live = [True, True]
    while any(live):
        for k, run in enumerate(runs):
            if not live[k]:
                continue
            event = next(run, None)
            if event is None:
                live[k] = False
            else:
                mixed[k].append(event)
            probe_at_init(get_preset("cnn-digits"), max_batch=16)  # reseeds, has dropout
    for k in range(2):
        got = snapshots(mixed[k])
        assert len(got) == len(solo[k]) == 9  # every 5th step and the last
        for a, b in zip(solo[k], got):
            assert np.array_equal(a, b)
    assert not np.array_equal(solo[0][-1], solo[1][-1])  # the seeds do differ
