"""The command line's entry points: the parser of every command, and one-line errors.

Bad input never produces a traceback: every user error prints one line
``desklab: <what is wrong>`` on stderr and exits 2.
"""

from __future__ import annotations

import argparse
import os
import sys

from ..errors import DeskLabError
from .common import EXIT_USAGE, _Parser, terminal_safe
from .datasets import add_datasets_parser
from .export import add_export_parser
from .gui import add_gui_parser
from .landscape import add_landscape_parser
from .probe import add_probe_parsers
from .runs import add_runs_parser
from .search import add_search_parser
from .serve import add_serve_parser
from .train import add_train_parser


def _design_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("design", nargs="?", help="a design JSON file")
    p.add_argument("--preset", metavar="NAME", help="a preset (see 'desklab presets')")
    p.add_argument("--seed", type=int, metavar="N", help="random seed (overrides the design)")
    p.add_argument("--data", metavar="PATH",
                   help="train on your own data: CSV, NPZ (X, y) or MNIST IDX file/folder")
    p.add_argument("--label", metavar="COLUMN", help="CSV label column (default: the last)")
    p.add_argument("--data-root", metavar="DIR", help="where MNIST, CIFAR-10... are kept and "
                   "downloaded (default: $DESKLAB_DATA or the user data folder)")
    p.add_argument("--force", action="store_true",
                   help="replace output files even if they are read-only")


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="desklab", description="DeskLab: design a network and watch "
                     "every layer train. With no command, opens the app.")
    from .. import __version__
    parser.add_argument("--version", action="version", version=f"desklab {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    for add_parser in (add_probe_parsers, add_train_parser, add_export_parser,
                       add_gui_parser, add_datasets_parser, add_runs_parser,
                       add_landscape_parser, add_search_parser):
        add_parser(sub, _design_args)
    add_serve_parser(sub)
    return parser


def _one_line(exc: BaseException) -> str:
    """The message on one line, printable on any terminal (controls escaped)."""
    return terminal_safe(" ".join(str(exc).split()))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        parser = make_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            args = parser.parse_args(["gui", *argv])
        from ..util.files import replace_read_only
        token = replace_read_only.set(bool(getattr(args, "force", False)))
        try:
            code = args.func(args)
            sys.stdout.flush()  # here, where a closed pipe is caught, not at exit
            return code
        finally:
            replace_read_only.reset(token)
    except BrokenPipeError:  # the reader left early (`desklab presets | head`): quietly,
        _stdout_to_devnull()  # and with the status of a program that SIGPIPE ended
        return 128 + 13
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


def _stdout_to_devnull() -> None:
    """What is still buffered for the closed pipe goes nowhere, instead of failing again
    when Python flushes stdout at exit (the Python docs' recipe for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file behind stdout (tests)
        pass


def gui_main() -> int:
    """Entry point of the ``desklab-gui`` script: ``desklab gui`` with its arguments."""
    return main(["gui", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
