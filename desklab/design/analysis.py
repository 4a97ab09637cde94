"""Shape inference, parameter counts and validation of a design, in one pass.

`analyze` walks the layers once, carrying the current shape, and returns every
problem at once, each tied to a layer path and a field so editors can mark the
exact card and form field. A layer whose input shape is unknown (because an
earlier layer is broken) is still checked field by field.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from .catalog import (
    ACTIVATIONS, COMMON, DATASETS, INITS, LAYER_KINDS, MAX_LAYERS, MAX_TOTAL_PARAMS,
    INPUT_PARAMS, NORMS, OUTPUT_PARAMS, TRAIN_PARAMS, dataset_task,
)
from .model import LayerSpec, NetworkDesign
from .naming import duplicate_names, layer_names
from .shapes import (
    activation_params, conv_out, fmt_shape, known, param_count, projection, width_multiplier,
)

Shape = tuple  # (D,) flat or (C, H, W) image

MAX_ACTIVATION_BYTES = 4 * 2**30  # per batch, forward + backward, rough
MAX_DATA_BYTES = 2 * 2**30  # a generated dataset held as float32 (train + validation)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a design.

    ``path`` is ``()`` for the design as a whole, ``(i,)`` for layer i,
    ``(i, j)`` for inner layer j of residual block i, ``("output",)`` for the
    head. ``field`` names the setting (``units``, ``train.lr``...).
    """

    path: tuple
    field: str
    message: str
    where: str = ""

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


@dataclass(frozen=True)
class LayerInfo:
    """Shapes and parameter count of one probe point (a layer or a block's output)."""

    path: tuple
    name: str
    kind: str
    activation: str
    in_shape: Shape | None
    out_shape: Shape | None
    params: int


@dataclass
class Analysis:
    """Result of `analyze`: layers in probe order, the head, problems, totals."""

    layers: list[LayerInfo] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    total_params: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def problems_at(self, path: tuple) -> list[Problem]:
        return [p for p in self.problems if p.path == path]

    def info_at(self, path: tuple) -> LayerInfo | None:
        for info in self.layers:
            if info.path == path:
                return info
        return None


def analyze(design: NetworkDesign) -> Analysis:
    """Infer every layer's shapes and parameters and collect every problem."""
    result = Analysis()
    names = layer_names(design)
    _check_design(design, result)
    shape = design.input.shape
    if len(design.layers) > MAX_LAYERS:
        _add(result, (), "layers", f"a design may have at most {MAX_LAYERS} layers")
    for i, layer in enumerate(design.layers):
        shape = _layer(layer, (i,), shape, names, result, inside_block=False)
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


def _add(result: Analysis, path: tuple, field_name: str, message: str, where: str = ""):
    if not where:
        where = "design" if path == () else ("output" if path == ("output",) else "")
    result.problems.append(Problem(path, field_name, message, where))


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
    _check_init(out.init, out.init_params, ("output",), result)
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
    uses_bn = any(l.norm == "batchnorm" for l in _all_layers(design.layers))
    if uses_bn and batch < 2:
        _add(result, (), "train.batch_size", "BatchNorm needs a batch of at least 2")


def _file_samples(design: NetworkDesign) -> int:
    from .datafile import inspect_data
    p = design.input.resolved_params()
    return inspect_data(p["path"], p["label"]).samples


def _all_layers(layers: list[LayerSpec]):
    for layer in layers:
        yield layer
        yield from _all_layers(layer.layers)


def _check_init(name: str, params: dict, path: tuple, result: Analysis, where: str = ""):
    entry = INITS.get(name)
    if entry is None:
        _add(result, path, "init", f"unknown init {name!r}", where)
        return
    for key, msg in entry.problems(params):
        _add(result, path, f"init.{key}", msg, where)


def _check_common(layer: LayerSpec, path: tuple, where: str, result: Analysis) -> None:
    common = LAYER_KINDS[layer.kind].meta["common"]
    if "activation" in common:
        act = ACTIVATIONS.get(layer.activation)
        if act is None:
            _add(result, path, "activation", f"unknown activation {layer.activation!r}", where)
        else:
            for key, msg in act.problems(layer.activation_params):
                _add(result, path, f"activation.{key}", msg, where)
    if "init" in common:
        _check_init(layer.init, layer.init_params, path, result, where)
    if "norm" in common:
        if layer.norm not in NORMS:
            _add(result, path, "norm", f"unknown norm {layer.norm!r}", where)
        msg = COMMON["norm_position"].problem(layer.norm_position)
        if msg:
            _add(result, path, "norm_position", msg, where)
    for key in ("dropout", "bias"):
        if key in common:
            msg = COMMON[key].problem(getattr(layer, key))
            if msg:
                _add(result, path, key, msg, where)


_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")


