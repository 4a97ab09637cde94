"""Past runs (kept while the app is open) and running two designs side by side."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from ...design import NetworkDesign
from ...metrics import RunHistory
from ...util.cpu_load import cpu_count
from .worker import TrainingController


@dataclass
class RunRecord:
    """One finished (or stopped) run: what was trained and everything it measured."""

    name: str
    design: NetworkDesign
    history: RunHistory
    state: str = "running"
    device: str = ""
    steps: int = 0
    number: int = 0
    extra: dict = field(default_factory=dict)
    steps_per_second: float = 0.0  # its training loop's average speed (0: not known)

    def summary(self) -> str:
        """One line for the run list: design, settings, final metrics."""
        t = self.design.train
        parts = [f"#{self.number} {self.name}", self.state, f"{self.steps} steps"]
        if self.extra.get("source") != "watch":  # a watched script has no design settings
            parts += [f"{t.optimizer} lr {t.lr:g}", f"batch {t.batch_size}"]
        if len(self.history.metrics):
            for label, key in (("loss", "loss"), ("val acc", "val_acc"),
                               ("train acc", "train_acc")):
                value = float(self.history.metric(key)[-1])
                if math.isfinite(value):
                    parts.append(f"{label} {value:.3g}")
        return " · ".join(parts)


MAX_RUNS = 50  # each run keeps up to a few MB of history; older runs are dropped


class RunList(QObject):
    """The runs of this session, newest last (the latest MAX_RUNS of them)."""

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.records: list[RunRecord] = []
        self._count = 0

    def add(self, record: RunRecord) -> RunRecord:
        self._count += 1
        record.number = self._count
        self.records.append(record)
        del self.records[:-MAX_RUNS]
        self.changed.emit()
        return record

    def remove(self, record: RunRecord) -> None:
        if record in self.records:
            self.records.remove(record)
            self.changed.emit()


class PairController(QObject):
    """Trains two designs side by side, each in its own trainer process (the same seed:
    the same init draws and batches), and records both in the run list as they end."""

    updated = Signal()
    done = Signal()

    def __init__(self, runs: RunList, parent=None):
        super().__init__(parent)
        self.runs = runs
        self.records: list[RunRecord] = []
        self.sides: list[TrainingController] = []

    def start(self, designs: list[NetworkDesign], names: list[str]) -> None:
        self.stop()
        seed = designs[0].train.seed
        designs = [d.copy() for d in designs]
        for d in designs:
            d.train.seed = seed
        share = max(1, (cpu_count() - 1) // 2)  # the GUI keeps a core; the runs split
        self.sides = [TrainingController(self) for _ in designs]
        self.records = []
        for side, name, design in zip(self.sides, names, designs):
            side.run_ended.connect(self._side_ended)
            side.trainer_ready.connect(self._side_ready)
            side.start(design, max_threads=share, hold=True)
            self.records.append(RunRecord(name, design, side.history))
        self._side_ready()

    @Slot()
    def _side_ready(self) -> None:
        """Both processes warm: both runs start now, so they race side by side."""
        if self.sides and all(side.trainer_warm for side in self.sides):
            for side in self.sides:
                side.release_job()

    @property
    def running(self) -> bool:
        return any(side.running for side in self.sides)

    @property
    def dirty(self) -> bool:
        return any(side.dirty for side in self.sides)

    @dirty.setter
    def dirty(self, value: bool) -> None:
        for side in self.sides:
            side.dirty = value

    def stop(self) -> None:
        """Stop both runs and wait for them (a second at most each)."""
        for side in self.sides:
            side.stop()
        for side in self.sides:
            side.stop_and_join()

    @Slot(str)
    def _side_ended(self, state: str) -> None:
        side = self.sender()
        if side not in self.sides:
            return
        record = self.records[self.sides.index(side)]
        record.state, record.steps, record.device = state, side.step, side.device_name
        if side.ended_info is not None:
            record.extra["weights_path"] = side.ended_info.weights_path
        if side.run_path is not None:
            record.extra["path"] = str(side.run_path)
        self.runs.add(record)
        if not self.running:
            self.done.emit()
        self.updated.emit()


def stored_record(path) -> RunRecord:
    """A run from the run store as a RunRecord (to compare and replay): its design when
    it was trained in DeskLab, a name-only stand-in for a watched script."""
    from ...design import design_from_dict
    from ...runs import RunReader
    from ...runs.folder import read_info, weights_path_of
    reader = RunReader(path)
    try:
        history, meta = reader.history(), reader.meta
    finally:
        reader.close()
    info = read_info(Path(path))
    design = design_from_dict(meta["design"]) if meta.get("design") else \
        NetworkDesign(name=info.name)
    weights = weights_path_of(path)
    speed = meta.get("steps_per_second")
    return RunRecord(info.name, design, history, info.status, meta.get("device", ""),
                     info.steps, extra={"source": info.source, "path": str(path),
                                        "weights_path": str(weights) if weights.is_file()
                                        else None},
                     steps_per_second=float(speed) if isinstance(speed, (int, float)) and
                     math.isfinite(speed) and speed > 0 else 0.0)
