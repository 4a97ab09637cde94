"""Report documents (JSON) and per-layer tables (CSV, text) from snapshots."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

import numpy as np

from ..design.data_readers import is_float_text
from .records import Confusion
from .snapshot import STATS, Snapshot

REPORT_FORMAT = "desklab.report/1"


def _num(x: float) -> float | None:
    """JSON has no NaN: unmeasured values become null."""
    return None if x is None or not math.isfinite(x) else float(x)


def layer_entries(snapshot: Snapshot) -> list[dict[str, Any]]:
    """One report entry per probe point, in network order."""
    entries = []
    for i, meta in enumerate(snapshot.layout.layers):
        s = snapshot.layer(i)
        counts = snapshot.hist[i]
        entries.append({
            "name": meta.name,
            "kind": meta.kind,
            "activation": meta.activation,
            "out_shape": list(meta.out_shape),
            "params": meta.params,
            "act": {
                "mean": _num(s["act_mean"]), "std": _num(s["act_std"]),
                "frac_zero": _num(s["frac_zero"]), "frac_dead": _num(s["frac_dead"]),
                "frac_saturated": _num(s["frac_saturated"]),
                "unit_spread": _num(s["unit_spread"]),
                "hist": {"edges": [float(e) for e in meta.hist_edges],
                         "counts": [_num(c) for c in counts[1:-1]],
                         "underflow": _num(counts[0]), "overflow": _num(counts[-1])},
            },
            "grad_out": {"norm": _num(s["grad_norm"]), "mean_abs": _num(s["grad_mean_abs"])},
            "weight": ({"std": _num(s["weight_std"]), "grad_norm": _num(s["weight_grad_norm"]),
                        "update_ratio": _num(s["update_ratio"])}
                       if meta.has_weight else None),
        })
    return entries


def probe_report(design_name: str, device: str, seed: int, total_params: int,
                 snapshot: Snapshot) -> dict[str, Any]:
    """The ``desklab.report/1`` document of one probe."""
    return {
        "format": REPORT_FORMAT,
        "design": design_name,
        "device": device,
        "seed": seed,
        "total_params": total_params,
        "step": snapshot.step,
        "loss": _num(snapshot.loss),
        "layers": layer_entries(snapshot),
    }


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, allow_nan=False) + "\n"


def _fmt(x: float, width: int = 9) -> str:
    """A table cell: a space, then the number right-aligned (init-tanh-1.0's gradients,
    1332.5992 at fc1, filled the whole cell and ran into the one before it)."""
    if x is None or not math.isfinite(x):
        text = "-"
    elif x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e3):
        text = f"{x:.2e}"
    else:
        text = f"{x:.4f}"
    return " " + text.rjust(width - 1)


def layer_table(snapshot: Snapshot) -> str:
    """A readable per-layer table for the terminal."""
    # the name column fits the longest name (a watched module path: "enc.layers.0.norm1")
    wide = max([12, *(len(m.name) for m in snapshot.layout.layers)]) + 2
    head = (f"{'layer':<{wide}}{'out shape':>12}{'params':>10}{'act std':>9}{'sat':>9}"
            f"{'zero':>9}{'‖dL/dh‖':>9}{'‖dW‖':>9}")  # L2 norms, as in the GUI's legend
    lines = [head, "-" * len(head)]
    for i, meta in enumerate(snapshot.layout.layers):
        s = snapshot.layer(i)
        shape = "x".join(str(d) for d in meta.out_shape)
        lines.append(f"{meta.name:<{wide}}{shape:>12}{meta.params:>10,}{_fmt(s['act_std'])}"
                     f"{_fmt(s['frac_saturated'])}{_fmt(s['frac_zero'])}"
                     f"{_fmt(s['grad_norm'])}{_fmt(s['weight_grad_norm'])}")
    return "\n".join(lines)


CSV_HEADER = ("step", "layer", "kind", "activation", *STATS)


def snapshot_rows(snap: Snapshot) -> list[list]:
    """The CSV rows of one snapshot: one per layer, every statistic (see CSV_HEADER)."""
    return [[snap.step, meta.name, meta.kind, meta.activation,
             *(f"{v:.6g}" for v in snap.stats[i])]
            for i, meta in enumerate(snap.layout.layers)]


def snapshots_csv(snapshots: list[Snapshot]) -> str:
    """One row per probed step and layer: step, layer, every statistic."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for snap in snapshots:
        writer.writerows(snapshot_rows(snap))
    return out.getvalue()


