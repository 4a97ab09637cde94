"""Every lesson's claim, verified headless with its fixed seed."""

import numpy as np
import pytest
import torch

from desklab.design import analyze
from desklab.engine.trainer import Trainer
from desklab.lessons import PRESETS, get_preset
from desklab.metrics import RunHistory


def run(slug, **train):
    """Train a lesson (``train`` overrides settings, e.g. fewer steps) and diagnose it."""
    design = get_preset(slug)
    for key, value in train.items():
        setattr(design.train, key, value)
    trainer = Trainer(design)
    history = RunHistory()
    for event in trainer.events():  # as the CLI and the app record them: the rules
        history.record(event.kind, event.payload)  # run at every snapshot
    return trainer, history


def final(history, name):
    return float(history.metric(name)[-1])


def kinds(history):
    return {f.kind for f in history.findings}


@pytest.mark.parametrize("slug", list(PRESETS))
def test_every_lesson_is_valid_and_paired_both_ways(slug):
    preset = PRESETS[slug]
    assert analyze(preset.design()).ok
    assert preset.title and preset.summary and preset.look_for and preset.expected
    if preset.pair:
        assert preset.pair in PRESETS


def test_init_zeros_symmetry_never_breaks():
    trainer, history = run("init-zeros")
    for name in ("fc1", "fc2", "fc3"):
        w = trainer.model.blocks[name].op.weight.detach()
        assert torch.equal(w, w[:1].expand_as(w))  # every unit (row) identical
    assert "symmetric" in kinds(history)
    assert final(history, "train_acc") < 0.5


def test_dying_relu_vs_leaky():
    _, dying = run("dying-relu")
    _, leaky = run("leaky-relu-fix")
    assert np.mean(dying.latest.stat("frac_dead")[:-1]) > 0.5
    assert "dead_relu" in kinds(dying)
    assert np.max(leaky.latest.stat("frac_dead")[:-1]) == 0.0


def test_batchnorm_rescues_a_bad_init_and_differs_in_eval():
    _, plain = run("bad-init-no-bn")
    trainer, bn = run("bad-init-bn")
    assert final(plain, "train_acc") < 0.45
    assert {"collapsed", "vanishing"} <= kinds(plain)
    assert final(bn, "train_acc") > 0.9
    x = trainer.data.x_train[:64]
    trainer.model.train()
    train_out = trainer.model(x)
    trainer.model.eval()
    assert not torch.allclose(train_out, trainer.model(x), atol=1e-4)


def test_skip_connections_let_30_layers_train():
    _, plain = run("deep-plain")
    _, residual = run("deep-residual")
    assert final(plain, "train_acc") < 0.6 and "vanishing" in kinds(plain)
    assert final(residual, "train_acc") > 0.9


def test_dropout_and_l2_shrink_the_generalisation_gap():
    gaps = {}
    for slug in ("overfit-small", "overfit-small-dropout", "overfit-small-l2"):
        _, h = run(slug)
        gaps[slug] = final(h, "train_acc") - final(h, "val_acc")
        if slug == "overfit-small":
            assert final(h, "train_acc") > 0.99 and "overfitting" in kinds(h)
    assert gaps["overfit-small"] > 0.12
    assert gaps["overfit-small-dropout"] < gaps["overfit-small"] - 0.05
    assert gaps["overfit-small-l2"] < gaps["overfit-small"] - 0.05


def test_learning_rate_too_low_crawls_and_tuned_converges():
    _, low = run("lr-too-low")
    _, tuned = run("lr-tuned")
    assert final(low, "loss") > 0.3
    assert final(tuned, "loss") < final(low, "loss") / 3
    # the sign the Lesson panel ticks: still active at the end (it ended at step 10)
    assert "update_ratio" in {f.kind for f in low.diagnosed if f.end is None}
    assert "update_ratio" not in kinds(tuned)
    trainer, high = run("lr-too-high")
    assert trainer.state == "diverged"


def test_a_deep_linear_net_cannot_fit_the_spiral():
    _, linear = run("linear-spiral")
    _, relu = run("relu-spiral")
    assert final(linear, "train_acc") < 0.65
    assert final(relu, "train_acc") > 0.95


def test_sanity_overfit_memorises_a_tiny_subset():
    _, h = run("sanity-overfit")
    assert final(h, "train_acc") > 0.99


def test_relu_reaches_the_target_faster_than_tanh():
    def steps_to(history, target=0.85):
        acc, steps = history.metric("train_acc"), history.metrics.steps
        return int(steps[np.argmax(acc >= target)]) if (acc >= target).any() else 10**9
    _, tanh = run("tanh-vs-relu")
    _, relu = run("relu-digits")
    assert steps_to(relu) * 1.5 <= steps_to(tanh)


def test_clipping_fixes_exploding_gradients():
    trainer, exploding = run("exploding")
    assert trainer.state == "diverged"
    clipped, fixed = run("gradient-clipping-fix")
    assert clipped.state == "finished" and final(fixed, "train_acc") > 0.9


def test_cnn_digits_learns_with_the_documented_shapes():
    trainer, h = run("cnn-digits")
    assert final(h, "val_acc") > 0.9
    shapes = {m.name: m.out_shape for m in h.layout.layers}
    assert shapes["conv1"] == (16, 8, 8) and shapes["maxpool2"] == (16, 3, 3)


def test_deep_sigmoid_stalls_where_deep_relu_trains():
    # 500 of the preset's 2000 steps: trimmed, and the claim still holds
    _, sigmoid = run("deep-sigmoid", steps=500, eval_every=100)
    _, relu = run("deep-relu", steps=500, eval_every=100)
    assert final(sigmoid, "train_acc") < 0.45 and "vanishing" in kinds(sigmoid)
    assert final(relu, "train_acc") > 0.9 and "vanishing" not in kinds(relu)
    g = sigmoid.latest.stat("grad_mean_abs")[:10]
    assert g[-1] / g[0] > 1e4  # still vanishing after training


def test_every_lesson_sign_is_a_finding_its_claim_test_checks():
    """The Lesson panel ticks these off; each is asserted above (the recurrent lessons in
    test_recurrent_lessons.py) on the lesson's run."""
    import inspect
    import sys
    from pathlib import Path
    source = inspect.getsource(sys.modules[__name__]) + \
        (Path(__file__).parent / "test_recurrent_lessons.py").read_text()
    from desklab.metrics.records import Finding  # noqa: F401 - the kinds it documents
    for slug, preset in PRESETS.items():
        for sign in preset.signs:
            assert f'"{slug}"' in source, slug
            assert f'"{sign}"' in source, (slug, sign)
