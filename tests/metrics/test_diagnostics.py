"""Each diagnostic fires on a synthetic history built for it and stays quiet on a
healthy one; thresholds are the named constants."""

import numpy as np
import pytest

from desklab.metrics import (
    N_BINS, N_STATS, STAT_INDEX, LayerMeta, Metrics, ProbeLayout, RunHistory, Snapshot, diagnose,
)
from desklab.metrics import diagnostics as dx

HEALTHY = dict(act_mean=0.3, act_std=0.6, frac_zero=0.4, frac_dead=0.05, frac_saturated=0.0,
               unit_spread=0.5, grad_norm=0.05, grad_mean_abs=1e-3, weight_std=0.08,
               weight_grad_norm=0.1, update_ratio=1e-3)


def snapshot(step=0, activation="relu", depth=5, **per_layer):
    """A snapshot of `depth` dense layers + head; per_layer maps a stat to a value or list."""
    metas = [LayerMeta(f"fc{i + 1}", "dense", activation, (32,), 100, (0.0, 4.0), True)
             for i in range(depth)]
    metas.append(LayerMeta("head", "output", "identity", (2,), 66, (-4.0, 4.0), True))
    stats = np.zeros((depth + 1, N_STATS))
    for name, value in {**HEALTHY, **per_layer}.items():
        col = np.broadcast_to(np.asarray(value, float), (depth,))
        stats[:depth, STAT_INDEX[name]] = col
        stats[depth, STAT_INDEX[name]] = HEALTHY[name]
    return Snapshot(step, ProbeLayout(tuple(metas)), stats, np.zeros((depth + 1, N_BINS + 2)))


def kinds(history_or_snap):
    if isinstance(history_or_snap, Snapshot):
        history = RunHistory()
        history.add_snapshot(history_or_snap)
    else:
        history = history_or_snap
    return {f.kind for f in diagnose(history)}


def test_healthy_is_quiet():
    assert kinds(snapshot()) == set()


def test_vanishing():
    grads = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4]
    assert kinds(snapshot(activation="sigmoid", grad_mean_abs=grads)) == {"vanishing"}
    finding = diagnose(_history(snapshot(activation="sigmoid", grad_mean_abs=grads)))[0]
    assert finding.layer == "fc1" and "1/4" in finding.message
    barely = [dx.VANISHING_RATIO * 2e-4, 1e-4, 1e-4, 1e-4, 2e-4]
    assert "vanishing" not in kinds(snapshot(grad_mean_abs=barely))


def test_vanishing_with_collapsed_activations_gives_the_init_advice_the_collapse_gives():
    """init-tanh-0.01: the same 0.01 weights shrink the signal forward (collapsed) and
    the gradient backward (vanishing). The vanishing finding said "use ReLU-family
    activations with He init" beside the collapsed finding's "use Xavier (tanh)": now
    both give the init fix, and the vanishing one says why."""
    grads = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4]
    found = diagnose(_history(snapshot(activation="tanh", grad_mean_abs=grads,
                                       act_std=[0.2, 0.05, 1e-3, 2e-4, 5e-5])))
    by_kind = {f.kind: f for f in found}
    assert set(by_kind) == {"vanishing", "collapsed"}
    assert by_kind["vanishing"].advice.startswith(by_kind["collapsed"].advice)
    assert "ReLU-family" not in by_kind["vanishing"].advice
    assert "the activations collapse from fc3 on" in by_kind["vanishing"].message
    plain = diagnose(_history(snapshot(activation="sigmoid", grad_mean_abs=grads)))[0]
    assert plain.advice.startswith("Use ReLU-family activations")  # no collapse: as before


def test_a_module_path_that_reads_as_a_number_is_said_as_a_layer():
    """desklab.watch names an nn.Sequential's modules "0", "3.1"...: "the gradient
    reaching 0.0 ... of the one at 150" read as numbers; the finding's id stays the name."""
    from dataclasses import replace
    snap = snapshot(activation="sigmoid", grad_mean_abs=[1e-8, 1e-7, 1e-6, 1e-5, 1e-4])
    metas = [replace(m, name=n) for m, n in zip(snap.layout.layers,
                                                ["0.0", "1.0", "2.0", "3.0", "150", "head"])]
    snap = replace(snap, layout=ProbeLayout(tuple(metas)))
    finding = diagnose(_history(snap))[0]
    assert finding.layer == "0.0"
    assert "reaching layer 0.0 (" in finding.message and "at layer 150." in finding.message
    assert "reaching fc1 (" in diagnose(_history(snapshot(
        activation="sigmoid", grad_mean_abs=[1e-8, 1e-7, 1e-6, 1e-5, 1e-4])))[0].message


