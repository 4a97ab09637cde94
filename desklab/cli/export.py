"""``desklab export``: the design as PyTorch code or ONNX."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import CliError, load_input, write_text


def add_export_parser(sub, design_args) -> None:
    p = sub.add_parser("export", help="export a design as PyTorch code or ONNX")
    design_args(p)
    p.add_argument("--format", choices=("pytorch", "onnx"), default="pytorch")
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="where to write ('-' = stdout, pytorch only)")
    p.add_argument("--weights", metavar="PATH",
                   help="(onnx) a state_dict from 'desklab train --save-weights'")
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    design = load_input(args)
    if args.format == "pytorch":
        from ..engine.export import export_pytorch
        write_text(args.output, export_pytorch(design), "the PyTorch file")
        return 0
    if args.output == "-":
        raise CliError("ONNX is binary: give a file with -o")
    from ..engine.onnx_export import OnnxUnavailable, export_onnx
    try:
        export_onnx(design, Path(args.output), args.weights)
    except OnnxUnavailable as exc:
        raise CliError(str(exc)) from None
    return 0
