"""On a GPU: the training loop never waits for the device between probes, a run
learns, and the GPU's reductions equal the CPU's. Skipped where there is no CUDA
device (CI); run on a machine with one."""

import math

import numpy as np
import pytest
import torch

from desklab.design import InputSpec, LayerSpec, NetworkDesign
from desklab.engine import reduce_activation
from desklab.engine.device import no_host_sync
from desklab.engine.trainer import Trainer
from desklab.lessons import get_preset
from desklab.metrics import N_BINS
from test_step_graph import conv_or_lstm

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")


def test_unprobed_steps_never_wait_for_the_device():
    design = get_preset("bench-mlp")
    design.train.steps, design.train.probe_every, design.train.eval_every = 120, 10, 40
    trainer = Trainer(design, device="cuda")
    trainer.step_guard = no_host_sync  # wraps each step's device work, not the probes
    result = trainer.run()
    assert (result.state, result.steps) == ("finished", 120)


def test_a_run_on_the_gpu_learns_and_reports_every_step():
    design = get_preset("bench-mlp")
    design.train.steps, design.train.probe_every, design.train.eval_every = 300, 25, 100
    trainer = Trainer(design, device="cuda")
    losses, accuracies, snapshots = [], [], []
    for event in trainer.events():
        if event.kind == "steps":
            losses.extend(event.payload.loss.tolist())
        elif event.kind == "metrics":
            accuracies.append(event.payload.val_acc)
        elif event.kind == "snapshot":
            snapshots.append(event.payload)
    assert len(losses) == 300 and all(math.isfinite(v) for v in losses)
    assert np.mean(losses[-50:]) < 0.5 * np.mean(losses[:10])
    assert accuracies[-1] > 0.9
    assert [s.step for s in snapshots] == [*range(0, 300, 25), 299]
    assert np.isfinite(snapshots[-1].stats).all()


@pytest.mark.parametrize("lo, hi, bounds", [(-4.0, 4.0, None), (0.0, 1.0, (0.0, 1.0)),
                                            (-1.0, 1.0, (-1.0, 1.0))])
def test_gpu_reductions_equal_the_cpu(lo, hi, bounds):
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(512, 64, generator=gen) * 3
    if bounds is not None:
        a = a.clamp(*bounds)  # many values exactly at the bounds
    a[:, 5] = 0  # a dead unit
    a[0, :4] = torch.tensor([math.nan, math.inf, -math.inf, hi])
    cpu_stats, cpu_hist = reduce_activation(a, lo, hi, bounds)
    gpu_stats, gpu_hist = reduce_activation(a.cuda(), lo, hi, bounds)
    assert torch.equal(gpu_hist.cpu(), cpu_hist)  # counts: exactly
    assert cpu_hist.sum().item() == a.numel() and cpu_hist.shape == (N_BINS + 2,)
    finite = torch.isfinite(cpu_stats)
    assert torch.equal(finite, torch.isfinite(gpu_stats.cpu()))
    np.testing.assert_allclose(gpu_stats.cpu()[finite].numpy(), cpu_stats[finite].numpy(),
                               rtol=1e-5, atol=1e-6)


def test_a_gpu_run_keeps_its_dropout_stream_while_a_preview_reseeds():
    """`torch.manual_seed` reseeds every CUDA device: a preview's seeding used to reset a
    GPU run's dropout stream (seen on an H200: the same seed gave another loss)."""
    from desklab.engine import probe_at_init
    design = NetworkDesign(input=InputSpec("moons", {"samples": 400}), layers=[
        LayerSpec.make("dense", units=64, dropout=0.3),
        LayerSpec.make("dense", units=64, dropout=0.3)])  # matmuls: deterministic on a GPU
    design.train.steps, design.train.probe_every, design.train.eval_every = 30, 5, 30

    def losses(events):
        return [v for e in events if e.kind == "steps" for v in e.payload.loss.tolist()]

    solo = losses(list(Trainer(design, device="cuda").events()))
    mixed = []
    for event in Trainer(design, device="cuda").events():
        mixed.append(event)
        probe_at_init(design, seed=99, device="cuda", max_batch=16)
        probe_at_init(design, seed=98, device="cpu", max_batch=16)
    assert len(solo) == 30 and losses(mixed) == solo


def test_probes_replayed_from_a_cuda_graph_equal_eager_ones():
    """From the third probe on, the probe's reductions replay a CUDA graph
    (`engine/probe_graph`): probe after probe, as the weights move, its numbers equal
    those of the same run reduced operation by operation (which the independent test
    holds to numpy). Several groups: widths, bounded and unbounded activations."""
    layers = [LayerSpec.make("dense", units=64, activation="tanh", init="gaussian"),
              LayerSpec.make("dense", units=64, activation="relu"),
              LayerSpec.make("dense", units=64, activation="sigmoid"),
              LayerSpec.make("dense", units=32, activation="relu"),
              LayerSpec.make("dense", units=7, activation="leaky_relu")]
    design = NetworkDesign(input=InputSpec("moons", {"samples": 600}), layers=layers)
    design.train.steps, design.train.probe_every, design.train.eval_every = 12, 1, 6
    runs = {}
    for graphs in (True, False):
        trainer = Trainer(design, device="cuda")
        trainer.prober.device_reducer.graphs = graphs
        runs[graphs] = [e.payload for e in trainer.events() if e.kind == "snapshot"]
        assert trainer.prober.device_reducer.replays == (10 if graphs else 0)
    assert [s.step for s in runs[True]] == [s.step for s in runs[False]] == list(range(12))
    for graphed, eager in zip(runs[True], runs[False]):
        np.testing.assert_array_equal(graphed.hist, eager.hist)
        np.testing.assert_allclose(graphed.stats, eager.stats, rtol=1e-5, atol=1e-7)
        assert np.isfinite(graphed.stats).all()