def _layer(layer: LayerSpec, path: tuple, shape: Shape | None, names: dict, result: Analysis,
           inside_block: bool) -> Shape | None:
    """Check one layer, record its LayerInfo, return its output shape (None if unknown)."""
    entry = LAYER_KINDS.get(layer.kind)
    name = names.get(path, "?")
    where = f"layer {'.'.join(str(i + 1) for i in path)} ({name})"
    if entry is None:
        _add(result, path, "kind", f"unknown layer kind {layer.kind!r}", where)
        return None
    if layer.name and (not isinstance(layer.name, str) or not _NAME_RE.match(layer.name)):
        _add(result, path, "name", "name must start with a letter and use only letters, "
             "digits and _ (at most 40)", where)
    bad = entry.problems(layer.params)
    for key, msg in bad:
        _add(result, path, key, msg, where)
    _check_common(layer, path, where, result)
    if layer.layers and layer.kind != "residual":
        _add(result, path, "layers", "only residual blocks hold inner layers", where)
    p = entry.resolve(layer.params)
    if bad:
        out = None
    elif layer.kind == "residual":
        return _residual(layer, path, shape, names, result, inside_block, where, name)
    else:
        out = _shape_of(layer, p, shape, path, where, result)
    result.layers.append(LayerInfo(path, name, layer.kind, layer.activation, shape, out,
                                   param_count(layer, p, shape, out)))
    return out


def _shape_of(layer, p, shape, path, where, result) -> Shape | None:
    """Output shape; after a broken layer the rank is still known, sizes become "?"."""
    if shape is None:
        return None
    kind, flat = layer.kind, len(shape) == 1
    if kind == "dense":
        if not flat:
            _add(result, path, "kind", f"dense needs a flat input but gets a "
                 f"{fmt_shape(shape)} image: add a flatten layer first", where)
        return (p["units"],)
    if kind == "flatten":
        return (math.prod(shape),) if known(shape) else ("?",)
    if flat:
        _add(result, path, "kind", f"{kind} after flatten needs an image input"
             if _after_flatten(result) else
             f"{kind} needs an image input (C, H, W) but gets a flat {fmt_shape(shape)}",
             where)
        return (p["filters"] if kind == "conv2d" else "?", "?", "?")
    c, h, w = shape
    if kind == "conv2d":
        k, s, pad, field_name, channels = (p["kernel"], p["stride"], p["padding"], "kernel",
                                           p["filters"])
    else:
        k, s, pad, field_name, channels = p["window"], p["stride"], 0, "window", c
    if not known((h, w)):
        return (channels, "?", "?")
    if k > min(h, w) + 2 * pad:
        _add(result, path, field_name, f"{field_name} {k} is larger than the {h}x{w} input"
             + (f" (with padding {pad})" if pad else ""), where)
        return (channels, "?", "?")
    if kind == "conv2d" and pad >= k:
        _add(result, path, "padding", f"padding {pad} must be smaller than kernel {k}", where)
        return (channels, "?", "?")
    return (channels, conv_out(h, k, s, pad), conv_out(w, k, s, pad))


def _after_flatten(result: Analysis) -> bool:
    return any(info.kind == "flatten" for info in result.layers)


def _residual(layer, path, shape, names, result, inside_block, where, name) -> Shape | None:
    if inside_block:
        _add(result, path, "kind", "residual blocks cannot be nested", where)
    if width_multiplier(layer) > 1:
        _add(result, path, "activation", f"{layer.activation} cannot be a residual block's "
             "activation: it needs a layer computing k pieces per unit; put it on an inner "
             "layer instead", where)
    if not layer.layers:
        _add(result, path, "layers", "a residual block needs at least one inner layer", where)
    inner = shape
    for j, sub in enumerate(layer.layers):
        inner = _layer(sub, path + (j,), inner, names, result, inside_block=True)
    out, params = inner, 0
    mode = LAYER_KINDS["residual"].resolve(layer.params)["shortcut"]
    if known(shape) and known(inner) and layer.layers:
        proj = projection(shape, inner)
        if len(shape) != len(inner):
            _add(result, path, "layers", "the inner layers turn an image into a flat vector; "
                 "a shortcut cannot bridge that (put flatten before the block)", where)
            out = None
        elif mode == "identity" and shape != inner:
            _add(result, path, "shortcut", f"an identity shortcut needs the inner layers to "
                 f"keep the shape {fmt_shape(shape)}, but they give {fmt_shape(inner)}", where)
            out = None
        elif (mode == "projection" or shape != inner) and proj is None:
            _add(result, path, "shortcut", f"no 1x1 projection maps {fmt_shape(shape)} to "
                 f"{fmt_shape(inner)}", where)
            out = None
        elif mode == "projection" or shape != inner:
            params = proj[1]
    result.layers.append(LayerInfo(path, name, "residual", layer.activation, shape, out,
                                   params + activation_params(layer)))
    return out


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
