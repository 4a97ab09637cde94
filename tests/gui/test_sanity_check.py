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
    for count, (slug, verdict) in enumerate((("overfit-small", "Passed"),
                                             ("lr-too-low", "Failed")), start=1):
        window._replace(get_preset(slug), None)
        window.act_sanity.trigger()
        qtbot.waitUntil(lambda n=count: len(said) == n, timeout=60000)
        assert said[-1].startswith(verdict), said[-1]
        assert icons[-1] == (verdict == "Passed")  # a failure is a warning, not info
        assert window.training.controller.run_steps == 300
