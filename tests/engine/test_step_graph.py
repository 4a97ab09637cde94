"""Unprobed steps replayed from a graph (`train.cuda_graphs`), proven on the CPU.

A CUDA graph records a step once and replays it: the recording runs nothing, a replay
reads the tensors it was recorded with (so every batch must be copied into them) and
the numbers it was recorded with (a learning rate or weight decay held as a Python
number stays at its recorded value). The stand-in below does the same eagerly: the
recording leaves every weight, buffer and optimizer state as it found them, and a
replay re-runs the step on the recorded inputs with the optimizer's hyperparameters as
recorded, writing into the recorded outputs, and leaves no Python state behind (the
prober's stash). Runs with it must equal eager runs of the
same design, with schedules, probes, BatchNorm and a live L1 change. (On a GPU,
tests/engine/test_cuda.py holds real graphs to the eager path.)"""

import contextlib
import json

import numpy as np
import pytest
import torch

from desklab.cli.main import main
from desklab.design import InputSpec, LayerSpec, NetworkDesign
from desklab.engine.graphed_steps import GraphedSteps, off_reason
from desklab.engine.step_graph import StepGraph
from desklab.engine.trainer import Trainer


class RecordedStep:
    """A CUDA graph's behaviour, on the CPU: see the module docstring."""

    def __init__(self, graph: StepGraph, trainer: Trainer):
        self.graph, self.trainer = graph, trainer
        self.recorded: list = []  # each group's hyperparameters when recorded

    def _tensors(self) -> list[torch.Tensor]:
        state = [t for s in self.trainer.optimizer.state.values() for t in s.values()
                 if isinstance(t, torch.Tensor)]
        return [*self.trainer.model.state_dict().values(), *state]

    @contextlib.contextmanager
    def capture(self):
        tensors = self._tensors()
        kept = [t.detach().clone() for t in tensors]
        rng = torch.get_rng_state()  # (dropout's masks: a recording draws none)
        self.recorded = [{k: v for k, v in g.items() if k != "params"}
                         for g in self.trainer.optimizer.param_groups]
        try:
            yield
        finally:
            with torch.no_grad():  # a recording runs nothing, failed or not
                for t, k in zip(tensors, kept, strict=True):
                    t.copy_(k)
            torch.set_rng_state(rng)

    def replay(self) -> None:
        groups = self.trainer.optimizer.param_groups
        now = [{k: v for k, v in g.items() if k != "params"} for g in groups]
        for g, r in zip(groups, self.recorded):
            g.update(r)  # the numbers baked in; a tensor is the same tensor, read anew
        try:
            x, y, outputs = self.graph._static
            for kept, new in zip(outputs, self.graph.update(x, y), strict=True):
                if kept is not None:
                    kept.copy_(new)
        finally:
            for g, n in zip(groups, now):
                g.update(n)
            # a replay runs no Python: what the step's hooks kept in Python (the prober's
            # stash) is not there after a real one
            self.trainer.prober.clear_stash()


def as_if_on_a_gpu(monkeypatch) -> None:
    """The CPU taken for a GPU: only the design can keep a run from its graphs, and
    probes are reduced by tensor operations, as on a GPU (not the fused C kernel)."""
    real = off_reason
    monkeypatch.setattr("desklab.engine.graphed_steps.off_reason",
                        lambda cfg, device: real(cfg, torch.device("cuda")))
    monkeypatch.setattr("desklab.engine.probe.CpuReducer.create", lambda points: None)


def design(optimizer="adam", schedule="constant", norm="none", dropout=0.0) -> NetworkDesign:
    layers = [LayerSpec.make("dense", units=16, activation="tanh", norm=norm),
              LayerSpec.make("dense", units=16, activation="relu", dropout=dropout),
              LayerSpec.make("dense", units=8, activation="sigmoid")]
    d = NetworkDesign(input=InputSpec("moons", {"samples": 400}), layers=layers)
    t = d.train
    t.steps, t.probe_every, t.eval_every, t.batch_size = 40, 7, 20, 32
    t.optimizer, t.schedule, t.lr, t.device = optimizer, schedule, 0.05, "cpu"
    return d


def run(d: NetworkDesign, monkeypatch, graphed: bool, change_l1_at: int | None = None,
        stand_in: bool = True):
    """(trainer, every step's loss, snapshots' stats, evaluations' val losses)."""
    d = d.copy()
    d.train.cuda_graphs = graphed
    if stand_in:
        as_if_on_a_gpu(monkeypatch)
    trainer = Trainer(d)
    if graphed and trainer.graph.plain.off is None:
        monkeypatch.setattr(StepGraph, "new_graph", lambda g: RecordedStep(g, trainer))
    losses, stats, val = [], [], []
    for event in trainer.events():
        if event.kind == "steps":
            losses += list(event.payload.loss)
        elif event.kind == "snapshot":
            stats.append(event.payload.stats)
        elif event.kind == "metrics":
            val.append(event.payload.val_loss)
        if change_l1_at is not None and event.kind == "snapshot" and \
                event.step >= change_l1_at:  # (progress events come by the clock)
            trainer.set_l1(1e-3)
            change_l1_at = None
    monkeypatch.undo()
    return trainer, np.array(losses), stats, val


