"""Several runs side by side, as text and as data: what `desklab runs compare` prints
and writes, and what the compare window exports (``curves_csv``).

Runs are given as ``(name, history)`` pairs and lettered A, B, C... in that order, as
the compare window letters them.
"""

from __future__ import annotations

import csv
import io

import numpy as np

from .report import step_history

# one row per run and step (tidy: pandas reads it straight into a plot by "run")
CSV_COLUMNS = ("run", "name", "step", "loss", "train_acc", "lr", "val_loss", "val_acc")
LAST_STEPS = 10  # the loss at the end: the mean of this many last steps (one is noise)


def letter(k: int) -> str:
    """Run ``k``'s letter: A, B, C..."""
    return chr(ord("A") + k)


def curves_csv(runs: list) -> str:
    """Every step of every run: its batch loss, training accuracy and learning rate, and
    on the rows of the steps after which the run was evaluated its validation loss and
    accuracy (blank elsewhere, and where a run has no such number)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for k, (name, history) in enumerate(runs):
        table = step_history(history)
        for i, step in enumerate(table["step"]):
            writer.writerow([letter(k), name, step, *(
                "" if table[key][i] is None else repr(table[key][i])
                for key in CSV_COLUMNS[3:])])
    return out.getvalue()


def summary(history) -> dict:
    """One run's numbers for the comparison table (None where it has none): its steps,
    its first loss and the mean of its last ``LAST_STEPS`` finite ones, its last
    validation loss and accuracy, its best validation accuracy and the step it was
    evaluated after, and its last learning rate."""
    _, loss = history.step_series("loss")
    _, lr = history.step_series("lr")
    finite = loss[np.isfinite(loss)]
    row = {"steps": len(loss),
           "first_loss": float(finite[0]) if finite.size else None,
           "end_loss": float(finite[-LAST_STEPS:].mean()) if finite.size else None,
           "lr": float(lr[np.isfinite(lr)][-1]) if np.isfinite(lr).any() else None}
    evaluated = history.metrics.steps if len(history.metrics) else np.zeros(0, int)
    for key in ("val_loss", "val_acc"):
        values = history.metric(key) if len(evaluated) else np.zeros(0)
        ok = np.isfinite(values)
        row[key] = float(values[ok][-1]) if ok.any() else None
        if key == "val_acc" and ok.any():
            best = int(np.argmax(np.where(ok, values, -np.inf)))
            row["best_val_acc"], row["best_at"] = float(values[best]), int(evaluated[best])
    return row


def comparison_table(runs: list, states: list[str]) -> str:
    """The runs (``(name, history)``; ``states``: each one's status) one per line, with
    the same columns, best validation accuracy marked with a star."""
    rows = [summary(history) for _, history in runs]
    best = max((r["best_val_acc"] for r in rows if r.get("best_val_acc") is not None),
               default=None)
    wide = min(max([4, *(len(name) for name, _ in runs)]), 40)
    lines = [f"   {'run':<{wide}}  {'status':<11} {'steps':>7}  {'loss first -> end':^21}  "
             f"{'val loss':>8}  {'val acc':>7}  {'best val acc':>17}  {'lr':>8}"]
    for k, ((name, _), state, row) in enumerate(zip(runs, states, rows)):
        acc, val_acc = row.get("best_val_acc"), row["val_acc"]
        best_text = "-" if acc is None else \
            f"{'*' if acc == best else ''}{acc:.1%} at {row['best_at']:,}"
        val_text = "-" if val_acc is None else f"{val_acc:.1%}"
        lines.append(
            f"{letter(k)}  {name[:wide]:<{wide}}  {state:<11} {row['steps']:>7,}  "
            f"{_num(row['first_loss']):>8} -> {_num(row['end_loss']):<9}  "
            f"{_num(row['val_loss']):>8}  {val_text:>7}  {best_text:>17}  "
            f"{_num(row['lr']):>8}")
    lines.append(f"(loss end: the mean of the last {LAST_STEPS} steps' losses; lr: the last "
                 f"step's; * the best validation accuracy)")
    return "\n".join(lines)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"
