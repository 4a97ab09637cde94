"""Design files: JSON with a format version, strict on structure, atomic on save.

Loading rejects anything that is not a design this version understands
(wrong format, unknown fields, wrong JSON types) with one readable
`DesignFileError`. Values of the right type but out of range load fine and are
reported by `analyze`, so an editor can open a design saved half-finished and
show what is wrong; the CLI refuses to run such a design.

Design files are data only: nothing read from them is ever executed. The file
safety (bounded reads, atomic saves through links) is `desklab.util.files`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import DeskLabError
from ..util.files import atomic_write_text, read_regular_file
from .catalog import (
    ACTIVATIONS,
    COMMON,
    DATASETS,
    INITS,
    LAYER_KINDS,
    MAX_LAYERS,
    TRAIN_PARAMS,
)
from .model import InputSpec, LayerSpec, NetworkDesign, OutputSpec, TrainConfig
from .schema import Param

FORMAT = "desklab.design/1"
MAX_FILE_BYTES = 10 * 2**20


class DesignFileError(DeskLabError, ValueError):
    """A design file or document that cannot be loaded; the message says why."""


# ---------------------------------------------------------------- to JSON

def design_to_dict(design: NetworkDesign) -> dict[str, Any]:
    """The JSON document of ``design`` (plain dicts and lists)."""
    inp = design.input
    return {
        "format": FORMAT,
        "name": design.name,
        "description": design.description,
        "input": {"dataset": inp.dataset, "params": dict(inp.params),
                  "shape": list(inp.shape) if inp.shape else None,
                  "val_fraction": inp.val_fraction, "preprocess": inp.preprocess},
        "layers": [_layer_to_dict(l) for l in design.layers],
        "output": {"task": design.output.task, "size": design.output.size,
                   "init": design.output.init, "init_params": dict(design.output.init_params)},
        "train": design.train.as_dict(),
    }


def _layer_to_dict(layer: LayerSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": layer.kind}
    if layer.name:
        out["name"] = layer.name
    out.update(layer.params)
    entry = LAYER_KINDS.get(layer.kind)
    common = entry.meta["common"] if entry else ()
    if "activation" in common:
        out["activation"] = layer.activation
        if layer.activation_params:
            out["activation_params"] = dict(layer.activation_params)
    if "init" in common:
        out["init"] = layer.init
        if layer.init_params:
            out["init_params"] = dict(layer.init_params)
    for key in ("norm", "norm_position", "dropout", "bias"):
        if key in common:
            out[key] = getattr(layer, key)
    if layer.kind == "residual":
        out["layers"] = [_layer_to_dict(l) for l in layer.layers]
    return out


def dumps(design: NetworkDesign) -> str:
    return json.dumps(design_to_dict(design), indent=2) + "\n"


def save_design(design: NetworkDesign, path: str | os.PathLike) -> None:
    """Write ``design`` atomically: a temp file in the same folder, then a rename."""
    atomic_write_text(Path(path), dumps(design))


def load_design(path: str | os.PathLike) -> NetworkDesign:
    """Read a design file; raise `DesignFileError` with a readable reason."""
    path = Path(path)
    try:
        raw = read_regular_file(path, MAX_FILE_BYTES)
    except ValueError as exc:
        raise DesignFileError(f"{path} {exc}") from None
    except FileNotFoundError:
        raise DesignFileError(f"{path}: no such file") from None
    except PermissionError:
        raise DesignFileError(f"{path}: permission denied") from None
    except OSError as exc:
        raise DesignFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not raw.strip():
        raise DesignFileError(f"{path} is empty")
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark is fine, as for CSV files
    except UnicodeDecodeError:
        raise DesignFileError(f"{path} is not a text file (not UTF-8)") from None
    try:
        return loads(text)
    except DesignFileError as exc:
        raise DesignFileError(f"{path}: {exc}") from None


def loads(text: str) -> NetworkDesign:
    """Parse a design document from a JSON string."""
    try:
        doc = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise DesignFileError(f"not valid JSON (line {exc.lineno}, column {exc.colno}: "
                              f"{exc.msg})") from None
    except RecursionError:
        raise DesignFileError("not valid JSON (nested too deeply)") from None
    except ValueError as exc:  # a number of thousands of digits (int conversion limit)
        raise DesignFileError(f"not a usable design ({str(exc).split(':')[0]})") from None
    _check_text(doc)
    return design_from_dict(doc)


def _check_text(value: Any) -> None:
    """Every string must be real Unicode: JSON allows lone surrogates ("\\ud800"), which
    no file, terminal or widget can show (printing one raised UnicodeEncodeError)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                shown = item.encode("utf-8", "backslashreplace").decode("utf-8")
                raise DesignFileError(f"the text {shown!r} holds an invalid character "
                                      f"(a lone surrogate)") from None
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _no_constant(name: str):
    """NaN and Infinity are not JSON; Python's parser accepts them, a design does not."""
    raise DesignFileError(f"{name} is not a number a design can hold")


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
