"""RunHistory: everything a run measured, in bounded memory.

Series keep the whole run at decreasing resolution: when a series is full it
drops every other point and from then on keeps every 2nd (then 4th...) new
point, so a 100k-step run uses the same memory as a 2k-step one while the
plot still spans the whole run. The last ``keep_snapshots`` snapshots are kept
whole (histograms included) for replay.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace

import math

import numpy as np

from .diagnostics import diagnose
from .lr_changes import LR_SENSITIVE, after_lr_change, annealed, lr_change, when_annealed
from .records import Confusion, Finding, Metrics, StepSeries
from .snapshot import N_STATS, STAT_INDEX, ProbeLayout, Snapshot

METRIC_FIELDS = ("step", "loss", "val_loss", "train_acc", "val_acc", "train_top5",
                 "val_top5", "lr")


class DecimatingSeries:
    """A fixed-capacity series of rows that thins itself out instead of forgetting the start."""

    def __init__(self, width: int | tuple, capacity: int = 2048, dtype=np.float64):
        self.capacity = capacity
        self._row_shape = width if isinstance(width, tuple) else (width,)
        # storage grows by doubling up to ``capacity``: a short run uses little memory
        size = min(capacity, 256)
        self._data = np.full((size, *self._row_shape), np.nan, dtype)
        self._steps = np.zeros(size, np.int64)
        self._n = 0
        self._stride = 1  # keep every stride-th offered row
        self._offered = 0

    def append(self, step: int, row) -> None:
        self._offered += 1
        if (self._offered - 1) % self._stride:
            return
        if self._n == len(self._steps) < self.capacity:
            size = min(self.capacity, 2 * self._n)
            data = np.full((size, *self._row_shape), np.nan, self._data.dtype)
            data[:self._n] = self._data
            steps = np.zeros(size, np.int64)
            steps[:self._n] = self._steps
            self._data, self._steps = data, steps
        if self._n == self.capacity:
            half = self.capacity // 2
            self._data[:half] = self._data[0::2][:half]
            self._steps[:half] = self._steps[0::2][:half]
            self._data[half:] = np.nan
            self._n = half
            self._stride *= 2
        with np.errstate(over="ignore"):  # beyond float32's range is inf, as it should be
            self._data[self._n] = row
        self._steps[self._n] = step
        self._n += 1

    def __len__(self) -> int:
        return self._n

    @property
    def steps(self) -> np.ndarray:
        return self._steps[: self._n]

    @property
    def values(self) -> np.ndarray:
        return self._data[: self._n]

    def extend(self, first_step: int, rows: np.ndarray) -> None:
        """Append consecutive steps ``first_step, first_step + 1, ...``."""
        for i, row in enumerate(rows):
            self.append(first_step + i, row)

    @property
    def nbytes(self) -> int:
        return self._data.nbytes + self._steps.nbytes


STEP_FIELDS = ("loss", "train_acc", "lr")  # per training step (StepSeries)
RESUME_STEPS = 200  # a finding back within this many steps continues its old episode
STEP_CAPACITY = 50_000  # every step of runs up to this long; longer ones are thinned


class RunHistory:
    """Metrics, per-layer stat series, recent snapshots and findings of one run."""

    def __init__(self, layout: ProbeLayout | None = None, capacity: int = 2048,
                 keep_snapshots: int = 500):
        self.layout = layout
        self.capacity = capacity
        self.metrics = DecimatingSeries(len(METRIC_FIELDS), capacity)
        # every training step's batch loss, accuracy and lr (float32: 12 bytes a step)
        self.steps = DecimatingSeries(len(STEP_FIELDS), STEP_CAPACITY, np.float32)
        self.stats: DecimatingSeries | None = None  # rows (L, N_STATS)
        self.snapshots: deque[Snapshot] = deque(maxlen=keep_snapshots)
        self.time_grads: DecimatingSeries | None = None  # rows (R, T): dL/dh_t by time
        self.events: list[Finding] = []  # from the trainer: diverged, failed, early_stopped
        self.diagnosed: list[Finding] = []  # from the rules: active, then resolved
        self._active: dict[str, Finding] = {}  # kind -> the rule's finding, first step kept
        self._resolved: list[Finding] = []  # findings that held once and then stopped
        self.latest: Snapshot | None = None
        self.first: Snapshot | None = None
        self.diverged_step: int | None = None
        self.confusion: Confusion | None = None  # the last evaluation's, classifications
        # what the app's trainer drew over the inputs (2-D points, a 1-D regression):
        self.data_points: tuple[np.ndarray, np.ndarray] | None = None  # (x, y)
        self.drawing: dict | None = None  # the latest decision grid or fit curve

    def add_snapshot(self, snapshot: Snapshot) -> None:
        if self.layout is None:
            self.layout = snapshot.layout
        if self.stats is None:
            self.stats = DecimatingSeries((len(snapshot.layout), N_STATS), self.capacity)
        self.stats.append(snapshot.step, snapshot.stats)
        if snapshot.time_grad is not None:
            if self.time_grads is None:
                self.time_grads = DecimatingSeries(snapshot.time_grad.shape, self.capacity)
            self.time_grads.append(snapshot.step, snapshot.time_grad)
        self.snapshots.append(snapshot)
        self.latest = snapshot
        if self.first is None:
            self.first = snapshot

    def add_metrics(self, m: Metrics) -> None:
        self.metrics.append(m.step, [getattr(m, f) for f in METRIC_FIELDS])

    def add_steps(self, series: StepSeries) -> None:
        self.steps.extend(series.first_step,
                          np.stack([series.loss, series.acc, series.lr], axis=1))

    def add_confusion(self, confusion: Confusion) -> None:
        """An evaluation's confusion counts: only the latest is kept (what is shown)."""
        if self.confusion is None or confusion.step >= self.confusion.step:
            self.confusion = confusion

    def _set_points(self, points: tuple[np.ndarray, np.ndarray]) -> None:
        self.data_points = points

    def _set_drawing(self, drawing: dict) -> None:
        self.drawing = drawing

    def record(self, kind: str, payload, diagnose: bool = True) -> bool:
        """Add one trainer event's payload by its kind (snapshot, metrics, steps,
        finding, confusion, points, drawing); True when it was a measurement. The CLI,
        the app's worker and the side-by-side runs all route events through here."""
        add = {"snapshot": self.add_snapshot, "metrics": self.add_metrics,
               "steps": self.add_steps, "finding": self.add_finding,
               "confusion": self.add_confusion, "points": self._set_points,
               "drawing": self._set_drawing}.get(kind)
        if add is None:
            return False
        add(payload)
        if kind == "snapshot" and diagnose:
            # the rules see every snapshot as it comes (about 0.6 ms with 50 layers), so a
            # finding that holds only briefly is caught with its real span, however fast
            # the run and however rarely a caller asks (the CLI asked once, at the end)
            self.update_diagnosis()
        return True

    def step_series(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Steps (T,) and values (T,) of a per-step field (loss, train_acc, lr)."""
        return self.steps.steps, self.steps.values[:, STEP_FIELDS.index(name)]

    def _reopen(self, kind: str, now: int) -> Finding | None:
        """A finding of ``kind`` resolved less than RESUME_STEPS ago, taken back: a value
        hovering at a threshold is one episode, not a flicker of many."""
        for i in range(len(self._resolved) - 1, -1, -1):
            f = self._resolved[i]
            if f.kind == kind and now - f.end < RESUME_STEPS:
                return self._resolved.pop(i)
        return None

    def add_finding(self, finding: Finding) -> None:
        """A finding the trainer reported (it stays for the rest of the run)."""
        self.events.append(finding)
        if finding.kind == "diverged":
            self.diverged_step = finding.step

    def update_diagnosis(self) -> list[Finding]:
        """Re-run the diagnostic rules on the latest measurements.

        A finding keeps the step it was first found at while it holds (its text and
        layers follow the latest data); one that stops holding is kept, resolved, with
        the step it ended at, so a run that recovered still says what it went through.
        """
        now = self.latest.step if self.latest is not None else (
            int(self.metrics.steps[-1]) if len(self.metrics) else 0)
        current = {}
        found = diagnose(self)
        # the lr history is read only when a finding it can speak to was made
        change = lr_change(self) if any(f.kind in LR_SENSITIVE for f in found) else None
        decayed = annealed(self) if any(f.kind == "update_ratio" for f in found) else None
        for finding in found:
            before = self._active.get(finding.kind) or self._reopen(finding.kind, now)
            if before is not None:
                finding = replace(finding, step=before.step)
            finding = after_lr_change(finding, change) if change else finding
            current[finding.kind] = when_annealed(finding, decayed) if decayed else finding
        for kind, finding in self._active.items():
            if kind not in current:
                self._resolved.append(replace(finding, end=now))
        self._active = current
        self.diagnosed = [*current.values(), *self._resolved]
        return self.diagnosed

    def set_diagnosis(self, findings: list[Finding]) -> None:
        """Findings the rules produced elsewhere, on the same data (the app's trainer
        process runs them on its copy of the history and sends the result)."""
        self.diagnosed = list(findings)

    @property
    def findings(self) -> list[Finding]:
        """The trainer's findings first (they end runs), then the rules' current ones."""
        return [*self.events, *self.diagnosed]

    def latest_loss(self) -> float:
        """The newest training loss known: the last evaluation's, else the last probe's,
        else the last step's (a script's run that ended before its first probe)."""
        if len(self.metrics):
            return float(self.metric("loss")[-1])
        if self.latest is not None:
            return float(self.latest.loss)
        if len(self.steps):
            return float(self.step_series("loss")[1][-1])
        return math.nan

    def metric(self, name: str) -> np.ndarray:
        return self.metrics.values[:, METRIC_FIELDS.index(name)]

    def stat_series(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Steps (T,) and values (L, T) of one statistic for every layer."""
        if self.stats is None:
            return np.zeros(0, np.int64), np.zeros((0, 0))
        return self.stats.steps, self.stats.values[:, :, STAT_INDEX[name]].T

    def metrics_dict(self) -> dict[str, list]:
        """Equal-length lists per metric, JSON-ready (NaN -> None)."""
        out = {}
        for i, name in enumerate(METRIC_FIELDS):
            col = self.metrics.values[:, i]
            out[name] = [int(v) if name == "step" else (float(v) if np.isfinite(v) else None)
                         for v in col]
        return out

    @property
    def nbytes(self) -> int:
        snap = sum(s.stats.nbytes + s.hist.nbytes for s in self.snapshots)
        snap += self.time_grads.nbytes if self.time_grads is not None else 0
        return (self.metrics.nbytes + self.steps.nbytes + snap +
                (self.stats.nbytes if self.stats else 0))
