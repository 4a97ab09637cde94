"""The probe's CUDA-graph path, proven on the CPU: a graph replays the reduction it
captured with the tensors of the probe it was captured at, so everything a replay
reads must be staged into those same buffers by every later probe (and a plan reused
for a layout seen before must be refilled). Here the capture is stood in for by a
"graph" that replays the captured plan eagerly; probe after probe, as the weights move,
its numbers must equal those plain hooks measure in the same run. (On a GPU,
tests/engine/test_cuda.py holds the real graphs to the eager path.)"""

import numpy as np
import torch

from desklab.design import InputSpec, LayerSpec, NetworkDesign
from desklab.engine.probe_graph import DeviceReducer
from desklab.engine.trainer import Trainer
from desklab.metrics import STAT_INDEX


class ReplaysThePlan:
    """What a CUDA graph does, eagerly: re-run the reduction of the captured plan."""

    def __init__(self, reducer, plan):
        self.replay = lambda: reducer._reduce(plan)


def design() -> NetworkDesign:
    layers = [LayerSpec.make("dense", units=16, activation="tanh", init="gaussian"),
              LayerSpec.make("dense", units=16, activation="relu", dropout=0.2),
              LayerSpec.make("dense", units=16, activation="sigmoid"),
              LayerSpec.make("dense", units=8, activation="relu", norm="batchnorm")]
    d = NetworkDesign(input=InputSpec("moons", {"samples": 300}), layers=layers)
    d.train.steps, d.train.probe_every, d.train.eval_every = 9, 1, 5
    d.train.device = "cpu"
    return d


def snapshots(monkeypatch, graphed: bool) -> tuple[list, int]:
    monkeypatch.setattr("desklab.engine.probe.CpuReducer.create", lambda points: None)
    if graphed:
        monkeypatch.setattr(DeviceReducer, "_graphable", lambda self, plan: plan.capturable)

        def capture(self, plan):
            self._reduce(plan)
            plan.graph = ReplaysThePlan(self, plan)
        monkeypatch.setattr(DeviceReducer, "_capture", capture)
    trainer = Trainer(design())
    measured = watch_by_hand(trainer)
    shots = [e.payload for e in trainer.events() if e.kind == "snapshot"]
    monkeypatch.undo()
    for shot, (means, grad_norms, ratios) in zip(shots, measured, strict=True):
        np.testing.assert_allclose(shot.stats[:, STAT_INDEX["act_mean"]], means,
                                   rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(shot.stats[:, STAT_INDEX["weight_grad_norm"]],
                                   grad_norms, rtol=1e-5)
        np.testing.assert_allclose(shot.stats[:, STAT_INDEX["update_ratio"]], ratios,
                                   rtol=1e-4)
    return shots, trainer.prober.device_reducer.replays


def watch_by_hand(trainer) -> list:
    """Each training step's activation mean per probe point (plain forward hooks),
    weight-gradient norm per point (an optimizer pre-step hook) and update ratio
    |W_after - W_before| / |W_before| (the weights copied around the step), as
    (means, norms, ratios)."""
    points, measured, means, before = trainer.prober.points, [], {}, []

    def on_forward(i, module, inputs, output):
        if torch.is_grad_enabled():  # a training step, not an evaluation
            means[i] = output.detach().double().mean().item()

    for i, point in enumerate(points):
        point.module.register_forward_hook(lambda m, a, o, i=i: on_forward(i, m, a, o))
    def pre_step(*_):
        before[:] = [p.weight.detach().double().clone() for p in points]
        measured.append(([means[i] for i in range(len(points))],
                         [p.weight.grad.double().norm().item() for p in points]))

    def post_step(*_):
        ratios = [((p.weight.detach().double() - w).norm() / w.norm()).item()
                  for p, w in zip(points, before)]
        measured[-1] += (ratios,)

    trainer.optimizer.register_step_pre_hook(pre_step)
    trainer.optimizer.register_step_post_hook(post_step)
    return measured


def test_a_replayed_reduction_reads_each_probes_own_tensors(monkeypatch):
    graphed, replays = snapshots(monkeypatch, True)
    eager, none = snapshots(monkeypatch, False)
    assert (replays, none) == (7, 0)  # probe 1 eager, probe 2 captured, 3..9 replayed
    assert [s.step for s in graphed] == [s.step for s in eager] == list(range(9))
    for g, e in zip(graphed, eager):
        np.testing.assert_array_equal(g.hist, e.hist)
        np.testing.assert_array_equal(g.stats, e.stats)
    # the numbers move from probe to probe: a replay of stale buffers would repeat them
    assert not np.array_equal(graphed[-1].stats, graphed[2].stats)


def test_a_weight_given_new_storage_is_read_where_it_now_lives(monkeypatch):
    """A kept plan holds views of the weights: a weight whose storage is replaced (as
    ``param.data = ...`` or moving a model does) must get a new plan, not old views."""
    from desklab.engine import Prober, build, make_dataset, task_loss
    monkeypatch.setattr("desklab.engine.probe.CpuReducer.create", lambda points: None)
    d = design()
    model, data = build(d, seed=1), make_dataset(d, seed=1)
    prober = Prober(model)
    x, y = data.x_train[:32], data.y_train[:32]

    def weight_std() -> np.ndarray:
        prober.active = True
        loss = task_loss(model(x), y, data.task)
        model.zero_grad()
        loss.backward()
        prober.active = False
        return prober.collect(0, loss, 0.1).stats[:, STAT_INDEX["weight_std"]]

    weight_std(), weight_std()  # the layout's plan is kept from here on
    first = model.probe_points[0].weight
    first.data = first.data * 3  # new storage, three times the spread
    np.testing.assert_allclose(weight_std()[0], first.detach().double().std(correction=0),
                               rtol=1e-5)
