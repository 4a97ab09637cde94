"""Shape inference, parameter counts and validation of a design, in one pass.

The per-layer checks are in ``layer_checks``; this file checks the design as a whole
(dataset, training settings, head, memory) and puts it together.

`analyze` walks the layers once, carrying the current shape, and returns every
problem at once, each tied to a layer path and a field so editors can mark the
exact card and form field. A layer whose input shape is unknown (because an
earlier layer is broken) is still checked field by field.
"""

from __future__ import annotations

import math

from .catalog import (
    DATASETS, INPUT_PARAMS, MAX_LAYERS, MAX_TOTAL_PARAMS, OUTPUT_PARAMS, TRAIN_PARAMS,
    dataset_task,
)
from .layer_checks import check_init, check_layer
from .model import NetworkDesign
from .naming import duplicate_names, layer_names
from .problems import Analysis, LayerInfo, Problem, Shape
from .problems import add_problem as _add
from .shapes import known

__all__ = ["Analysis", "LayerInfo", "Problem", "analyze"]

MAX_ACTIVATION_BYTES = 4 * 2**30  # per batch, forward + backward, rough
MAX_DATA_BYTES = 2 * 2**30  # a generated dataset held as float32 (train + validation)


def analyze(design: NetworkDesign) -> Analysis:
    """Infer every layer's shapes and parameters and collect every problem."""
    result = Analysis()
    names = layer_names(design)
    _check_design(design, result)
    shape = design.input.shape
    if len(design.layers) > MAX_LAYERS:
        _add(result, (), "layers", f"a design may have at most {MAX_LAYERS} layers")
    for i, layer in enumerate(design.layers):
        shape = check_layer(layer, (i,), shape, names, result, inside_block=False)
    _head(design, shape, result)
    for path in duplicate_names(design):
        _add(result, path, "name", f"the name {names[path]!r} is used twice",
             f"layer {'.'.join(str(i + 1) for i in path)} ({names[path]})")
    result.total_params = sum(info.params for info in result.layers)
    if result.total_params > MAX_TOTAL_PARAMS:
        _add(result, (), "layers", f"the design has {result.total_params:,} parameters; "
             f"the lab allows at most {MAX_TOTAL_PARAMS:,}")
    _check_memory(design, result)
    return result


def _check_design(design: NetworkDesign, result: Analysis) -> None:
    inp = design.input
    dataset = DATASETS.get(inp.dataset)
    if dataset is None:
        _add(result, (), "input.dataset", f"unknown dataset {inp.dataset!r}")
    else:
        for key, msg in dataset.problems(inp.params):
            _add(result, (), f"input.{key}", msg)
        if not dataset.problems(inp.params) and callable(dataset.meta["task"]):
            from .datafile import DataFileError
            try:
                dataset.meta["shape"](inp.resolved_params())
            except DataFileError as exc:
                _add(result, (), "input.path", str(exc))
                dataset = None  # nothing more can be checked against it
    for name, param in INPUT_PARAMS.items():
        problem = param.problem(getattr(inp, name))
        if problem:
            _add(result, (), f"input.{name}", problem)
    for p in TRAIN_PARAMS:
        msg = p.problem(getattr(design.train, p.name))
        if msg:
            _add(result, (), f"train.{p.name}", msg)
    out = design.output
    if OUTPUT_PARAMS["task"].problem(out.task):
        _add(result, ("output",), "task", OUTPUT_PARAMS["task"].problem(out.task))
    elif dataset is not None and not dataset.problems(inp.params) and \
            dataset_task(dataset, inp.params) != out.task:  # bad params: reported above
        _add(result, ("output",), "task",
             f"the output is {out.task} but {inp.dataset} is a "
             f"{'regression' if out.task == 'classes' else 'classification'} dataset")
    if out.size is not None:
        bad = isinstance(out.size, bool) or not isinstance(out.size, int)
        if bad or not 1 <= out.size <= 100000:
            _add(result, ("output",), "size", "size must be a whole number between 1 and 100000")
        elif dataset is not None and not dataset.problems(inp.params):
            have = dataset.meta["classes"](inp.resolved_params())  # targets for regression
            if out.task == "classes" and out.size < have:
                _add(result, ("output",), "size",
                     f"the output has {out.size} classes but {inp.dataset} has {have}")
            elif out.task == "regression" and out.size != have:
                _add(result, ("output",), "size",
                     f"the output has {out.size} targets but {inp.dataset} has {have}")
    check_init(out.init, out.init_params, ("output",), result)
    _check_batch(design, result)


def _check_batch(design: NetworkDesign, result: Analysis) -> None:
    dataset = DATASETS.get(design.input.dataset)
    batch = design.train.batch_size
    if dataset is None or dataset.problems(design.input.params):
        return
    fraction = design.input.val_fraction
    if not isinstance(batch, int) or not isinstance(fraction, (int, float)) or \
            not 0.0 <= fraction <= 0.9:  # NaN too: reported by _check_design already
        return
    samples = design.input.resolved_params()["samples"]
    real = dataset.meta.get("real")
    if real is not None:  # validation is the official test split: all of these train
        n_train = samples or real.train
        if batch > n_train:
            _add(result, (), "train.batch_size",
                 f"batch size {batch} is larger than the {n_train} training examples")
        return
    if design.input.dataset == "file":
        try:
            total = _file_samples(design)
        except ValueError:  # reported by _check_design already
            return
        samples = min(samples, total) if samples else total
    shape = design.input.shape
    if shape is not None and design.input.dataset != "file":  # a file's data is already read
        need = samples * math.prod(shape) * 4
        if need > MAX_DATA_BYTES:
            _add(result, (), "input.params", f"{samples:,} examples of {math.prod(shape):,} "
                 f"values need {need / 2**30:.1f} GiB; the lab generates at most "
                 f"{MAX_DATA_BYTES / 2**30:.0f} GiB (fewer samples or a smaller dim)")
            return
    n_val = int(round(samples * design.input.val_fraction))
    n_train = samples - n_val
    if n_train < 2:
        _add(result, (), "input.val_fraction", "fewer than 2 examples are left for training")
    elif batch > n_train:
        _add(result, (), "train.batch_size",
             f"batch size {batch} is larger than the {n_train} training examples")
    uses_bn = any(l.norm == "batchnorm" for l in design.all_layers())
    if uses_bn and batch < 2:
        _add(result, (), "train.batch_size", "BatchNorm needs a batch of at least 2")


def _file_samples(design: NetworkDesign) -> int:
    from .datafile import inspect_data
    p = design.input.resolved_params()
    return inspect_data(p["path"], p["label"]).samples


def _head(design: NetworkDesign, shape: Shape | None, result: Analysis) -> None:
    size = design.output_size()
    ok_size = isinstance(size, int) and not isinstance(size, bool) and size >= 1
    params = math.prod(shape) * size + size if known(shape) and ok_size else 0
    result.layers.append(LayerInfo(("output",), "head", "output", "identity", shape,
                                   (size,) if ok_size else None, params))


def _check_memory(design: NetworkDesign, result: Analysis) -> None:
    batch = design.train.batch_size
    if not isinstance(batch, int) or isinstance(batch, bool):
        return
    floats = sum(math.prod(i.out_shape) for i in result.layers if known(i.out_shape))
    need = batch * floats * 4 * 6  # pre-activation, activation, norm, grads: ~6 copies
    if need > MAX_ACTIVATION_BYTES:
        _add(result, (), "train.batch_size", f"one batch needs about {need / 2**30:.1f} GiB "
             f"of activations; use a smaller batch or narrower layers")
