"""The recurrent lessons' claims, headless with their fixed seeds (issue 28).

Shortened where the effect shows sooner (fewer steps, probes further apart, T = 50 for
the LSTM against the RNN: at T = 100 the LSTM needs about 1400 steps to find the
markers, 100 s here; the lesson itself runs at T = 100)."""

import numpy as np

from desklab.engine.trainer import Trainer
from desklab.lessons import PRESETS, get_preset
from desklab.metrics import RunHistory
from desklab.metrics.through_time import TIME_DECADES


def run(slug, length=None, **train):
    design = get_preset(slug)
    if length is not None:
        design.input.params["length"] = length
    for key, value in train.items():
        setattr(design.train, key, value)
    history = RunHistory()
    for event in Trainer(design).events():
        if event.kind in ("snapshot", "metrics", "finding", "steps"):
            history.record(event.kind, event.payload)
    history.update_diagnosis()
    return history


def ratios(history) -> np.ndarray:
    """||dL/dh_1|| / ||dL/dh_T|| at every probe (the first recurrent layer)."""
    g = history.time_grads.values[:, 0]
    return g[:, 0] / g[:, -1]


def kinds(history) -> set:
    return {f.kind for f in history.findings}


def test_lstm_solves_the_adding_problem_where_the_rnn_stays_at_chance():
    rnn = run("rnn-adding", 50, steps=1200, probe_every=100)
    lstm = run("lstm-adding", 50, steps=1200, probe_every=100)
    chance = 1 / 6  # MSE of always answering 1
    assert rnn.metric("val_loss")[-1] > 0.9 * chance
    assert lstm.metric("val_loss")[-1] < 0.05
    # the gradient through time at the end: the LSTM's at least 3 decades above
    assert ratios(lstm)[-1] > 10 ** 3 * ratios(rnn)[-1]  # (the RNN's may underflow to 0)
    assert "vanishing_time" in kinds(rnn)


def test_clipping_an_exploding_rnn():
    exploding = run("rnn-exploding", steps=300)
    clipped = run("rnn-clipped", steps=300)
    assert ratios(exploding)[0] > 10 ** TIME_DECADES  # both start exploding through time
    assert "exploding_time" in kinds(exploding) and "exploding_time" in kinds(clipped)
    saturated = exploding.latest.stat("frac_saturated")[0]
    assert saturated > 0.9 and "saturated" in kinds(exploding)
    assert ratios(exploding)[-1] < 10 ** -TIME_DECADES  # from exploding to vanishing
    assert clipped.latest.stat("frac_saturated")[0] < 0.5
    assert abs(np.log10(ratios(clipped)[-1])) < TIME_DECADES


def test_orthogonal_recurrent_init_keeps_more_gradient_than_gaussian():
    gaussian = run("rnn-gaussian-init", steps=200)
    orthogonal = run("rnn-orthogonal-init", steps=200)
    assert np.median(ratios(orthogonal)[2:]) / np.median(ratios(gaussian)[2:]) > 10 ** 3
    assert "vanishing_time" in kinds(gaussian)


def test_recurrent_lessons_are_paired():
    for slug in ("rnn-adding", "lstm-adding", "rnn-exploding", "rnn-clipped",
                 "rnn-gaussian-init", "rnn-orthogonal-init"):
        assert PRESETS[PRESETS[slug].pair].pair == slug