def with_and_without_graphs(design) -> dict:
    """``design`` trained on the GPU with ``cuda_graphs`` on and off, every step's device
    work under the sync check: {on: (trainer, its events)}."""
    runs = {}
    for on in (True, False):
        design.train.cuda_graphs = on
        trainer = Trainer(design, device="cuda")
        trainer.step_guard = no_host_sync
        runs[on] = trainer, list(trainer.events())
    return runs


def losses(events) -> np.ndarray:
    """Every step's loss in a run's events."""
    return np.concatenate([e.payload.loss for e in events if e.kind == "steps"])


@pytest.mark.parametrize("optimizer,schedule,norm", [
    ("adam", "constant", "none"), ("sgd", "cosine", "batchnorm"),
    ("adamw", "step", "layernorm"), ("rmsprop", "cosine", "none")])
def test_steps_replayed_from_a_cuda_graph_equal_eager_steps(optimizer, schedule, norm):
    """`train.cuda_graphs`: unprobed steps replay one recorded step, probed steps another
    (with the probe's reductions). Every step's loss, every probe, every evaluation and
    the final weights equal the eager run's; the learning rate of a schedule reaches the
    replays; no host sync inside a step."""
    layers = [LayerSpec.make("dense", units=64, activation="tanh", norm=norm),
              LayerSpec.make("dense", units=64, activation="relu"),
              LayerSpec.make("dense", units=16, activation="sigmoid")]
    design = NetworkDesign(input=InputSpec("moons", {"samples": 2000}), layers=layers)
    t = design.train
    t.steps, t.probe_every, t.eval_every, t.batch_size = 60, 7, 20, 64
    t.optimizer, t.schedule, t.lr, t.l2 = optimizer, schedule, 0.02, 1e-3
    runs = {on: (trainer, losses(events),
                 [e.payload.stats for e in events if e.kind == "snapshot"],
                 [e.payload.val_loss for e in events if e.kind == "metrics"])
            for on, (trainer, events) in with_and_without_graphs(design).items()}
    graphed, eager = runs[True], runs[False]
    # probed: 0, 7, ..., 56 and 59 (10 steps); 3 warm-ups of each kind, then replays
    assert graphed[0].graph.as_dict() == {"replayed_steps": 47 + 7, "replayed_probes": 7,
                                          "recordings": 2, "off": None, "probes_off": None}
    assert graphed[0].state == eager[0].state == "finished"
    np.testing.assert_allclose(graphed[1], eager[1], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(graphed[3], eager[3], rtol=1e-4)
    for g, e in zip(graphed[2], eager[2], strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-3, atol=1e-5)
    for g, e in zip(graphed[0].model.state_dict().values(),
                    eager[0].model.state_dict().values()):
        torch.testing.assert_close(g, e, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("which", ["residual conv net, NHWC, bf16", "LSTM"])
def test_conv_and_recurrent_steps_replayed_from_a_cuda_graph_equal_eager_ones(which):
    """cuDNN's convolutions (channels-last, BatchNorm, bf16 autocast) and its fused LSTM
    recorded into the step graph: the replays' losses follow the eager run's."""
    design = conv_or_lstm(which, length=20, samples=600)
    if which.endswith("bf16"):
        design.train.precision = "bf16"
    t = design.train
    t.steps, t.probe_every, t.eval_every, t.batch_size = 40, 9, 20, 64
    runs = with_and_without_graphs(design)
    assert [trainer.state for trainer, _ in runs.values()] == ["finished", "finished"]
    graphs = runs[True][0].graph.as_dict()
    assert graphs == {"replayed_steps": 31 + 3, "replayed_probes": 3, "recordings": 2,
                      "off": None, "probes_off": None}
    tolerance = 3e-2 if which.endswith("bf16") else 1e-4  # bf16 rounds the activations
    np.testing.assert_allclose(losses(runs[True][1]), losses(runs[False][1]),
                               rtol=tolerance, atol=1e-5)


def test_dropout_replayed_from_a_cuda_graph_draws_the_eager_masks():
    """The run's own CUDA random stream is swapped in around each replay (not inside
    the recording, where a generator's state cannot be set); a replay advances it by
    what the recorded dropout kernels draw, so the masks are the eager run's: every
    step's loss equal."""
    design = NetworkDesign(input=InputSpec("moons", {"samples": 1000}), layers=[
        LayerSpec.make("dense", units=64, dropout=0.3),
        LayerSpec.make("dense", units=64, dropout=0.3)])
    t = design.train
    t.steps, t.probe_every, t.eval_every, t.batch_size = 40, 9, 20, 64
    runs = with_and_without_graphs(design)
    assert runs[True][0].graph.as_dict()["replayed_steps"] == 31 + 3
    np.testing.assert_allclose(losses(runs[True][1]), losses(runs[False][1]),
                               rtol=1e-4, atol=1e-6)