def test_exploding_through_depth_and_over_time():
    assert "exploding" in kinds(snapshot(grad_mean_abs=[1e2, 1e1, 1, 1e-1, 1e-2]))
    history = RunHistory()
    for step, scale in enumerate([1, 1, 1, 1, 10, 1000]):
        history.add_snapshot(snapshot(step * 10, weight_grad_norm=0.1 * scale))
    assert "exploding" in kinds(history)
    calm = RunHistory()
    for step in range(6):
        calm.add_snapshot(snapshot(step * 10))
    assert "exploding" not in kinds(calm)
    spike = RunHistory()  # one batch's gradient spikes 128x, the next is normal again
    for step, scale in enumerate([1, 1, 1, 1, 1, 128]):
        spike.add_snapshot(snapshot(step * 10, weight_grad_norm=0.1 * scale))
    assert "exploding" not in kinds(spike)


def test_saturated_only_for_sigmoid_and_tanh():
    assert kinds(snapshot(activation="tanh", frac_saturated=0.9)) == {"saturated"}
    assert kinds(snapshot(activation="tanh", frac_saturated=dx.SATURATED_FRAC - 0.01)) == set()


def test_dead_relu():
    assert kinds(snapshot(frac_dead=[0.0, 0.7, 0.8, 0.1, 0.1])) == {"dead_relu"}
    assert kinds(snapshot(activation="tanh", frac_dead=0.9)) == set()


def test_collapsed():
    std = [0.2, 0.05, 0.01 * dx.COLLAPSED_STD, 1e-5, 1e-6]
    found = diagnose(_history(snapshot(act_std=std)))
    assert [f.kind for f in found] == ["collapsed"] and found[0].layer == "fc3"


def test_symmetric():
    assert "symmetric" in kinds(snapshot(weight_std=0.0))
    assert "symmetric" in kinds(snapshot(unit_spread=0.0, act_mean=0.5))


def test_update_ratio_both_ways():
    assert kinds(snapshot(update_ratio=0.5)) == {"update_ratio"}
    assert kinds(snapshot(update_ratio=1e-7)) == {"update_ratio"}
    assert kinds(snapshot(update_ratio=np.nan)) == set()  # at init: not measured


def _crawl(ratio, losses):
    """The update_ratio findings of a history whose steps had ``losses`` (one a step)
    and whose latest probe measured ``ratio`` in every layer."""
    from desklab.metrics.records import StepSeries
    history = RunHistory()
    losses = np.asarray(losses, float)
    history.add_steps(StepSeries(0, losses, np.full(len(losses), np.nan),
                                 np.full(len(losses), 1e-4)))
    history.add_snapshot(snapshot(len(losses) - 1, update_ratio=ratio))
    return [f for f in diagnose(history) if f.kind == "update_ratio"]


def test_small_updates_read_with_the_loss():
    """lr-too-low's updates are 2e-5 to 5e-5 of the weights (above UPDATE_RATIO_LOW, so
    the finding ended at step 10) while its loss only halves in 300 steps; deep-relu
    late in training steps as small (4e-5 to 1e-4) with its loss down to 3% of its
    start; a net that memorised its labels steps at 2e-6 with its loss at 0.1%. The
    loss's share left, worked out here from the curve's two ends, tells them apart."""
    crawl = np.r_[np.full(10, 0.80), np.linspace(0.8, 0.41, 280), np.full(10, 0.41)]
    (finding,) = _crawl(3e-5, crawl)  # 0.41 / 0.80 = 51% left
    assert "still 51% of where it started" in finding.message
    assert finding.advice.startswith("Raise the learning rate")
    learned = np.r_[np.full(10, 1.1), np.linspace(1.1, 0.033, 280), np.full(10, 0.033)]
    assert _crawl(5e-5, learned) == []  # 3% left: small steps near the end are healthy
    assert _crawl(5e-5, np.r_[np.full(10, 1.0), np.full(10, 0.39)]) == []  # 39% left
    assert len(_crawl(5e-5, np.r_[np.full(10, 1.0), np.full(10, 0.41)])) == 1
    memorised = np.r_[np.full(10, 2.4), np.full(290, 0.002)]
    assert _crawl(2e-6, memorised) == []  # converged, not crawling
    assert len(_crawl(2e-6, np.r_[np.full(10, 2.4), np.full(10, 0.2)])) == 1  # 8% left
    assert _crawl(2e-4, crawl) == []  # a healthy step whatever the loss
    assert len(_crawl(0.5, learned)) == 1  # too large, whatever the loss
    assert len(_crawl(1e-7, [0.8, 0.8, 0.8])) == 1  # too few steps to read: the ratio


