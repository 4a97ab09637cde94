"""``desklab runs``: list, show and export the runs in the run store.

A run is any training DeskLab recorded: one trained in the app or with ``desklab
train``, or a user's own script under ``desklab.watch``. ``show --json`` writes the same
``desklab.report/1`` report as ``desklab train --json``; layers of a watched model are
named by module path (``features.0``). ``compare`` puts several runs in one table (and
their curves in one CSV), as the app's compare window letters them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .common import CliError, terminal_safe, write_text


def add_runs_parser(sub, design_args) -> None:
    p = sub.add_parser("runs", help="list, show and export recorded runs")
    verbs = p.add_subparsers(dest="verb", parser_class=type(p))
    q = verbs.add_parser("list", help="every run in the runs folder, newest first")
    q.add_argument("--root", metavar="DIR", help="the runs folder (default: $DESKLAB_RUNS "
                   "or the user data folder)")
    _remote_args(q)
    q.set_defaults(func=cmd_list)
    q = verbs.add_parser("show", help="a run's summary, last layer table and findings")
    q.add_argument("run", help="a run file, or part of a run's name in the runs folder")
    q.add_argument("--json", metavar="PATH", help="write the desklab.report/1 JSON")
    _remote_args(q)
    q.add_argument("--follow", action="store_true", help="with --remote: read the run "
                   "as it is written, to its end (reconnecting when the server is lost)")
    q.set_defaults(func=cmd_show)
    q = verbs.add_parser("export", help="a run's per-layer CSV or TensorBoard logs")
    q.add_argument("run")
    _remote_args(q)
    q.add_argument("--csv", metavar="PATH", help="one row per probed step and layer")
    q.add_argument("--tensorboard", metavar="DIR", help="TensorBoard event files")
    q.set_defaults(func=cmd_export)
    q = verbs.add_parser("compare", help="several runs side by side: a row each, and "
                         "with --csv every run's curves step by step")
    q.add_argument("runs", nargs="+", metavar="run", help="two or more runs (files, or "
                   "parts of names in the runs folder), lettered A, B, C... in this order")
    q.add_argument("--csv", metavar="PATH", help="every run's loss, accuracy and lr per "
                   "step, one row per run and step ('-' = stdout)")
    _remote_args(q)
    q.set_defaults(func=cmd_compare)
    p.set_defaults(func=lambda args: cmd_list(argparse.Namespace(root=None, remote=None)))


def _remote_args(q) -> None:
    q.add_argument("--remote", metavar="URL", help="a run store served by 'desklab serve' "
                   "(http://localhost:6008 through an SSH tunnel)")
    q.add_argument("--token", help="the token 'desklab serve' printed (default "
                   "$DESKLAB_TOKEN)")


def _open(run: str, args=None):
    from ..runs import RunReader
    from ..runs.folder import resolve_run
    if args is not None and args.remote:
        from ..runs.remote import RemoteRun, find_remote
        found = find_remote(args.remote, run, args.token)
        return RemoteRun(args.remote, found["id"], args.token, found["name"])
    try:
        return RunReader(resolve_run(run))
    except (FileNotFoundError, ValueError) as exc:
        raise CliError(str(exc)) from None


def _remote_list(args: argparse.Namespace) -> int:
    from ..runs.remote import remote_runs
    for r in remote_runs(args.remote, args.token):
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(float(r.get("started") or 0)))
        print(terminal_safe(f"{when}  {r.get('status', '?'):<11} {r.get('steps', 0):>8,} "
                            f"steps  {r.get('source', '?'):<8} {r['name']:<24} {r['id']}"))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    if getattr(args, "remote", None):
        return _remote_list(args)
    from ..runs import list_runs
    from ..runs.folder import runs_root
    root = args.root or runs_root()
    runs = list_runs(root)
    if not runs:
        print(f"no runs in {root}")
        return 0
    wide = min(max([24, *(len(i.name) for i in runs)]), 48)  # paths line up after names
    for info in runs:
        if info.status == "unreadable":
            print(terminal_safe(f"{'':16}  unreadable  {info.path}: {info.problem}"))
            continue
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.started))
        print(terminal_safe(f"{when}  {info.status:<11} {info.steps:>8,} steps  "
                            f"{info.source:<8} {info.name:<{wide}} {info.path}"))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from ..metrics.report import layer_table, most_confused, to_json
    from ..runs.report import recorded_report
    if args.follow and not args.remote:
        raise CliError("--follow reads a run from 'desklab serve': give --remote URL")
    reader = _open(args.run, args)
    wal_missing = reader.wal_missing
    _refuse_to_overwrite(args.json, reader, args,
                         f"--json {args.json} is the run itself: give another file")
    try:
        history = _followed(reader) if args.follow else reader.history()
        report = recorded_report(reader, history)
        meta = reader.meta
    finally:
        reader.close()
    from ..runs.checks import not_run
    from ..runs.folder import threads_note, wal_note
    out = sys.stderr if args.json == "-" else sys.stdout

    def say(text: str) -> None:  # a run's names and texts never drive the terminal
        print(terminal_safe(text), file=out)
    say(f"{report['design']}: {report['state']}, {report['steps']:,} steps, "
        f"{report['total_params']:,} parameters, {report['device']}")
    losses = [v for v in report["history"]["loss"] if v is not None]
    if losses:
        say(f"loss {losses[0]:.4g} at step 0 -> {losses[-1]:.4g} at the last step")
    confusion = history.confusion
    if confusion is not None:
        summary = most_confused(confusion.counts, report["confusion"].get("class_names", ()))
        say(f"validation at step {confusion.step}: {confusion.diagonal_share:.1%} on the "
            "confusion matrix's diagonal" + (f"; {summary}" if summary else ""))
    if history.latest is not None:
        say(f"layers at step {history.latest.step}:")
        say(layer_table(history.latest))
    rows = meta.get("modules") if isinstance(meta.get("modules"), list) else []
    unrun = [str(row.get("name")) for row in rows if not_run(row)]
    if unrun:
        say(f"not measured (the first step did not run them): {', '.join(unrun)}")
    for finding in history.findings:
        say(finding.told())  # as desklab train prints it: the kind, the advice too
    if meta.get("cause"):
        say(f"cause: {meta['cause']}")
    for label, note in (("threads", threads_note(meta)),
                        ("missing", wal_note(wal_missing, report["state"]))):
        if note:
            say(f"{label}: {note}")
    if args.json:
        write_text(args.json, to_json(report), "the report")
    return 0


def _followed(run):
    """The whole run, read as it is written; progress and lost connections on stderr."""
    from ..metrics import RunHistory
    from ..runs.remote import follow
    history = RunHistory(run.layout)

    def add(events) -> None:
        for kind, payload in events:
            history.record(kind, payload)
        if history.latest is not None:
            print(f"step {history.latest.step} recorded ({run.status})", file=sys.stderr,
                  flush=True)
    follow(run, add, lambda text: print(terminal_safe(text), file=sys.stderr, flush=True))
    return history


def _refuse_to_overwrite(target: str | None, reader, args, said: str) -> None:
    """Stop (closing ``reader``) before writing ``target`` over the run ``reader``
    reads; ``said``: the one line that says so. Stdout ('-') and a remote run are
    never the file."""
    if target and target != "-" and not args.remote and _same_file(target, reader.path):
        reader.close()
        raise CliError(said)


def _same_file(target: str, run) -> bool:
    """Whether writing ``target`` would replace the run file (or one of its companions),
    through a link or not."""
    real = os.path.realpath(target)
    return any(real == os.path.realpath(f"{run}{end}") for end in ("", "-wal", "-shm")) \
        or Path(real).name.endswith(".desklab-run")


def cmd_export(args: argparse.Namespace) -> int:
    if not (args.csv or args.tensorboard):
        raise CliError("give --csv PATH and/or --tensorboard DIR")
    reader = _open(args.run, args)
    for target in (args.csv, args.tensorboard):
        _refuse_to_overwrite(target, reader, args,
                             f"{target} is the run itself: give another file")
    try:
        events = reader.all_events()
    finally:
        reader.close()
    snapshots = [p for kind, p in events if kind == "snapshot"]
    if args.csv:
        from ..metrics.report import snapshots_csv
        write_text(args.csv, snapshots_csv(snapshots), "the CSV")
    if args.tensorboard:
        from ..engine.tensorboard_log import TensorBoardLogger
        logger = TensorBoardLogger(args.tensorboard)
        for kind, payload in events:
            if kind == "snapshot":
                logger.add_snapshot(payload)
            elif kind == "metrics":
                logger.add_metrics(payload)
        logger.close()
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from ..metrics.comparison import comparison_table, curves_csv
    if len(args.runs) < 2:
        raise CliError("give two runs or more to compare ('desklab runs show' shows one)")
    runs, states = [], []
    for run in args.runs:  # each read whole before the next: a bad one stops it here
        reader = _open(run, args)
        _refuse_to_overwrite(args.csv, reader, args,
                             f"--csv {args.csv} is a run itself: give another file")
        try:
            history, meta = reader.history(), reader.meta
        finally:
            reader.close()
        runs.append((str(meta.get("name") or Path(str(run)).stem), history))
        states.append(str(meta.get("status") or "?"))
    out = sys.stderr if args.csv == "-" else sys.stdout
    print(terminal_safe(comparison_table(runs, states)), file=out)
    if args.csv:
        write_text(args.csv, curves_csv(runs), "the CSV")
    return 0
