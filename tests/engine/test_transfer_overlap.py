"""On a GPU a transfer is taken one step after it was sent (`engine/transfer.py`): the
loop launches the next step's work while the device reduces the probe and copies it.
Proven on the CPU by making every transfer behave so: a run then reports exactly what
it reports when each transfer is taken at once (every step's loss, every snapshot, the
evaluations), and a diverging run stops at the same step with the same finding."""

import numpy as np
import pytest

from desklab.engine.trainer import Trainer
from desklab.engine.transfer import InFlight
from desklab.lessons import get_preset


def run(design, monkeypatch, overlap: bool) -> list:
    with monkeypatch.context() as m:
        if overlap:
            m.setattr(InFlight, "overlaps", property(lambda self: True))
        return list(Trainer(design, device="cpu").events())


def payloads(events, kind):
    return [e.payload for e in events if e.kind == kind]


@pytest.mark.parametrize("every", [1, 3])
def test_a_run_taken_a_step_late_reports_the_same(monkeypatch, every):
    design = get_preset("bench-mlp")
    design.train.steps, design.train.probe_every, design.train.eval_every = 40, every, 15
    design.train.batch_size = 64
    late, now = run(design, monkeypatch, True), run(design, monkeypatch, False)
    for kind in ("steps", "snapshot", "metrics"):
        assert len(payloads(late, kind)) == len(payloads(now, kind)), kind
    loss = [np.concatenate([s.loss for s in payloads(ev, "steps")]) for ev in (late, now)]
    assert len(loss[0]) == 40 and np.array_equal(loss[0], loss[1])
    for a, b in zip(payloads(late, "snapshot"), payloads(now, "snapshot")):
        assert a.step == b.step
        np.testing.assert_array_equal(a.stats, b.stats)
        np.testing.assert_array_equal(a.hist, b.hist)
    assert [m.loss for m in payloads(late, "metrics")] == \
        [m.loss for m in payloads(now, "metrics")]
    # the train loss of an evaluation is the mean of the steps' losses since the last
    first = payloads(now, "metrics")[0]
    assert first.loss == pytest.approx(loss[1][:15].mean(), rel=1e-12)


def test_a_diverging_run_taken_late_stops_at_the_same_step(monkeypatch):
    design = get_preset("lr-too-high")
    design.train.probe_every = 1
    late, now = run(design, monkeypatch, True), run(design, monkeypatch, False)
    found = [[f for f in payloads(ev, "finding") if f.kind == "diverged"] for ev in (late, now)]
    assert len(found[0]) == len(found[1]) == 1
    bad = found[1][0].step
    assert found[0][0].step == bad and found[0][0].message == found[1][0].message
    for ev in (late, now):
        steps = np.concatenate([s.steps for s in payloads(ev, "steps")])
        assert steps[-1] == bad - 1 and np.isfinite(
            np.concatenate([s.loss for s in payloads(ev, "steps")])).all()
        assert all(s.step < bad for s in payloads(ev, "snapshot"))
        assert ev[-1].payload == "diverged"