def test_small_updates_where_the_gradients_vanish_name_the_cause_not_the_rate():
    """deep-sigmoid's steps are small because its gradients vanish (fc1 1e-9, the head
    4e-3 at step 1000): "raise the learning rate" would push the head past a healthy
    step and leave fc1 where it is. The finding says what starves the steps instead."""
    grads = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4]  # the vanishing test's
    found = diagnose(_history(snapshot(activation="sigmoid", grad_mean_abs=grads,
                                       update_ratio=[1e-9, 1e-8, 1e-7, 1e-6, 5e-5])))
    (small,) = [f for f in found if f.kind == "update_ratio"]
    assert "vanishing" in {f.kind for f in found}
    assert "the gradients vanish before they reach the first layers" in small.message
    assert "Raise the learning rate" not in small.advice and "Fix that first" in small.advice
    both = diagnose(_history(snapshot(act_std=[0.5, 0.1, 1e-3, 1e-4, 1e-5],
                                      update_ratio=1e-7, grad_mean_abs=grads)))
    (small,) = [f for f in both if f.kind == "update_ratio"]
    assert "vanish" in small.message and "collapsed" in small.message
    (plain,) = [f for f in diagnose(_history(snapshot(update_ratio=1e-7)))
                if f.kind == "update_ratio"]
    assert plain.advice.startswith("Raise the learning rate")  # nothing starves it


def _history(*snaps, metrics=()):
    history = RunHistory()
    for s in snaps:
        history.add_snapshot(s)
    for m in metrics:
        history.add_metrics(m)
    return history


def _metrics(losses, val_losses, train_acc=0.9, val_acc=0.88):
    return [Metrics(i * 50, l, v, train_acc, val_acc, np.nan, np.nan, 1e-3)
            for i, (l, v) in enumerate(zip(losses, val_losses))]


def test_overfitting_rising_val_loss_and_accuracy_gap():
    rising = _metrics([1.0, 0.6, 0.4, 0.3, 0.2, 0.1, 0.05], [1.0, 0.6, 0.5, 0.6, 0.7, 0.8, 0.9])
    assert kinds(_history(metrics=rising)) == {"overfitting"}
    gap = _metrics([0.5] * 6, [0.6] * 6, train_acc=1.0, val_acc=0.7)
    assert kinds(_history(metrics=gap)) == {"overfitting"}
    noisy = _metrics([0.3, 0.2, 0.1, 0.05, 0.04, 0.03, 0.03],
                     [0.3, 0.2, 0.02, 0.025, 0.022, 0.024, 0.026])
    assert kinds(_history(metrics=noisy)) == set()


def test_rules_stay_quiet_on_a_real_healthy_run():
    from desklab.engine.trainer import Trainer
    from desklab.lessons import get_preset
    design = get_preset("bench-mlp")
    design.train.steps = 300
    history = RunHistory()
    for event in Trainer(design).events():
        if event.kind == "snapshot":
            history.add_snapshot(event.payload)
        elif event.kind == "metrics":
            history.add_metrics(event.payload)
        history.update_diagnosis()
        assert history.findings == [], history.findings


def test_memory_stays_bounded_over_100k_steps():
    """Measured by Python's allocator (tracemalloc), not by the history's own count."""
    import tracemalloc
    history = RunHistory(capacity=512, keep_snapshots=100)
    snap = snapshot()
    held = []
    tracemalloc.start()
    try:
        for step in range(0, 100_000, 10):
            stats, hist = snap.stats.copy(), snap.hist.copy()  # fresh arrays, as a run sends
            history.add_snapshot(Snapshot(step, snap.layout, stats, hist))
            history.add_metrics(Metrics(step, 1.0, 1.0, 0.5, 0.5, np.nan, np.nan, 1e-3))
            if step % 10_000 == 0:
                held.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    per_snapshot = snap.stats.nbytes + snap.hist.nbytes
    # 9 x 1000 more snapshots after the first 10k steps: flat means far less than that
    assert held[-1] - held[1] < 50 * per_snapshot, held
    steps, values = history.stat_series("act_std")
    assert steps[0] == 0 and steps[-1] >= 99_000  # still spans the whole run
    assert len(steps) <= 512 and values.shape == (6, len(steps))
    assert np.all(np.diff(steps) > 0)


@pytest.mark.parametrize("capacity", [4, 5, 16])
def test_decimating_series_keeps_order_and_ends(capacity):
    from desklab.metrics import DecimatingSeries
    series = DecimatingSeries(1, capacity)
    for i in range(1000):
        series.append(i, [i])
    assert len(series) <= capacity and series.steps[0] == 0
    assert np.array_equal(series.values[:, 0], series.steps)
    assert np.all(np.diff(series.steps) > 0)


