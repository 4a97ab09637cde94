"""Train ▸ Sanity check: overfit 20 examples with regularisers off; passes for a healthy
design, fails (and says so) for one that cannot learn."""

from desklab.design.sanity import tiny_subset
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
    cases = [(get_preset("overfit-small"), "Passed"), (get_preset("lr-too-low"), "Failed"),
             (sine(1e-3), "Passed"), (sine(1e-6), "Failed")]
    for count, (design, verdict) in enumerate(cases, start=1):
        window._replace(design, None)
        window.act_sanity.trigger()
        qtbot.waitUntil(lambda n=count: len(said) == n, timeout=60000)
        assert said[-1].startswith(verdict), said[-1]
        assert icons[-1] == (verdict == "Passed")  # a failure is a warning, not info
        assert window.training.controller.run_steps == 300
        if design.output.task == "regression":  # no accuracy: judged by its loss
            assert "training loss" in said[-1] and "accuracy" not in said[-1], said[-1]
    # the regression's numbers: its own run's losses, a twentieth the bar
    history = window.training.controller.history
    first, last = history.step_series("loss")[1][0], history.metric("loss")[-1]
    assert last / first > 0.05 and f"{last / first:.1%}" in said[-1]


def sine(lr):
    """A small regression (before, every one 'failed': accuracy not measured)."""
    from desklab.design import InputSpec, LayerSpec, NetworkDesign, OutputSpec
    design = NetworkDesign(name="sine", input=InputSpec("sine"),
                           layers=[LayerSpec.make("dense", units=64) for _ in range(2)],
                           output=OutputSpec("regression"))
    design.train.lr = lr
    return design