@pytest.mark.parametrize("optimizer,schedule,norm", [
    ("adam", "constant", "none"),
    ("sgd", "cosine", "batchnorm"),  # lr changes every step; BatchNorm's running stats
    ("adamw", "step", "layernorm"),
    ("rmsprop", "cosine", "none"),
])
def test_replayed_steps_equal_eager_steps(monkeypatch, optimizer, schedule, norm):
    d = design(optimizer, schedule, norm)
    d.train.l2 = 1e-3 if optimizer == "adamw" else 0.0
    graphed, g_loss, g_stats, g_val = run(d, monkeypatch, True)
    eager, e_loss, e_stats, e_val = run(d, monkeypatch, False)
    # probed: 0, 7, 14, 21, 28, 35 and the last (39); three warm-ups of each kind
    assert graphed.graph.as_dict() == {"replayed_steps": 40 - 3 - 3, "replayed_probes": 7 - 3,
                                       "recordings": 2, "off": None, "probes_off": None}
    assert len(g_loss) == len(e_loss) == 40
    np.testing.assert_allclose(g_loss, e_loss, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(g_val, e_val, rtol=1e-5)
    for g, e in zip(g_stats, e_stats, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-6)
    for g, e in zip(graphed.model.state_dict().values(), eager.model.state_dict().values()):
        torch.testing.assert_close(g, e, rtol=1e-5, atol=1e-6)
    assert not any(f.kind == "cuda_graphs" for f in graphed.findings)


def test_a_float_learning_rate_would_stay_as_recorded(monkeypatch):
    """The stand-in keeps what a graph keeps: with the learning rate held as a number
    (as an eager run holds it) the cosine schedule would not reach the replays."""
    monkeypatch.setattr("desklab.engine.trainer.step_graph_for",
                        lambda cfg, device, prober, update:
                        (GraphedSteps(update, prober, None), {}))
    d = design("sgd", "cosine")
    _, g_loss, *_ = run(d, monkeypatch, True)
    _, e_loss, *_ = run(d, monkeypatch, False)
    assert not np.allclose(g_loss, e_loss, rtol=1e-5, atol=1e-7)


def test_a_new_l1_records_a_new_graph(monkeypatch):
    d = design("sgd")
    graphed, g_loss, *_ = run(d, monkeypatch, True, change_l1_at=17)
    eager, e_loss, *_ = run(d, monkeypatch, False, change_l1_at=17)
    assert graphed.graph.plain.captures == 2
    np.testing.assert_allclose(g_loss, e_loss, rtol=1e-5, atol=1e-7)
    assert not np.allclose(e_loss, run(d, monkeypatch, False)[1])  # it acted


def test_dropout_draws_the_same_masks_replayed_as_eager(monkeypatch):
    """The run's random stream is swapped in around the replay (a recording cannot set a
    generator's state): replayed steps draw the masks the eager steps draw (drawn from
    the global generator instead, they differ: checked by taking the swap away)."""
    d = design(dropout=0.3)
    assert off_reason(d.train, torch.device("cuda")) is None  # (reads the type)
    graphed, g_loss, g_stats, _ = run(d, monkeypatch, True)
    eager, e_loss, e_stats, _ = run(d, monkeypatch, False)
    assert graphed.graph.as_dict()["replayed_steps"] == 40 - 3 - 3
    np.testing.assert_allclose(g_loss, e_loss, rtol=1e-5, atol=1e-7)
    for g, e in zip(g_stats, e_stats, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-6)


def test_on_the_cpu_a_run_trains_eagerly_and_says_why_once(monkeypatch):
    graphed, g_loss, *_ = run(design(), monkeypatch, True, stand_in=False)
    eager, e_loss, *_ = run(design(), monkeypatch, False)
    said = [f for f in graphed.findings if f.kind == "cuda_graphs"]
    assert len(said) == 1 and said[0].severity == "info" and said[0].step == 0
    assert "need a CUDA GPU; this run trains on the CPU" in said[0].message
    assert graphed.graph.replays == 0
    assert graphed.graph.as_dict()["probes_off"] == graphed.graph.as_dict()["off"]
    np.testing.assert_array_equal(g_loss, e_loss)  # the same run, eagerly


def test_cli_reports_what_the_graphs_did(tmp_path, capsys):
    report = tmp_path / "r.json"
    assert main(["train", "--preset", "bench-mlp", "--steps", "12", "--device", "cpu",
                 "--cuda-graphs", "--quiet", "--no-record", "--json", str(report)]) == 0
    got = json.loads(report.read_text())["cuda_graphs"]
    assert got["replayed_steps"] == 0 and "CUDA GPU" in got["off"]
    assert "[cuda_graphs, " in capsys.readouterr().out


class CannotRecord(RecordedStep):
    """A design with an operation a graph cannot hold: the recording fails."""

    @contextlib.contextmanager
    def capture(self):
        with super().capture():
            yield
            raise RuntimeError("operation not permitted when stream is capturing\nmore")


def test_a_step_that_cannot_be_recorded_trains_eagerly_and_says_why(monkeypatch):
    d = design("adam", "cosine")
    d.train.cuda_graphs = True
    as_if_on_a_gpu(monkeypatch)
    trainer = Trainer(d)
    monkeypatch.setattr(StepGraph, "new_graph", lambda g: CannotRecord(g, trainer))
    events = list(trainer.events())
    losses = np.concatenate([e.payload.loss for e in events if e.kind == "steps"])
    stats = [e.payload.stats for e in events if e.kind == "snapshot"]
    monkeypatch.undo()
    _, eager, e_stats, _ = run(design("adam", "cosine"), monkeypatch, False)
    said = [f for f in trainer.findings if f.kind == "cuda_graphs"]
    assert len(said) == 1 and said[0].step == 4  # steps 1-3 warmed up, 4 failed to record
    assert "cannot be recorded (operation not permitted when stream is capturing)" in \
        said[0].message
    assert trainer.graph.as_dict()["replayed_steps"] == 0 and trainer.state == "finished"
    np.testing.assert_allclose(losses, eager, rtol=1e-5, atol=1e-7)  # nothing lost
    # the probed step's failed recording (at step 21) left nothing in the prober's way
    for g, e in zip(stats, e_stats, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-6)


def conv_or_lstm(which: str, length: int, samples: int) -> NetworkDesign:
    """docs/examples/digits-resnet.json in channels-last layout (its dropout off: dropout
    has a test of its own) when ``which`` starts with "residual"; else the lstm-adding
    lesson at sequence ``length``, ``samples`` examples."""
    from pathlib import Path

    from desklab.design import load_design
    from desklab.lessons import get_preset
    if which.startswith("residual"):
        d = load_design(Path(__file__).parents[2] / "docs/examples/digits-resnet.json")
        d.train.channels_last = True
        for layer in d.layers:
            for inner in [layer, *(layer.layers or ())]:
                inner.dropout = 0.0
        return d
    d = get_preset("lstm-adding")
    d.input.params.update(length=length, samples=samples)
    return d


@pytest.mark.parametrize("which", ["residual conv net, NHWC", "LSTM"])
def test_replayed_conv_and_recurrent_steps_equal_eager_steps(monkeypatch, which):
    """A residual CNN with BatchNorm in channels-last layout, and an LSTM (its probed
    steps unroll time, its other steps run the fused kernel)."""
    d = conv_or_lstm(which, length=12, samples=300)
    t = d.train
    t.steps, t.probe_every, t.eval_every, t.batch_size, t.device = 24, 7, 12, 32, "cpu"
    graphed, g_loss, g_stats, g_val = run(d, monkeypatch, True)
    eager, e_loss, e_stats, e_val = run(d, monkeypatch, False)
    # probed: 0, 7, 14, 21, 23: three warm-ups, two replays
    assert graphed.graph.as_dict() == {"replayed_steps": 24 - 3 - 3, "replayed_probes": 2,
                                       "recordings": 2, "off": None, "probes_off": None}
    np.testing.assert_allclose(g_loss, e_loss, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(g_val, e_val, rtol=1e-5)
    for g, e in zip(g_stats, e_stats, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-6)


def test_settings_that_keep_changing_end_in_eager_steps_said_once(monkeypatch):
    """An L1 that changes every 5th step needs a recording each time: after eight the
    run trains eagerly, says why once, and its numbers are the eager run's."""
    d = design("sgd")
    d.train.steps, d.train.probe_every = 60, 0

    def losses(graphed: bool):
        d.train.cuda_graphs = graphed
        as_if_on_a_gpu(monkeypatch)
        trainer = Trainer(d)
        monkeypatch.setattr(StepGraph, "new_graph", lambda g: RecordedStep(g, trainer))
        trainer.before_step = lambda step: trainer.set_l1(1e-4 * (step // 5 + 1))
        out = np.concatenate([e.payload.loss for e in trainer.events() if e.kind == "steps"])
        monkeypatch.undo()
        return trainer, out

    graphed, g_loss = losses(True)
    _, e_loss = losses(False)
    assert graphed.graph.plain.captures == 8
    said = [f for f in graphed.findings if f.kind == "cuda_graphs"]
    assert len(said) == 1 and "the settings changed 8 times" in said[0].message
    assert graphed.state == "finished"
    np.testing.assert_allclose(g_loss, e_loss, rtol=1e-5, atol=1e-7)
