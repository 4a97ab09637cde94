"""``desklab search``: random search, log-uniform, coarse to fine, on Optuna.

Prints each trial (its values, validation accuracy, or validation loss for a
regression, coarse or fine stage, pruned or not), the best, and the design's own
setting measured the same way; ``--json`` writes it all. ``--storage`` points
several processes or machines at one Optuna database.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from .common import CliError, fetch_dataset, load_input, write_text


def add_search_parser(sub, design_args) -> None:
    p = sub.add_parser("search", help="search the learning rate and L2 (or other settings)")
    design_args(p)
    p.add_argument("--trials", type=int, default=12, metavar="N")
    p.add_argument("--param", action="append", metavar="NAME=LOW:HIGH[:log|lin]",
                   help="a setting to search (repeatable; default lr=1e-5:1e-1:log and "
                        "l2=1e-6:1e-1:log)")
    p.add_argument("--storage", metavar="URL", help="an Optuna storage URL shared by "
                   "several searchers (default: SQLite in the runs folder)")
    p.add_argument("--study", metavar="NAME", help="the study's name (join it if it exists "
                   "in --storage)")
    p.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1), metavar="K",
                   help="parallel processes (default: the cores, at most 4; never more "
                        "than the cores or the trials)")
    p.add_argument("--steps", type=int, metavar="N", help="training steps per trial")
    p.add_argument("--json", metavar="PATH", help="write the search JSON ('-' = stdout)")
    p.set_defaults(func=cmd_search)


def cmd_search(args: argparse.Namespace) -> int:
    from ..experiments.search import DEFAULT_SPACE, SearchError, Space, run_search
    if not 1 <= args.trials <= 10000:
        raise CliError("--trials must be between 1 and 10000")
    design = load_input(args)
    fetch_dataset(design)
    try:
        spaces = tuple(Space.parse(t) for t in args.param) if args.param else DEFAULT_SPACE
        result = run_search(design, spaces, args.trials, args.storage, args.jobs,
                            args.study)
    except SearchError as exc:
        raise CliError(str(exc)) from None
    out = sys.stderr if args.json == "-" else sys.stdout
    names, label = [s.name for s in spaces], result["score"]["label"]
    print(f"{design.name}: {len(result['trials'])} trials, study {result['study']}",
          file=out)
    print("  #  stage   " + "  ".join(f"{n:>10}" for n in names) + f"  {label:>8}  state",
          file=out)
    for t in result["trials"]:
        values = "  ".join(f"{t['params'].get(n, float('nan')):10.3g}" for n in names)
        print(f"{t['number']:>3}  {t['stage'] or '':<6}  {values}  {_shown(t['value']):>8}  "
              f"{t['state']}" + (f" ({t['error']})" if t.get("error") else ""), file=out)
    base, best = result["baseline"], result["best"]
    own = "  ".join(f"{n} {base['params'][n]:.3g}" for n in names)
    print(f"the design's own setting ({own}): {label} {_shown(base['value'])}", file=out)
    if best is not None:
        verdict = "beats it" if result["beats_baseline"] else "could not beat it"
        values = "  ".join(f"{n} {best['params'][n]:.3g}" for n in names)
        print(f"best: trial {best['number']} ({values}): {label} {_shown(best['value'])}; "
              f"the search {verdict}", file=out)
    if args.json:
        write_text(args.json, json.dumps(result, indent=1) + "\n", "the search")
    return 0


def _shown(value) -> str:
    """A trial's score, or "-" where it has none (failed, cancelled, diverged)."""
    if value is None:
        return "-"
    return f"{value:.3f}" if value == 0 or abs(value) >= 1e-3 else f"{value:.3g}"
