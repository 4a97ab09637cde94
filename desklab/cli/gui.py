"""``desklab gui`` (and ``desklab-gui``): check the input and the display, open the app."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .common import CliError, load_input


def add_gui_parser(sub, design_args) -> None:
    p = sub.add_parser("gui", help="open the app")
    design_args(p)
    p.add_argument("--train-steps", type=int, metavar="N", default=0,
                   help="train N steps on launch (with --screenshot: before the shot)")
    p.add_argument("--screenshot", metavar="PATH",
                   help="save a PNG of the window once populated, then exit")
    p.set_defaults(func=cmd_gui)


def cmd_gui(args: argparse.Namespace) -> int:
    # everything that can be wrong with the input is said here, on one line, before Qt
    design = load_input(args) if (args.design or args.preset) else None
    has_display = any(os.environ.get(k) for k in ("DISPLAY", "WAYLAND_DISPLAY"))
    if not has_display and not os.environ.get("QT_QPA_PLATFORM") and sys.platform.startswith(
            "linux"):
        if not args.screenshot:
            raise CliError("no display found: set DISPLAY (or run with --screenshot, or "
                           "QT_QPA_PLATFORM=offscreen)")
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a screenshot needs no screen
    from ..gui.app import run_gui
    path = Path(args.design) if args.design and design is not None else None
    return run_gui(design, path, screenshot=args.screenshot, train_steps=args.train_steps)