def _json_number(v) -> float | None:
    return float(v) if np.isfinite(v) else None


def step_history(history) -> dict[str, list]:
    """Every training step from step 0: its batch ``loss``, ``train_acc`` and ``lr``;
    ``val_loss``, ``val_acc`` and ``val_top5`` on the rows of the steps after which
    the model was evaluated (None elsewhere). Equal-length lists, JSON-ready."""
    steps, loss = history.step_series("loss")
    _, acc = history.step_series("train_acc")
    _, lr = history.step_series("lr")
    row_of = {int(s): i for i, s in enumerate(steps)}
    val = {name: [None] * len(steps) for name in ("val_loss", "val_acc", "val_top5")}
    evaluated = history.metrics.steps
    for j, done in enumerate(evaluated):
        i = row_of.get(int(done) - 1)  # evaluated after ``done`` steps: after step done-1
        if i is not None:
            for name in val:
                val[name][i] = _json_number(history.metric(name)[j])
    return {"step": [int(s) for s in steps], "loss": [_json_number(v) for v in loss],
            "train_acc": [_json_number(v) for v in acc],
            # (a watched script with no optimizer has no learning rate: None, not NaN,
            # which strict JSON refuses)
            "lr": [float(f"{v:.6g}") if np.isfinite(v) else None for v in lr], **val}


def train_report(design, trainer, history, class_names=()) -> dict[str, Any]:
    """The training report: the probe report's fields plus history, findings, timing,
    and a classification's last confusion counts (rows named by ``class_names``).

    ``design`` and ``trainer`` are read for names and numbers only (duck-typed, so
    this module stays free of torch).
    """
    if history.latest is not None:
        report = probe_report(design.name, trainer.device_name, design.train.seed,
                              trainer.model_total_params, history.latest)
    else:
        report = {"format": REPORT_FORMAT, "design": design.name,
                  "device": trainer.device_name, "seed": design.train.seed,
                  "total_params": trainer.model_total_params, "layers": []}
    report["history"] = step_history(history)
    report["evaluations"] = history.metrics_dict()
    report["findings"] = [f.as_dict() for f in history.findings]
    report["state"] = trainer.state
    report["steps"] = trainer.step
    seconds = trainer.train_seconds
    report["timing"] = {"train_seconds": seconds,
                        "steps_per_second": trainer.step / seconds if seconds > 0 else 0.0}
    if history.confusion is not None:
        report["confusion"] = confusion_entry(history.confusion, class_names)
    return report


MAX_CONFUSION_CLASSES = 100  # a confusion matrix is counted (and shown) up to this many


def confusion_entry(confusion: Confusion, class_names=()) -> dict[str, Any]:
    """The report's "confusion": a `Confusion`'s validation counts, rows the true class,
    columns the predicted one; ``class_names`` where labels have names."""
    rows = [[int(v) for v in row] for row in confusion.counts]
    entry: dict[str, Any] = {"step": confusion.step, "rows": "true class",
                             "columns": "predicted class", "counts": rows}
    if len(class_names) == len(rows):
        entry["class_names"] = list(class_names)
    return entry


def numbered_by_label(class_names) -> bool:
    """Whether the names are a file's own numeric labels ("3", "7", "9" for classes 0,
    1, 2): then each is written alone, on both axes (the network's number is noise)."""
    return bool(class_names) and all(is_float_text(n) for n in class_names)


def most_confused(counts, class_names=()) -> str | None:
    """One line on the pair mixed up most, as a share of the true class's examples:
    "most confused: 3 (cat) taken for 5 (dog) in 21% of its validation examples"."""
    rows = [[int(v) for v in row] for row in counts]
    best = None  # (share, true, predicted)
    for true, row in enumerate(rows):
        total = sum(row)
        for predicted, n in enumerate(row):
            if predicted != true and n and total and (best is None or n / total > best[0]):
                best = (n / total, true, predicted)
    if best is None:
        return None

    def name(i: int) -> str:
        if len(class_names) != len(rows):
            return str(i)
        return class_names[i] if numbered_by_label(class_names) else f"{i} ({class_names[i]})"
    return (f"most confused: {name(best[1])} taken for {name(best[2])} in {best[0]:.0%} of "
            "its validation examples")
