"""Design files: JSON with a format version, strict on structure, atomic on save.

Loading rejects anything that is not a design this version understands
(wrong format, unknown fields, wrong JSON types) with one readable
`DesignFileError`. Values of the right type but out of range load fine and are
reported by `analyze`, so an editor can open a design saved half-finished and
show what is wrong; the CLI refuses to run such a design.

Design files are data only: nothing read from them is ever executed.
"""

from __future__ import annotations

import contextlib
import contextvars
import glob
import json
import os
import stat
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

from ..errors import DeskLabError
from .catalog import (
    ACTIVATIONS, COMMON, DATASETS, INITS, LAYER_KINDS, MAX_LAYERS, TRAIN_PARAMS,
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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_replace(tmp: str | os.PathLike, path: str | os.PathLike) -> None:
    """Rename ``tmp`` over ``path``, giving it the old file's permissions (or the
    umask's default for a new file): mkstemp makes temp files private (0600)."""
    try:
        mode = os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    os.chmod(tmp, mode)
    os.replace(tmp, path)


# Set (by the CLI's --force, or the GUI after asking) to let saves replace read-only
# files; the replacement keeps the read-only permissions.
replace_read_only: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "replace_read_only", default=False)


def writable_target(path: str | os.PathLike) -> Path:
    """The file a save to ``path`` must replace: a symlink is followed to its target
    (the link stays a link and the real file gets the new content). Refuses, with
    OSError, a folder, a device or pipe, a read-only file and a missing folder."""
    target = Path(os.path.realpath(path))
    try:
        info = os.stat(target)
    except FileNotFoundError:
        if not target.parent.is_dir():
            raise OSError(f"{path}: the folder {target.parent} does not exist") from None
        return target
    if stat.S_ISDIR(info.st_mode):
        raise OSError(f"{path} is a folder")
    if not stat.S_ISREG(info.st_mode):
        raise OSError(f"{path} is not a regular file (a device, pipe or socket): "
                      "not replaced")
    if not info.st_mode & 0o222 and not replace_read_only.get():
        raise OSError(f"{path} is read-only: not replaced (make it writable, save under "
                      "another name, or add --force on the command line)")
    return target


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[str]:
    """A temporary path beside ``path`` to write to. When the block ends normally the
    file is renamed over ``path``; on any error it is removed. Either way a crash
    leaves the old file or the new one, never half of one. Writes go through
    symlinks to the real file (see `writable_target`)."""
    path = writable_target(path)
    _remove_orphans(path, suffix)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield tmp
        atomic_replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


ORPHAN_AGE_S = 600  # a temp file this old is not a save in progress in another process


def _remove_orphans(path: Path, suffix: str) -> None:
    """Delete temp files an earlier, killed save to ``path`` left beside it (only ours:
    named ``.{name}.<random>{suffix}``, and only old ones)."""
    now = time.time()
    for orphan in path.parent.glob(f".{glob.escape(path.name)}.*{glob.escape(suffix)}"):
        try:
            info = orphan.lstat()
            if stat.S_ISREG(info.st_mode) and now - info.st_mtime > ORPHAN_AGE_S:
                orphan.unlink()
        except OSError:
            pass  # gone already, or not ours to remove: leave it


def atomic_write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that a crash leaves the old or the new file."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


# ---------------------------------------------------------------- from JSON

def read_regular_file(path: str | os.PathLike, limit: int) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes.

    Opened non-blocking, so a FIFO never hangs the caller, and checked with fstat on
    the open file (``st_size`` is 0 for FIFOs and devices, so it cannot be trusted
    alone); at most ``limit + 1`` bytes are read, so ``/dev/zero`` cannot exhaust
    memory. Raises OSError, or ValueError with a plain reason.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ValueError("is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("is not a regular file (a pipe, socket or device)")
        if info.st_size > limit:
            raise ValueError(f"is {info.st_size / 2**20:.0f} MB: too large "
                             f"(at most {limit / 2**20:.0f} MB)")
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise ValueError(f"is larger than {limit / 2**20:.0f} MB: too large")
        return b"".join(chunks)
    finally:
        os.close(fd)


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
