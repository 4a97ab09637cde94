"""Train ▸ Sanity check: overfit 20 examples with regularisers off; passes for a healthy
design, fails (and says so) for one that cannot learn."""

from desklab.design.sanity import STEPS, tiny_subset
from desklab.lessons import get_preset


def test_tiny_subset_is_20_examples_unregularised():
    design = get_preset("overfit-small-dropout")
    design.train.l2 = 0.01
    tiny = tiny_subset(design)
    assert tiny.train.l2 == 0 and tiny.train.l1 == 0
    assert all(layer.dropout == 0 for layer in tiny.layers)
    from desklab.engine import make_dataset
    assert len(make_dataset(tiny).x_train) == 20
    assert design.layers[0].dropout > 0  # the design itself is untouched


def test_sanity_check_passes_and_fails(window, qtbot):
    said = []
    icons = []
    window.show_info = lambda title, text, passed=True: (said.append(text),
                                                         icons.append(passed))
    # lstm-adding: a healthy LSTM that fits its 20 sequences only after ~600 steps
    # (at step 300, the old length of the check, its loss was still 13% of the first)
    cases = [(get_preset("overfit-small"), "Passed"), (get_preset("lr-too-low"), "Failed"),
             (sine(1e-3), "Passed"), (get_preset("lstm-adding"), "Passed"),
             (sine(1e-6), "Failed")]
    for count, (design, verdict) in enumerate(cases, start=1):
        window._replace(design, None)
        window.act_sanity.trigger()
        qtbot.waitUntil(lambda n=count: len(said) == n, timeout=90000)
        assert said[-1].startswith(verdict), said[-1]
        assert icons[-1] == (verdict == "Passed")  # a failure is a warning, not info
        controller = window.training.controller
        assert controller.run_steps == STEPS == 1000
        qtbot.wait(300)  # redraw ticks after the end: the verdict stays in the status bar
        assert window.statusBar().currentMessage() == f"Sanity check: {said[-1]}"
        assert f"/{STEPS} ·" in window.training.panel.status.text()  # the check's length
        history = controller.history
        steps, acc, loss = (history.metric(m) for m in ("step", "train_acc", "loss"))
        first = history.step_series("loss")[1][0]
        fit = acc >= 0.99 if design.output.task == "classes" else loss <= first / 20
        if verdict == "Passed":  # stopped at the first evaluation that fits (or the next)
            assert f"by step {int(steps[-1])} " in said[-1] and fit[-1], said[-1]
            assert fit.argmax() >= len(fit) - 2 and steps[-1] < 1000, (steps, fit)
            assert controller.step < 1000 and controller.state == "stopped"
        else:  # every evaluation failed, all the steps ran
            assert not fit.any() and f"after {STEPS} steps" in said[-1], said[-1]
        if design.output.task == "regression":  # no accuracy: judged by its loss
            assert "training loss" in said[-1] and "accuracy" not in said[-1], said[-1]
            assert f"{loss[-1] / first:.1%}" in said[-1]  # its own run's losses
    assert loss[-1] / first > 0.05  # the last: lr 1e-6 barely moves


def sine(lr):
    """A small regression (before, every one 'failed': accuracy not measured)."""
    from desklab.design import InputSpec, LayerSpec, NetworkDesign, OutputSpec
    design = NetworkDesign(name="sine", input=InputSpec("sine"),
                           layers=[LayerSpec.make("dense", units=64) for _ in range(2)],
                           output=OutputSpec("regression"))
    design.train.lr = lr
    return design


def test_stopping_the_check_gives_no_verdict(window, qtbot):
    """Stop pressed during the check: it said "Failed: ... something prevents learning"
    of a run the user cut short. Now: no box, a status line that says so."""
    said = []
    window.show_info = lambda title, text, passed=True: said.append(text)
    window._replace(get_preset("lr-too-low"), None)  # never fits: runs to 1000 unless stopped
    window.act_sanity.trigger()
    controller = window.training.controller
    qtbot.waitUntil(lambda: controller.running and controller.step > 0, timeout=30000)
    assert not window.act_sanity.isEnabled()  # a second check would replace this run
    window.training.act_stop.trigger()
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith(
        "Sanity check: Stopped at step"), timeout=30000)
    assert not said and controller.step < STEPS
    assert window.act_sanity.isEnabled()
    assert f"step {controller.step} " in window.statusBar().currentMessage()
