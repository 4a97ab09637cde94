"""Property: any design drawn through the catalog's schemas either validates and then
builds, probes and trains a few steps without error, or is rejected by validation with
messages. No design passes validation and then crashes."""

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desklab.design import (
    ACTIVATIONS, DATASETS, INITS, LAYER_KINDS, NORMS, TRAIN_PARAMS, InputSpec, LayerSpec,
    NetworkDesign, OutputSpec, TrainConfig, analyze, dumps, loads,
)
from desklab.design.catalog import NORM_POSITIONS, PREPROCESS, TASKS
from desklab.engine import probe_at_init
from desklab.engine.trainer import Trainer

# Keep generated designs small enough to run in milliseconds (one GRU of 3722 units
# over 2000 steps took a minute); values outside the schema's range are still drawn,
# one time in nine, to exercise validation, and they are always outside it (an
# in-range draw from a wide "bad" range was how the huge sizes got through).
CAPS = {"units": 48, "filters": 12, "kernel": 5, "stride": 3, "padding": 2, "window": 4,
        "samples": 240, "dim": 48, "classes": 12, "k": 4, "steps": 3, "batch_size": 48,
        "probe_every": 2, "eval_every": 2, "early_stopping": 2, "seed": 1000,
        "hidden": 48, "num_layers": 2, "length": 60}


def value_of(param, clean=False):
    if param.kind == "bool":
        return st.booleans()
    if param.kind == "choice":
        return st.sampled_from(param.choices)
    if param.kind == "text":
        return st.sampled_from(["", "/nonexistent/data.csv"])
    high = min(param.high, CAPS.get(param.name, param.high))
    if param.kind == "int":
        good = st.integers(int(param.low), int(high))
        bad = st.one_of(st.integers(int(param.low) - 3, int(param.low) - 1),
                        st.integers(int(param.high) + 1, int(param.high) * 2 + 3))
    else:
        good = st.floats(param.low, min(high, 10.0), allow_nan=False)
        bad = st.one_of(st.floats(param.low - 10.0, param.low, exclude_max=True),
                        st.floats(param.high, param.high * 2 + 1, exclude_min=True))
    return good if clean else st.one_of(good, good, good, good, good, good, good, good, bad)


def params_of(entry, clean=False):
    if not entry.params:
        return st.just({})
    return st.fixed_dictionaries({}, optional={p.name: value_of(p, clean)
                                               for p in entry.params})


@st.composite
def layers(draw, clean, nested=False):
    kinds = [k for k in LAYER_KINDS.names() if not (nested and k == "residual")]
    kind = draw(st.sampled_from(kinds))
    layer = LayerSpec.make(kind, **draw(params_of(LAYER_KINDS[kind], clean)))
    layer.activation = draw(st.sampled_from(ACTIVATIONS.names()))
    layer.activation_params = draw(params_of(ACTIVATIONS[layer.activation], clean))
    layer.init = draw(st.sampled_from(INITS.names()))
    layer.init_params = draw(params_of(INITS[layer.init], clean))
    layer.norm = draw(st.sampled_from(NORMS.names()))
    layer.norm_position = draw(st.sampled_from(NORM_POSITIONS))
    layer.dropout = draw(st.sampled_from([0.0, 0.0, 0.3] + ([] if clean else [0.96])))
    layer.bias = draw(st.booleans())
    if kind == "residual":
        layer.layers = draw(st.lists(layers(clean, nested=True), max_size=3))
    return layer


@st.composite
def designs(draw):
    clean = draw(st.sampled_from([True, True, False]))  # mostly in range, to reach training
    # the real image sets need files: tests/engine/test_real_datasets.py runs every one
    dataset = draw(st.sampled_from([e.name for e in DATASETS if "real" not in e.meta]))
    inp = InputSpec(dataset, draw(params_of(DATASETS[dataset], clean)),
                    draw(st.sampled_from([0.0, 0.2, 0.5] + ([] if clean else [0.95]))),
                    draw(st.sampled_from(PREPROCESS)))
    train = TrainConfig(**{p.name: draw(value_of(p, clean)) for p in TRAIN_PARAMS
                           if p.name != "device"})
    train.device = "cpu"
    known = DATASETS[dataset].meta["task"]  # a file's task depends on its labels
    task = (known if isinstance(known, str) else "classes") if clean else draw(
        st.sampled_from(TASKS))
    size = None if clean else draw(st.sampled_from([None, 1, 12]))
    out = OutputSpec(task, size, draw(st.sampled_from(INITS.names())))
    return NetworkDesign("fuzz", "", inp, draw(st.lists(layers(clean), max_size=6)), out,
                         train)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(designs())
def test_every_design_validates_and_runs_or_is_rejected_with_messages(design):
    assert dumps(loads(dumps(design))) == dumps(design)  # files round-trip losslessly
    analysis = analyze(design)
    if not analysis.ok:
        assert all(p.message and isinstance(p.message, str) for p in analysis.problems)
        return
    design.train.steps = min(design.train.steps, 3)
    snapshot, model, _ = probe_at_init(design, max_batch=64)
    assert snapshot.stats.shape[0] == len(model.probe_points)
    result = Trainer(design).run()
    assert result.state in ("finished", "diverged", "early_stopped"), result.findings
    assert result.steps <= 3 and math.isfinite(result.train_seconds)
