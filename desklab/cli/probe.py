"""``desklab presets`` and ``desklab probe``: the lessons, and every layer at init."""

from __future__ import annotations

import argparse
import sys

from .common import CliError, fetch_dataset, load_input, write_text


def add_probe_parsers(sub, design_args) -> None:
    p = sub.add_parser("presets", help="list the preset experiments")
    p.set_defaults(func=cmd_presets)
    p = sub.add_parser("probe", help="measure every layer at init (one forward + backward)")
    design_args(p)
    p.add_argument("--json", metavar="PATH", help="write the report JSON ('-' = stdout)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"))
    p.set_defaults(func=cmd_probe)


def cmd_presets(args: argparse.Namespace) -> int:
    from ..lessons import GROUPS, PRESETS
    width = max(len(s) for s in PRESETS)
    for number, (group, slugs) in enumerate(GROUPS.items()):
        print(("\n" if number else "") + group)  # the lessons browser's sections
        for slug in slugs:
            print(f"  {slug:<{width}}  {PRESETS[slug].summary}")
    return 0


def cmd_probe(args: argparse.Namespace) -> int:
    design = load_input(args)
    fetch_dataset(design)
    from ..engine import describe_device, probe_at_init
    from ..engine.device import DeviceError
    from ..metrics.report import layer_table, probe_report, to_json
    try:
        snapshot, model, device = probe_at_init(design, device=design.train.device)
    except DeviceError as exc:
        raise CliError(str(exc)) from None
    from ..metrics import RunHistory
    from ..metrics.babysitting import init_loss_note
    history = RunHistory(snapshot.layout)  # the rules on the probe alone: what is wrong
    history.add_snapshot(snapshot)  # already at init (vanishing, collapsed, saturated)
    findings = history.update_diagnosis()
    report = probe_report(design.name, describe_device(device), design.train.seed,
                          model.total_params, snapshot)
    report["findings"] = [f.as_dict() for f in findings]
    table_out = sys.stderr if args.json == "-" else sys.stdout
    print(f"{design.name}: {model.total_params:,} parameters, loss {snapshot.loss:.4f}, "
          f"device {describe_device(device)}", file=table_out)
    print(layer_table(snapshot), file=table_out)
    note = init_loss_note(snapshot.loss, design.output_size() or 0) \
        if design.output.task == "classes" else ""  # as the app's at-init preview says
    for line in ([note] if note else []) + [f.told() for f in findings]:
        print(line, file=table_out)
    if args.json:
        write_text(args.json, to_json(report), "the report")
    return 0
