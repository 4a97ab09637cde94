"""A parsed JSON document -> `NetworkDesign`, strict on structure and types.

Anything that is not a design this version understands (wrong format, unknown fields,
wrong JSON types, too many layers) raises one readable `DesignFileError`. Values of the
right type but out of range load fine and are reported by `analyze`, so an editor can
open a design saved half-finished and show what is wrong; the CLI refuses to run it.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import DeskLabError
from .catalog import ACTIVATIONS, COMMON, DATASETS, INITS, LAYER_KINDS, MAX_LAYERS, TRAIN_PARAMS
from .model import InputSpec, LayerSpec, NetworkDesign, OutputSpec, TrainConfig
from .schema import Param

FORMAT = "desklab.design/1"


class DesignFileError(DeskLabError, ValueError):
    """A design file or document that cannot be loaded; the message says why."""


def design_from_dict(doc: Any) -> NetworkDesign:
    """Build a design from a parsed JSON document, checking structure and types."""
    _expect(doc, dict, "the document")
    fmt = doc.get("format")
    if fmt != FORMAT:
        if isinstance(fmt, str) and fmt.startswith("desklab.design/"):
            raise DesignFileError(f"format {fmt!r} is not supported (this DeskLab reads "
                                  f"{FORMAT!r})")
        raise DesignFileError(f"not a DeskLab design (\"format\" should be {FORMAT!r})")
    _known(doc, {"format", "name", "description", "input", "layers", "output", "train"},
           "the document")
    design = NetworkDesign(name=_opt(doc, "name", str, "untitled", "name"),
                           description=_opt(doc, "description", str, "", "description"))
    design.input = _input(doc.get("input", {}))
    layers = _opt(doc, "layers", list, [], "layers")
    count = sum(1 + (len(l["layers"]) if isinstance(l, dict) and isinstance(
        l.get("layers"), list) else 0) for l in layers)
    if count > MAX_LAYERS:  # refused before anything is built (the GUI made a card each)
        raise DesignFileError(f"the design has {count:,} layers; a design has at most "
                              f"{MAX_LAYERS}")
    design.layers = [_layer(l, f"layer {i + 1}", nested=False) for i, l in enumerate(layers)]
    design.output = _output(doc.get("output", {}))
    design.train = _train(doc.get("train", {}))
    return design


def _expect(value: Any, typ: type, what: str) -> None:
    if not isinstance(value, typ) or (typ is not bool and isinstance(value, bool)
                                      and typ in (int, float)):
        names = {dict: "an object", list: "a list", str: "a string", bool: "true or false"}
        raise DesignFileError(f"{what} must be {names.get(typ, typ.__name__)}")


def _known(obj: dict, allowed: set[str], what: str) -> None:
    extra = sorted(set(obj) - allowed)
    if extra:
        raise DesignFileError(f"{what} has an unknown field {extra[0]!r}")


def _opt(obj: dict, key: str, typ: type, default: Any, what: str) -> Any:
    if key not in obj:
        return default
    _expect(obj[key], typ, what)
    return obj[key]


def _typed(param: Param, value: Any, what: str) -> Any:
    """Check the JSON type of one schema value (ranges are the validator's job)."""
    ok = {
        "bool": isinstance(value, bool),
        "choice": isinstance(value, str),
        "text": isinstance(value, str),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
    }[param.kind]
    if not ok:
        kind = {"bool": "true or false", "choice": "a string", "int": "a whole number",
                "float": "a number", "text": "a string"}[param.kind]
        raise DesignFileError(f"{what}: {param.name} must be {kind}, not {json.dumps(value)}")
    return value


def _params(obj: Any, entry, what: str) -> dict:
    """A nested settings object (init_params...) checked against ``entry``'s schema."""
    _expect(obj, dict, what)
    if entry is None:
        return dict(obj)
    schema = {p.name: p for p in entry.params}
    _known(obj, set(schema), what)
    return {k: _typed(schema[k], v, what) for k, v in obj.items()}


def _input(obj: Any) -> InputSpec:
    _expect(obj, dict, "input")
    _known(obj, {"dataset", "params", "shape", "val_fraction", "preprocess"}, "input")
    inp = InputSpec()
    inp.dataset = _opt(obj, "dataset", str, inp.dataset, "input.dataset")
    inp.params = _params(obj.get("params", {}), DATASETS.get(inp.dataset), "input.params")
    inp.val_fraction = _typed(Param("val_fraction", "float", 0, ""),
                              obj.get("val_fraction", inp.val_fraction), "input")
    inp.preprocess = _opt(obj, "preprocess", str, inp.preprocess, "input.preprocess")
    shape = obj.get("shape")
    if shape is not None:
        _expect(shape, list, "input.shape")
    if shape is not None and inp.shape is not None and list(shape) != list(inp.shape):
        raise DesignFileError(f"input.shape {shape} does not match the {inp.dataset} "
                              f"dataset's {list(inp.shape)}")
    return inp


def _layer(obj: Any, what: str, nested: bool) -> LayerSpec:
    _expect(obj, dict, what)
    kind = obj.get("kind")
    if not isinstance(kind, str):
        raise DesignFileError(f"{what} needs a \"kind\" (one of {', '.join(LAYER_KINDS.names())})")
    entry = LAYER_KINDS.get(kind)
    if entry is None:
        raise DesignFileError(f"{what}: unknown layer kind {kind!r}")
    what = f"{what} ({kind})"
    common = entry.meta["common"]
    allowed = {"kind", "name"} | {p.name for p in entry.params} | set(common)
    allowed |= {"activation_params"} if "activation" in common else set()
    allowed |= {"init_params"} if "init" in common else set()
    allowed |= {"layers"} if entry.meta.get("container") and not nested else set()
    _known(obj, allowed, what)
    layer = LayerSpec.make(kind)
    layer.name = _opt(obj, "name", str, "", f"{what}: name")
    for p in entry.params:
        if p.name in obj:
            layer.params[p.name] = _typed(p, obj[p.name], what)
    for key in common:
        if key in obj:
            setattr(layer, key, _typed(COMMON[key], obj[key], what))
    if "activation_params" in obj:
        layer.activation_params = _params(obj["activation_params"],
                                          ACTIVATIONS.get(layer.activation),
                                          f"{what}: activation_params")
    if "init_params" in obj:
        layer.init_params = _params(obj["init_params"], INITS.get(layer.init),
                                    f"{what}: init_params")
    if "layers" in obj:
        _expect(obj["layers"], list, f"{what}: layers")
        layer.layers = [_layer(l, f"{what} inner layer {j + 1}", nested=True)
                        for j, l in enumerate(obj["layers"])]
    return layer


def _output(obj: Any) -> OutputSpec:
    _expect(obj, dict, "output")
    _known(obj, {"task", "size", "init", "init_params"}, "output")
    out = OutputSpec()
    out.task = _opt(obj, "task", str, out.task, "output.task")
    size = obj.get("size")
    if size is not None:
        out.size = _typed(Param("size", "int", 0, ""), size, "output")
    out.init = _opt(obj, "init", str, out.init, "output.init")
    out.init_params = _params(obj.get("init_params", {}), INITS.get(out.init),
                              "output.init_params")
    return out


def _train(obj: Any) -> TrainConfig:
    _expect(obj, dict, "train")
    schema = {p.name: p for p in TRAIN_PARAMS}
    _known(obj, set(schema), "train")
    cfg = TrainConfig()
    for key, value in obj.items():
        setattr(cfg, key, _typed(schema[key], value, "train"))
    return cfg
