"""One run inside the trainer process: train, record, diagnose, draw the boundary, save.

Everything a run costs besides drawing happens here, in the trainer's own process and
interpreter: the run store's SQLite writes, the diagnostic rules (their findings go to
the app as "diagnosis" messages), the decision-boundary grid and the final weights. The
app only receives and paints. Events go out as they come; the app's reader coalesces
what arrives between two of its reads.
"""

from __future__ import annotations

import sqlite3
import time

from .protocol import Ended, Job, Started, pack_event

BOUNDARY_EVERY_S = 0.3  # the decision boundary redraws "every few hundred ms"...
BOUNDARY_SHARE = 0.02  # ...unless its grid costs more than 2% of the run's time (an
# 80 x 80 grid through 50 layers: 60 ms, which every 0.3 s took a fifth of the steps)
DIAGNOSIS_EVERY_S = 0.25  # changed findings go out at most 4 times a second
FLUSH_EVERY_S = 0.05  # per-step rows and progress wait at most this long for company


def run_job(job: Job, reader, send, busy_others: float) -> None:
    """Run ``job`` to its end, sending everything the app shows; never raises."""
    try:
        run = _Run(job, reader, send, busy_others)
    except Exception as exc:  # noqa: BLE001 - shown to the user, never raised
        reader.detach()
        send(("error", f"Cannot start training: {_first_line(exc)}"))
        return
    try:
        run.loop()
    finally:
        reader.detach()
        run.close()


class _Run:
    def __init__(self, job: Job, reader, send, busy_others: float):
        from ..engine.threads import choose_threads
        from ..engine.trainer import Trainer
        from ..metrics import RunHistory
        from ..util.data_root import set_data_root
        from .faults import before_build, inject_fault
        self.job, self.send = job, send
        # where the run is recorded: the app's choice, or the next free name (_open_record);
        # set before the reader can ask for the weights (save_weights)
        self.run_path, self.weights_path = job.run_path, job.weights_path
        set_data_root(job.data_root)
        self.design = job.design
        before_build(job.fault)
        self.trainer = trainer = Trainer(self.design)
        inject_fault(trainer, job.fault)
        reader.attach(trainer, self.save_weights)
        choice = choose_threads(trainer, job.threads, job.reserve, busy_others,
                                exclude_parent=True, max_threads=job.max_threads)
        self.choice = choice  # completed in place when the run's first steps measured it
        self.threads = choice.as_dict()
        self.history = RunHistory(trainer.layout)  # the rules run here, on this history
        self.writer = self._open_record()
        from ..engine.boundary import drawn_over
        x, y = trainer.data.x_train, trainer.data.y_train
        self.over_inputs = job.boundary and drawn_over(trainer.data)
        self.x_device = x.to(trainer.device) if self.over_inputs else None
        points = (x.numpy(), y.numpy()) if self.over_inputs else None
        if points is not None and self.writer is not None:  # a reopened run draws them
            self._store("points", points)
        send(("started", Started(trainer.layout, trainer.device_name,
                                 trainer.model_total_params, self.run_path, self.threads,
                                 points)))

    def _open_record(self):
        if self.job.run_path is None:
            return None
        from ..runs import RunWriter
        from ..runs.store import design_meta
        meta = design_meta(self.design, self.trainer.device_name,
                           self.trainer.model_total_params)
        meta["threads"] = self.threads
        try:  # the app chose the name; another process may have taken it since
            writer = RunWriter(self.job.run_path, meta, next_free=True)
        except (OSError, sqlite3.Error):  # a full or read-only disk: trained, unrecorded
            return None
        if str(writer.path) != self.job.run_path:  # the app follows it there (Started)
            from ..runs.folder import weights_path_of
            self.run_path = str(writer.path)
            self.weights_path = self.weights_path and str(weights_path_of(writer.path))
        return writer

    def loop(self) -> None:
        trainer, history, send = self.trainer, self.history, self.send
        pending: list = []
        last_flush = last_diagnosis = time.perf_counter()
        next_boundary = last_flush  # at the first chance
        sent_findings: list = []
        for event in trainer.events():
            kind = event.kind
            history.record(kind, event.payload)  # the rules see every snapshot
            if self.writer is not None:
                self._store(kind, event.payload)
            pending.append(pack_event(event))
            now = time.perf_counter()
            if kind in ("steps", "progress") and now - last_flush < FLUSH_EVERY_S:
                continue
            send(("events", pending))
            pending, last_flush = [], now
            if history.diagnosed != sent_findings and (
                    now - last_diagnosis >= DIAGNOSIS_EVERY_S or kind == "ended"):
                sent_findings, last_diagnosis = list(history.diagnosed), now
                send(("diagnosis", sent_findings))
            if self.over_inputs and (now >= next_boundary or kind == "ended"):
                self._boundary()
                cost = time.perf_counter() - now
                next_boundary = now + max(BOUNDARY_EVERY_S, cost / BOUNDARY_SHARE)
        if pending:
            send(("events", pending))

    def _store(self, kind: str, payload) -> None:
        try:
            self.writer.record(kind, payload)
        except sqlite3.Error:  # the disk filled up mid-run: the run goes on, unrecorded
            self.writer = None

    def _boundary(self) -> None:
        from ..engine.boundary import over_inputs
        try:  # a diverged (NaN) model gives NaN probabilities: the panel skips them
            drawing = over_inputs(self.trainer.model, self.x_device)
            self.send(("boundary", drawing))
            if self.writer is not None and drawing is not None:  # the latest, replaced
                self._store("drawing", (self.trainer.step, drawing))
        except (RuntimeError, MemoryError) as exc:  # e.g. out of device memory
            self.over_inputs = False  # the run goes on; the panel says why it stopped
            self.send(("boundary", {"error": _first_line(exc)[:200]}))

    def save_weights(self) -> str | None:
        """The model's state_dict beside the run (read back with weights_only=True)."""
        if not self.weights_path:
            return None
        from ..engine.weights import save_weights
        try:
            save_weights(self.trainer.model, self.weights_path)
        except OSError:
            return None
        return self.weights_path

    def close(self) -> None:
        trainer = self.trainer
        trainer._run_calls()  # a "weights" asked for as the run ended
        weights = self.save_weights()
        self.threads = self.choice.as_dict()  # measured by now (unless the run was short)
        if self.writer is not None:
            try:
                self.writer.set_meta(threads=self.threads, train_seconds=trainer.train_seconds,
                                     steps_per_second=trainer.step / max(
                                         trainer.train_seconds, 1e-9))
                self.writer.close(trainer.state)
            except sqlite3.Error:
                pass
        self.send(("done", Ended(trainer.state, trainer.step, trainer.train_seconds,
                                 weights, self.threads)))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
