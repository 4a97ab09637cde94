"""Checks of a run file's rows: the ``*_from_row`` functions turn one stored value into
a typed record, the ``check_*_row`` ones pass a row or raise `RunFileError` naming the
file and what is wrong (`checks` holds the file's and the meta's checks)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..metrics import Metrics, N_BINS, N_STATS
from ..metrics.records import Confusion, Finding
from ..metrics.report import MAX_CONFUSION_CLASSES
from .checks import FINDING_SEVERITIES, RunFileError, is_int, parse_json, preview


def _real(v) -> bool:  # a stored number: finite or not (NaN is written as NULL)
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))


def check_step_row(row, path: Path) -> None:
    step, loss, acc, lr = row
    if not (is_int(step) and step >= 0 and _real(loss) and _real(acc) and _real(lr)):
        raise RunFileError(f"{path}: the step row {preview(row)} is malformed")


def check_snapshot_row(row, n_layers: int | None, path: Path) -> None:
    step, loss, lr, stats, hist, written = row
    if n_layers is None:
        raise RunFileError(f"{path}: snapshots without a layout")
    if not (is_int(step) and step >= 0 and _real(loss) and _real(lr) and _real(written)
            and isinstance(stats, bytes) and isinstance(hist, bytes)):
        raise RunFileError(f"{path}: the snapshot at step {preview(step)} is malformed")
    for blob, columns, what in ((stats, N_STATS, "statistics"), (hist, N_BINS + 2,
                                                                 "histograms")):
        if len(blob) != n_layers * columns * 8:
            raise RunFileError(f"{path}: the snapshot at step {step} holds {len(blob)} bytes "
                               f"of {what}, not {n_layers} layers x {columns} x 8")


def check_time_row(step, blob, shape: tuple[int, int], path: Path) -> None:
    """A snapshot's gradient through time: (R, T) doubles."""
    if not (is_int(step) and isinstance(blob, bytes) and len(blob) == shape[0] * shape[1] * 8):
        raise RunFileError(f"{path}: the gradient through time at step {preview(step)} is "
                           f"not {shape[0]} layers x {shape[1]} steps x 8 bytes")


def confusion_from_row(step, blob, path: Path) -> Confusion:
    """A classification's confusion counts: (C, C) little-endian int64, 2 <= C <=
    `MAX_CONFUSION_CLASSES`, none negative."""
    classes = math.isqrt(len(blob) // 8) if isinstance(blob, bytes) else 0
    if not (is_int(step) and step >= 0 and 2 <= classes <= MAX_CONFUSION_CLASSES
            and len(blob) == classes * classes * 8):
        raise RunFileError(f"{path}: the confusion counts at step {preview(step)} are not "
                           f"C x C x 8 bytes (2 to {MAX_CONFUSION_CLASSES} classes)")
    counts = np.frombuffer(blob, "<i8").reshape(classes, classes).copy()
    if (counts < 0).any():
        raise RunFileError(f"{path}: the confusion counts at step {step} are negative")
    return Confusion(step, counts)


METRIC_FIELDS = ("loss", "val_loss", "train_acc", "val_acc", "train_top5", "val_top5", "lr")


def metrics_from_row(step, data, path: Path) -> Metrics:
    """An evaluation; a measurement it lacks is NaN (not measured), as NULL is."""
    d = parse_json(data, path, f"the metrics at step {preview(step)}")
    if not (isinstance(d, dict) and is_int(step) and d.get("step", step) == step):
        raise RunFileError(f"{path}: the metrics at step {preview(step)} are malformed")
    values = {}
    for name in METRIC_FIELDS:
        v = d.get(name)
        if not _real(v):
            raise RunFileError(f"{path}: the metrics at step {step}: {name} is "
                               f"{preview(v)}")
        values[name] = math.nan if v is None else float(v)
    return Metrics(step=step, **values)


def finding_from_row(row_id, data, path: Path) -> Finding:
    d = parse_json(data, path, f"finding {row_id}")
    try:
        layers = tuple(d.get("layers") or ())
        ok = (isinstance(d["kind"], str) and is_int(d["step"]) and isinstance(d["message"], str)
              and isinstance(d.get("advice", ""), str)
              and (d.get("layer") is None or isinstance(d["layer"], str))
              and d.get("severity", "warning") in FINDING_SEVERITIES
              and all(isinstance(name, str) for name in layers)
              and (d.get("end") is None or is_int(d["end"])))
    except (KeyError, TypeError, AttributeError):
        ok = False
    if not ok:
        raise RunFileError(f"{path}: finding {row_id} is malformed")
    return Finding(d["kind"], d.get("layer"), d["step"], d["message"], d.get("advice", ""),
                   d.get("severity", "warning"), layers, d.get("end"))