def test_header_and_text_name_the_same_layer():
    """Issue 25 item 8: "saturated - fc2" once said "in fc4 100%...": the finding's layer
    (its header) is the one its text gives a share for; the worst is named after it."""
    snap = snapshot(activation="sigmoid", frac_saturated=[0.0, 0.7, 0.8, 1.0, 0.0])
    (finding,) = [f for f in diagnose(_history(snap)) if f.kind == "saturated"]
    assert finding.layer == "fc2" and "in fc2 70% of the outputs" in finding.message
    assert "the most in fc4, 100%" in finding.message
    dead = snapshot(frac_dead=[0.0, 0.8, 0.95, 0.0, 0.0])
    (finding,) = [f for f in diagnose(_history(dead)) if f.kind == "dead_relu"]
    assert finding.layer == "fc2" and "80% of the units in fc2" in finding.message


def _with_init(snap, init):
    from dataclasses import replace
    layout = ProbeLayout(tuple(replace(m, init=init if m.kind == "dense" else "")
                               for m in snap.layout.layers))
    return Snapshot(snap.step, layout, snap.stats, snap.hist)


def test_advice_knows_the_init_the_layers_already_use():
    snap = snapshot(activation="tanh", frac_saturated=[0.0, 0.9, 0.9, 0.0, 0.0])
    plain = [f for f in diagnose(_history(snap)) if f.kind == "saturated"][0]
    assert "Use smaller initial weights (Xavier)" in plain.advice
    xavier = _with_init(snap, "xavier_normal")
    told = [f for f in diagnose(_history(xavier)) if f.kind == "saturated"][0]
    assert "Use smaller initial weights" not in told.advice
    assert "already use Xavier" in told.advice


def test_a_finding_right_after_an_lr_change_says_so():
    """A raise to 0.5 at step 100, saturation from step 150: the finding names the change
    and its advice starts from going back; 1000 steps later a new one does not."""
    from desklab.metrics.records import StepSeries
    history = RunHistory()
    lr = np.r_[np.full(100, 0.01), np.full(100, 0.5)]
    history.add_steps(StepSeries(0, np.ones(200), np.full(200, np.nan), lr))
    history.add_snapshot(snapshot(50, activation="sigmoid"))
    history.update_diagnosis()
    history.add_snapshot(snapshot(150, activation="sigmoid",
                                  frac_saturated=[0.0, 0.9, 0.0, 0.0, 0.0]))
    (finding,) = [f for f in history.update_diagnosis() if f.kind == "saturated"]
    assert "raised from 0.01 to 0.5 at step 100, 50 steps before this" in finding.message
    assert finding.advice.startswith("Go back to the learning rate before the change (0.01)")
    late = RunHistory()
    late.add_steps(StepSeries(0, np.ones(1200), np.full(1200, np.nan),
                              np.r_[np.full(100, 0.01), np.full(1100, 0.5)]))
    late.add_snapshot(snapshot(1150, activation="sigmoid",
                               frac_saturated=[0.0, 0.9, 0.0, 0.0, 0.0]))
    (finding,) = [f for f in late.update_diagnosis() if f.kind == "saturated"]
    assert "learning rate was" not in finding.message


def test_no_raise_advice_right_after_a_raise():
    from desklab.metrics.records import StepSeries
    history = RunHistory()
    lr = np.r_[np.full(100, 1e-5), np.full(20, 1e-4)]
    history.add_steps(StepSeries(0, np.ones(120), np.full(120, np.nan), lr))
    history.add_snapshot(snapshot(110, update_ratio=1e-7))
    (finding,) = [f for f in history.update_diagnosis() if f.kind == "update_ratio"]
    assert "Raise the learning rate" not in finding.advice
    assert "just raised to 0.0001" in finding.advice


def test_small_updates_at_the_end_of_a_decaying_schedule_are_not_told_to_raise_it():
    """A Hugging Face run's linear decay to 0 ended with "Updates are too small: raise
    the learning rate": the schedule does that on purpose. Said so instead; a constant
    learning rate, or one the slider cut in one go, keeps the advice it had."""
    from desklab.metrics.records import StepSeries

    def ratio_finding(lr):
        history = RunHistory()
        history.add_steps(StepSeries(0, np.ones(len(lr)), np.full(len(lr), np.nan), lr))
        history.add_snapshot(snapshot(len(lr) - 1, update_ratio=1e-7))
        (finding,) = [f for f in history.update_diagnosis() if f.kind == "update_ratio"]
        return finding

    decayed = ratio_finding(np.linspace(5e-5, 5e-8, 200))  # linear decay, 1000x down
    assert "Raise the learning rate" not in decayed.advice
    assert "lowered the learning rate to 5e-08 from its peak of 5e-05" in decayed.message
    assert "Raise the learning rate" in ratio_finding(np.full(200, 1e-6)).advice
    cut = ratio_finding(np.r_[np.full(100, 1e-3), np.full(100, 1e-5)])  # the slider
    assert "schedule" not in cut.message
