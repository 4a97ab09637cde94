"""Validation reports every problem at once, tied to a layer and field, in plain words."""

from desklab.design import InputSpec, LayerSpec, NetworkDesign, analyze


def problems(design):
    return [(p.path, p.field, p.message) for p in analyze(design).problems]


def test_conv_after_flatten_and_kernel_too_large_and_units_range():
    design = NetworkDesign(input=InputSpec("digits"), layers=[
        LayerSpec.make("conv2d", kernel=9, padding=0),
        LayerSpec.make("flatten"),
        LayerSpec.make("conv2d"),
        LayerSpec.make("dense", units=0),
    ])
    found = problems(design)
    assert ((0,), "kernel", "kernel 9 is larger than the 8x8 input") in found
    assert ((2,), "kind", "conv2d after flatten needs an image input") in found
    assert ((3,), "units", "units must be between 1 and 65536") in found
    assert len(found) == 3  # all at once


def test_dense_on_image_and_conv_on_flat_input():
    image = NetworkDesign(input=InputSpec("digits"), layers=[LayerSpec.make("dense")])
    assert "add a flatten layer" in problems(image)[0][2]
    flat = NetworkDesign(input=InputSpec("moons"), layers=[LayerSpec.make("conv2d")])
    assert problems(flat)[0][:2] == ((0,), "kind")
    assert "needs an image input" in problems(flat)[0][2]


def test_field_level_problems_are_named():
    layer = LayerSpec.make("dense", activation="leaky_relu", activation_params={"slope": 3},
                           init="gaussian", init_params={"std": -1}, dropout=1.5,
                           norm="groupnorm")
    design = NetworkDesign(layers=[layer])
    fields = {f for _, f, _ in problems(design)}
    assert fields == {"activation.slope", "init.std", "dropout", "norm"}


def test_design_level_problems():
    design = NetworkDesign(input=InputSpec("moons", {"samples": 100, "noise": -1}))
    design.train.lr = 0.0
    design.train.optimizer = "lbfgs"
    fields = {f for _, f, _ in problems(design)}
    assert {"input.noise", "train.lr", "train.optimizer"} <= fields


def test_batch_larger_than_training_set():
    design = NetworkDesign(input=InputSpec("moons", {"samples": 100}, val_fraction=0.2))
    design.train.batch_size = 256
    assert ((), "train.batch_size",
            "batch size 256 is larger than the 80 training examples") in problems(design)


def test_residual_problems():
    empty = NetworkDesign(layers=[LayerSpec.make("residual")])
    assert problems(empty)[0][1] == "layers"
    forced = NetworkDesign(layers=[LayerSpec.make("residual", params={"shortcut": "identity"},
                                                  layers=[LayerSpec.make("dense", units=5)])])
    assert problems(forced)[0][1] == "shortcut"
    nested = NetworkDesign(layers=[LayerSpec.make("residual", layers=[
        LayerSpec.make("residual", layers=[LayerSpec.make("dense", units=2)])])])
    assert any("nested" in m for _, _, m in problems(nested))


def test_huge_design_is_refused_not_built():
    design = NetworkDesign(input=InputSpec("gaussian", {"dim": 8192}), layers=[
        LayerSpec.make("dense", units=65536) for _ in range(3)])
    assert any("parameters" in m for _, _, m in problems(design))


def test_output_task_must_match_dataset():
    design = NetworkDesign(input=InputSpec("sine"))
    assert problems(design)[0][:2] == (("output",), "task")
    design.output.task = "regression"
    assert analyze(design).ok


def test_duplicate_names():
    design = NetworkDesign(layers=[LayerSpec.make("dense", name="a"),
                                   LayerSpec.make("dense", name="a")])
    assert ((1,), "name", "the name 'a' is used twice") in problems(design)


def test_problem_str_names_the_layer():
    design = NetworkDesign(layers=[LayerSpec.make("dense", units=-3)])
    assert str(analyze(design).problems[0]) == "layer 1 (fc1): units must be between 1 and 65536"


def test_maxout_cannot_follow_a_residual_add():
    # found by the fuzzer: maxout after the add has no k-times-wider layer to reduce
    design = NetworkDesign(input=InputSpec("gaussian"), layers=[LayerSpec.make(
        "residual", activation="maxout", layers=[LayerSpec.make("dense", units=64)])])
    assert ((0,), "activation") in {(p.path, p.field) for p in analyze(design).problems}


def test_regression_head_must_match_the_targets():
    # found by the fuzzer: 12 outputs against 1 target broadcast silently in MSE
    design = NetworkDesign(input=InputSpec("sine"))
    design.output.task, design.output.size = "regression", 12
    assert (("output",), "size") in {(p.path, p.field) for p in analyze(design).problems}


def test_a_file_dataset_with_bad_settings_is_a_problem_not_an_exception():
    """Found by the fuzz: with samples out of range the task check still read the file
    (none named), and analyze raised instead of listing the problem."""
    from desklab.design import InputSpec, LayerSpec, NetworkDesign, analyze
    design = NetworkDesign(input=InputSpec("file", {"samples": -1}),
                           layers=[LayerSpec.make("dense", units=4)])
    problems = analyze(design).problems
    assert [p.field for p in problems] == ["input.samples"]
