"""What every command shares: the user-error type, loading the design named on the
command line, and writing an output file. Its own module, so the commands and the
GUI launcher import it without importing `desklab.cli` back (no import cycle)."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from ..design import DesignFileError, NetworkDesign, analyze, load_design
from ..errors import DeskLabError

EXIT_USAGE = 2


class CliError(DeskLabError):
    """A user error: printed as one line, exit code 2."""


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # all but tab and newline


def terminal_safe(text: str) -> str:
    """``text`` with control bytes (ESC, BEL... which a terminal would act on, from a
    run's name or a file's) and lone surrogates written as escapes."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line instead of usage + message
        raise CliError(message)


def load_input(args: argparse.Namespace) -> NetworkDesign:
    """The design named on the command line (file or --preset), validated."""
    if getattr(args, "preset", None):
        from ..lessons import get_preset
        if args.design:
            raise CliError("give a design file or --preset, not both")
        try:
            design = get_preset(args.preset)
        except KeyError as exc:
            raise CliError(exc.args[0]) from None
    elif args.design:
        try:
            design = load_design(args.design)
        except DesignFileError as exc:
            raise CliError(str(exc)) from None
    else:
        raise CliError("give a design file or --preset NAME (see 'desklab presets')")
    if getattr(args, "seed", None) is not None:
        design.train.seed = args.seed
    if getattr(args, "data_root", None):
        from ..util.data_root import set_data_root
        set_data_root(args.data_root)
    if getattr(args, "data", None):
        # your own data replaces the design's: the head adapts to its classes
        design.input.dataset = "file"
        design.input.params = {"path": args.data, "label": args.label or ""}
        design.output.size = None
        from ..design.datafile import DataFileError, inspect_data
        try:
            design.output.task = inspect_data(args.data, args.label or "").task
        except DataFileError as exc:
            raise CliError(str(exc)) from None
    for key in ("steps", "probe_every", "device", "cuda_graphs"):
        value = getattr(args, key, None)
        if value is not None:
            setattr(design.train, key, value)
    analysis = analyze(design)
    if not analysis.ok:
        more = len(analysis.problems) - 1
        raise CliError(f"invalid design: {analysis.problems[0]}"
                       + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""))
    return design


def write_text(path: str, text: str, what: str) -> None:
    """Write ``text`` to ``path`` ('-' = stdout) atomically."""
    if path == "-":
        sys.stdout.write(text)
        return
    from ..util.files import atomic_write_text
    try:
        atomic_write_text(Path(path), text)
    except OSError as exc:
        raise CliError(f"cannot write {what} to {path}: {exc.strerror or exc}") from None


def fetch_dataset(design: NetworkDesign) -> None:
    """Download the design's real dataset if the data folder lacks it, with a progress
    bar on a terminal; no network gives one line that names the folder (exit 2)."""
    from ..design import DATASETS
    real = DATASETS[design.input.dataset].meta.get("real")
    if real is None:
        return
    from ..engine.download import ensure_dataset
    from ..engine.real_data import missing_files
    from ..util.data_root import data_root
    root = data_root()
    if not missing_files(real, root):
        return
    bar = _ProgressBar(f"downloading {real.label} ({real.megabytes} MB) into {root}")
    ensure_dataset(real.name, root, bar.update)
    bar.done()


class _ProgressBar:
    """One updating line on a terminal; a start and an end line otherwise."""

    def __init__(self, title: str):
        self.title, self.tty = title, sys.stderr.isatty()
        self.shown = -1
        self.started = False

    def update(self, done: int, total: int) -> None:
        if not self.started:  # said once bytes arrive: offline, the error is the one line
            self.started = True
            print(f"desklab: {self.title}", file=sys.stderr)
        if not self.tty or not total:
            return
        percent = int(100 * done / total)
        if percent != self.shown:
            self.shown = percent
            bar = "#" * (percent // 4)
            print(f"\r  [{bar:<25}] {percent:3d}%  {done / 2**20:6.1f} / "
                  f"{total / 2**20:.1f} MB", end="", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.tty and self.shown >= 0:
            print(file=sys.stderr)
        if self.started:
            print("desklab: download complete", file=sys.stderr)
