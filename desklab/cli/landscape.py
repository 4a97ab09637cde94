"""``desklab landscape``: the loss landscape of a design, trained or from saved weights.

Prints the summary numbers (local-minima share, roughness, |lambda_min / lambda_max|)
and writes the grid, its axes, the 1-D slice and the interpolation from the initial
weights as ``desklab.landscape/1`` JSON.
"""

from __future__ import annotations

import argparse
import json
import sys

from .common import CliError, fetch_dataset, load_input, write_text


def add_landscape_parser(sub, design_args) -> None:
    p = sub.add_parser("landscape", help="the loss surface around the trained weights")
    design_args(p)
    p.add_argument("--steps", type=int, metavar="N",
                   help="train N steps first (default: the design's; 0 = at init)")
    p.add_argument("--weights", metavar="PATH", help="use saved weights instead of training")
    p.add_argument("--grid", type=int, default=21, metavar="N", help="N x N points (21)")
    p.add_argument("--span", type=float, default=1.0, help="directions scaled -span..span")
    p.add_argument("--json", metavar="PATH", help="write the landscape JSON ('-' = stdout)")
    p.set_defaults(func=cmd_landscape)


def cmd_landscape(args: argparse.Namespace) -> int:
    if not 3 <= args.grid <= 201:
        raise CliError("--grid must be between 3 and 201")
    if not 0 < args.span <= 100:
        raise CliError("--span must be above 0 and at most 100")
    steps = args.steps
    if steps is not None and steps < 0:
        raise CliError("--steps must be 0 (at init) or more")
    args.steps = steps or None  # 0 is not a design's step count: the landscape's own
    design = load_input(args)
    fetch_dataset(design)
    from ..engine.landscape_run import landscape_report, summary_text
    weights = None
    if args.weights:
        from ..engine.weights import load_weights
        weights = load_weights(args.weights)
    out = sys.stderr if args.json == "-" else sys.stdout
    total = args.grid * args.grid

    def progress(done: int, _total: int) -> bool:
        if out.isatty():
            print(f"\r  surface {done}/{total}", end="", file=out, flush=True)
        return True

    report = landscape_report(design, steps, weights, args.grid, args.span,
                              design.train.seed, progress)
    if out.isatty():
        print(file=out)
    s = report["summary"]
    ratio = s["abs_min_over_max"]
    print(f"{design.name}: loss landscape {report['weights']}, {args.grid} x {args.grid} "
          f"over filter-normalised directions (span {args.span:g})", file=out)
    print(f"  centre loss {summary_text(s['centre_loss'], '.4g')}; local minima "
          f"{summary_text(s['local_minima_share'], '.1%')} of the grid; roughness "
          f"{summary_text(s['roughness'], '.3f')}", file=out)
    print(f"  Hessian: lambda_max {summary_text(s['lambda_max'], '.4g')}, lambda_min "
          f"{summary_text(s['lambda_min'], '.4g')}"
          + (f", |min / max| {ratio:.3g}" if ratio is not None else ""), file=out)
    if s["centre_loss"] is None:
        print("  the loss is not a number at these weights (the run diverged): the surface "
              "holds only the points where it is finite", file=out)
    if args.json:
        write_text(args.json, json.dumps(report, indent=1) + "\n", "the landscape")
    return 0

