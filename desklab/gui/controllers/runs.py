"""Past runs (kept while the app is open) and running two designs side by side."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal, Slot

from ...design import NetworkDesign
from ...engine.trainer import Trainer
from ...metrics import RunHistory
from .threads import start_thread, stop_thread


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


class PairWorker(QObject):
    """Trains two designs on one thread, alternating between their loops."""

    event = Signal(int, object)  # run index (0 or 1), TrainEvent
    started = Signal(int, object)  # run index, Trainer
    failed = Signal(str)
    finished = Signal()

    def __init__(self, designs: list[NetworkDesign]):
        super().__init__()
        self.designs = designs
        self.trainers: list[Trainer] = []
        self._stop = False

    @Slot()
    def run(self) -> None:
        try:
            self.trainers = [Trainer(d) for d in self.designs]
        except Exception as exc:  # noqa: BLE001 - shown to the user
            self.failed.emit(f"Cannot start: {exc}")
            self.finished.emit()
            return
        for i, trainer in enumerate(self.trainers):
            self.started.emit(i, trainer)
        loops = [t.events() for t in self.trainers]
        alive = [True] * len(loops)
        while any(alive):
            for i, loop in enumerate(loops):
                if not alive[i]:
                    continue
                if self._stop:
                    self.trainers[i].stop()
                try:
                    self.event.emit(i, next(loop))
                except StopIteration:
                    alive[i] = False
        self.finished.emit()

    def stop(self) -> None:
        """Thread-safe: both loops end after their current step."""
        self._stop = True
        for trainer in self.trainers:
            trainer.stop()


class PairController(QObject):
    """Runs a pair, collects each side's history, records both in the run list."""

    updated = Signal()
    done = Signal()

    def __init__(self, runs: RunList, parent=None):
        super().__init__(parent)
        self.runs = runs
        self.records: list[RunRecord] = []
        self.worker: PairWorker | None = None
        self.thread = None
        self.dirty = False

    def start(self, designs: list[NetworkDesign], names: list[str]) -> None:
        self.stop()
        seed = designs[0].train.seed
        designs = [d.copy() for d in designs]
        for d in designs:
            d.train.seed = seed  # the same seed: the same init draws and batches
        self.records = [RunRecord(n, d, RunHistory()) for n, d in zip(names, designs)]
        self.worker = PairWorker(designs)
        self.worker.event.connect(self._on_event, Qt.QueuedConnection)
        self.worker.started.connect(self._on_started, Qt.QueuedConnection)
        self.worker.finished.connect(self._on_finished, Qt.QueuedConnection)
        self.worker.failed.connect(self._on_failed, Qt.QueuedConnection)
        self.thread = start_thread(self.worker, "desklab-pair", run="run")

    @property
    def running(self) -> bool:
        return self.thread is not None and any(r.state in ("running", "paused")
                                               for r in self.records)

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        # joined: its queued events (each side's "ended" records the run) land now
        stop_thread(self.thread, worker=self.worker, receiver=self)
        self.thread, self.worker = None, None

    def _stale(self) -> bool:
        """In a slot: True when the caller is not the current pair's worker."""
        return self.sender() is not self.worker

    @Slot(int, object)
    def _on_started(self, index: int, trainer) -> None:
        if self._stale():
            return
        self.records[index].device = trainer.device_name
        self.records[index].history.layout = trainer.layout

    @Slot(int, object)
    def _on_event(self, index: int, event) -> None:
        if self._stale():
            return
        record = self.records[index]
        history = record.history
        history.record(event.kind, event.payload)
        if event.kind == "snapshot":
            record.steps = event.payload.step + 1  # (record() ran the rules on it)
        elif event.kind == "metrics":
            record.steps = event.step
        elif event.kind == "ended":
            record.state, record.steps = event.payload, event.step
            history.update_diagnosis()
            self.runs.add(record)
        self.dirty = True

    @Slot()
    def _on_finished(self) -> None:
        if self._stale():
            return
        stop_thread(self.thread, worker=self.worker)
        self.thread, self.worker = None, None
        self.dirty = True
        self.done.emit()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if self._stale():
            return
        for record in self.records:
            record.state = "failed"
            record.extra["error"] = message
        self.dirty = True


def stored_record(path) -> RunRecord:
    """A run from the run store as a RunRecord (to compare and replay): its design when
    it was trained in DeskLab, a name-only stand-in for a watched script."""
    from ...design import design_from_dict
    from ...runs import RunReader
    from ...runs.folder import read_info
    reader = RunReader(path)
    try:
        history, meta = reader.history(), reader.meta
    finally:
        reader.close()
    info = read_info(Path(path))
    design = design_from_dict(meta["design"]) if meta.get("design") else \
        NetworkDesign(name=info.name)
    return RunRecord(info.name, design, history, info.status, meta.get("device", ""),
                     info.steps, extra={"source": info.source, "path": str(path)})
