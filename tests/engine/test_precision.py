"""bf16 autocast and channels_last: optional speed settings that change no statistic's
meaning. With bf16 the network computes in bfloat16 and the probe measures those exact
values in float32; channels_last changes the memory layout, not the numbers."""

import numpy as np
import pytest
import torch

from desklab.engine.trainer import Trainer
from desklab.lessons import get_preset
from desklab.metrics import STAT_INDEX


def first_snapshot_and_activations(precision: str, channels_last: bool):
    design = get_preset("cnn-digits")
    design.train.steps, design.train.probe_every, design.train.eval_every = 6, 5, 6
    design.train.precision, design.train.channels_last = precision, channels_last
    trainer = Trainer(design)
    captured = {}

    def keep_first(name):
        def hook(module, inputs, output):  # returns None: the output is left alone
            if name not in captured:
                captured[name] = output.detach().clone()
        return hook

    for point in trainer.model.probe_points:  # plain hooks of the test's own
        point.module.register_forward_hook(keep_first(point.name))
    events = list(trainer.events())
    snapshots = [e.payload for e in events if e.kind == "snapshot"]
    assert trainer.state == "finished" and snapshots[0].step == 0
    return trainer, snapshots[0], captured, events


def test_bf16_statistics_are_the_bf16_activations_measured_in_float32():
    trainer, snap, captured, _ = first_snapshot_and_activations("bf16", False)
    conv = captured["conv1"]
    assert conv.dtype == torch.bfloat16  # the network really ran in bf16
    for i, name in enumerate(snap.layout.names):
        a = captured[name].double().numpy()
        got = snap.stats[i]
        assert got[STAT_INDEX["act_std"]] == pytest.approx(a.std(), rel=1e-5), name
        assert got[STAT_INDEX["act_mean"]] == pytest.approx(a.mean(), rel=1e-4, abs=1e-6)
    assert all(p.dtype == torch.float32 for p in trainer.model.parameters())


def test_channels_last_gives_the_same_run():
    plain, snap_plain, _, events_plain = first_snapshot_and_activations("fp32", False)
    nhwc, snap_nhwc, _, events_nhwc = first_snapshot_and_activations("fp32", True)
    weight = nhwc.model.blocks["conv1"].op.weight
    assert weight.is_contiguous(memory_format=torch.channels_last)
    np.testing.assert_allclose(snap_nhwc.stats, snap_plain.stats, rtol=1e-4, atol=1e-6)
    losses = [[e.payload.val_loss for e in ev if e.kind == "metrics"]
              for ev in (events_plain, events_nhwc)]
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-4)
