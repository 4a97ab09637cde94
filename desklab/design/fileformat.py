"""Design files: JSON with a format version, strict on structure, atomic on save.

Loading rejects anything that is not a design this version understands with one
readable `DesignFileError`: here the text (size, encoding, JSON, NaN, lone
surrogates), in ``from_json`` the document's structure and types.

Design files are data only: nothing read from them is ever executed. The file
safety (bounded reads, atomic saves through links) is `desklab.util.files`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..util.files import atomic_write_text, read_regular_file
from .from_json import FORMAT, DesignFileError, design_from_dict
from .catalog import LAYER_KINDS
from .model import LayerSpec, NetworkDesign

MAX_FILE_BYTES = 10 * 2**20

__all__ = ["FORMAT", "DesignFileError", "design_from_dict", "design_to_dict", "dumps",
           "load_design", "loads", "save_design"]


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
