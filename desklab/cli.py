"""The command line: the GUI launcher and headless commands.

Bad input never produces a traceback: every user error prints one line
``desklab: <what is wrong>`` on stderr and exits 2.
"""

from __future__ import annotations

import argparse
import sys

from .cli_common import EXIT_USAGE, CliError, _Parser, load_input, write_text
from .errors import DeskLabError


def cmd_presets(args: argparse.Namespace) -> int:
    from .lessons import PRESETS
    width = max(len(s) for s in PRESETS)
    for slug, preset in PRESETS.items():
        print(f"{slug:<{width}}  {preset.summary}")
    return 0


def cmd_probe(args: argparse.Namespace) -> int:
    design = load_input(args)
    from .engine import describe_device, probe_at_init
    from .engine.device import DeviceError
    from .metrics.report import layer_table, probe_report, to_json
    try:
        snapshot, model, device = probe_at_init(design, device=design.train.device)
    except DeviceError as exc:
        raise CliError(str(exc)) from None
    report = probe_report(design.name, describe_device(device), design.train.seed,
                          model.total_params, snapshot)
    table_out = sys.stderr if args.json == "-" else sys.stdout
    print(f"{design.name}: {model.total_params:,} parameters, loss {snapshot.loss:.4f}, "
          f"device {describe_device(device)}", file=table_out)
    print(layer_table(snapshot), file=table_out)
    if args.json:
        write_text(args.json, to_json(report), "the report")
    return 0


def cmd_gui(args: argparse.Namespace) -> int:
    from .gui.app import run_gui
    return run_gui(args)


def _design_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("design", nargs="?", help="a design JSON file")
    p.add_argument("--preset", metavar="NAME", help="a preset (see 'desklab presets')")
    p.add_argument("--seed", type=int, metavar="N", help="random seed (overrides the design)")
    p.add_argument("--data", metavar="PATH",
                   help="train on your own data: CSV, NPZ (X, y) or MNIST IDX file/folder")
    p.add_argument("--label", metavar="COLUMN", help="CSV label column (default: the last)")
    p.add_argument("--force", action="store_true",
                   help="replace output files even if they are read-only")


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="desklab", description="DeskLab: design a network and watch "
                     "every layer train. With no command, opens the app.")
    from . import __version__
    parser.add_argument("--version", action="version", version=f"desklab {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    p = sub.add_parser("presets", help="list the preset experiments")
    p.set_defaults(func=cmd_presets)

    p = sub.add_parser("probe", help="measure every layer at init (one forward + backward)")
    _design_args(p)
    p.add_argument("--json", metavar="PATH", help="write the report JSON ('-' = stdout)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"))
    p.set_defaults(func=cmd_probe)

    from .train_cli import add_train_parser
    add_train_parser(sub, _design_args)

    from .export_cli import add_export_parser
    add_export_parser(sub, _design_args)

    p = sub.add_parser("gui", help="open the app")
    _design_args(p)
    p.add_argument("--train-steps", type=int, metavar="N", default=0,
                   help="train N steps on launch (with --screenshot: before the shot)")
    p.add_argument("--screenshot", metavar="PATH",
                   help="save a PNG of the window once populated, then exit")
    p.set_defaults(func=cmd_gui)
    return parser


def _one_line(exc: BaseException) -> str:
    """The message on one line, printable on any terminal (lone surrogates escaped)."""
    text = " ".join(str(exc).split())
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        parser = make_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            args = parser.parse_args(["gui", *argv])
        from .util.files import replace_read_only
        token = replace_read_only.set(bool(getattr(args, "force", False)))
        try:
            return args.func(args)
        finally:
            replace_read_only.reset(token)
    except DeskLabError as exc:  # CliError and every reader's error: one line, exit 2
        print(f"desklab: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # a file system refusal the command did not anticipate
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"desklab: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("desklab: interrupted", file=sys.stderr)
        return 130


def gui_main() -> int:
    """Entry point of the ``desklab-gui`` script: ``desklab gui`` with its arguments."""
    return main(["gui", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
