"""cs231n's first sanity check: the loss at step 0 against ln C."""

import math

import numpy as np

from desklab.engine.trainer import Trainer
from desklab.lessons import get_preset
from desklab.metrics import LayerMeta, ProbeLayout, RunHistory
from desklab.metrics.babysitting import initial_loss
from desklab.metrics.records import StepSeries


def history_with(first_loss: float, acc: float = 0.1, classes: int = 10) -> RunHistory:
    layout = ProbeLayout((LayerMeta("fc1", "dense", "relu", (32,), 100, (0.0, 4.0), True),
                          LayerMeta("head", "output", "identity", (classes,), 330,
                                    (-4.0, 4.0), True)))
    history = RunHistory(layout)
    history.record("steps", StepSeries(0, np.array([first_loss, 2.0]), np.array([acc, acc]),
                                       np.array([0.1, 0.1])))
    return history


def test_the_rule_compares_step_0_with_ln_c():
    assert initial_loss(history_with(math.log(10))) == []
    (high,) = initial_loss(history_with(9.0))
    assert high.kind == "initial_loss" and "ln 10 = 2.3" in high.message
    assert "too big" in high.message
    (low,) = initial_loss(history_with(0.2))
    assert "leak" in low.message
    assert initial_loss(history_with(9.0, acc=float("nan"))) == []  # regression
    assert initial_loss(history_with(9.0, classes=1)) == []


def test_a_real_run_with_a_huge_output_init_is_told():
    design = get_preset("cnn-digits")
    design.train.steps = 5
    design.output.init, design.output.init_params = "gaussian", {"std": 5.0}
    trainer = Trainer(design)
    history = RunHistory(trainer.layout)
    for event in trainer.events():
        history.record(event.kind, event.payload)
    history.update_diagnosis()
    assert history.step_series("loss")[1][0] > 1.5 * math.log(10)
    assert "initial_loss" in {f.kind for f in history.findings}


def test_the_preview_note_says_whether_the_loss_at_init_is_ln_c():
    from desklab.metrics.babysitting import init_loss_note
    assert "as it should be" in init_loss_note(2.31, 10)
    assert "too large" in init_loss_note(9.0, 10)
    assert "labels" in init_loss_note(0.1, 10)
    assert init_loss_note(float("nan"), 10) == "" and init_loss_note(1.0, 1) == ""
