"""The training loop: plain Python, no Qt, driven by commands between steps.

    trainer = Trainer(design)
    for event in trainer.events():      # or trainer.run(callback)
        ...                              # snapshots, metrics, findings, progress

Commands (`pause`, `resume`, `step_once`, `stop`, `set_lr`, `set_l1`, `set_l2`)
may come from any thread; they take effect between steps.

The hot path never waits for the device: each step's loss and output stay on the
device (`StepLog`) until a probed or evaluation step, where one transfer brings
everything back; the train metrics and the divergence check are computed from those
values on the host. With ``train.cuda_graphs``, steps replay CUDA graphs (`graphed_steps`).
"""

from __future__ import annotations

import contextlib
import math
import time
from typing import Callable, Iterator

import torch

from ..design import NetworkDesign
from ..metrics.records import Finding
from .build import build
from .control import RunCommands
from .datasets import make_dataset, shuffled_batches
from .device import describe_device, resolve_device
from .evaluate import RunningMetrics, confusion_counts, evaluate
from .events import (RunResult, TrainEvent, diverged_finding, early_stop_finding,
                     failed_finding)
from .graphed_steps import step_graph_for
from .optim import (add_penalty_grads, make_optimizer, penalized_weights, schedule_factor,
                    set_hyper)
from .probe import Prober, task_loss
from .resources import check_fits
from .rng import RngStream, draws_random
from .step_log import StepLog
from .transfer import InFlight

__all__ = ["RunResult", "TrainEvent", "Trainer"]

PROGRESS_INTERVAL_S = 0.1  # progress events at most 10 times a second


class Trainer(RunCommands):
    """Trains one design; see the module docstring.

    Parameters
    ----------
    design : NetworkDesign
        Copied: later edits to the caller's design do not reach the run.
    device : str, optional
        Overrides ``design.train.device``.
    """

    def __init__(self, design: NetworkDesign, device: str | None = None):
        self.design = design.copy()
        self.cfg = cfg = self.design.train
        self.device = resolve_device(device or cfg.device)
        self.device_name = describe_device(self.device)
        check_fits(self.design, self.device)  # before any data or weights exist
        self.data = make_dataset(self.design)
        self.model = build(self.design).to(self.device)
        # NHWC for conv nets: parameters and every batch (a no-op for flat inputs)
        self._nhwc = cfg.channels_last and len(self.design.input.shape or ()) == 3
        if self._nhwc:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.prober = Prober(self.model)
        self.layout = self.prober.layout
        # train.cuda_graphs: steps replayed from CUDA graphs where they can be
        self.graph, graphed = step_graph_for(cfg, self.device, self.prober,
                                             lambda x, y, probe: self._update(
                                                 x, y, self.data.task, probe, rng=False))
        self.optimizer = make_optimizer(cfg, self.model, **graphed)
        self._hyper: tuple = ()  # the (lr, weight decay) the optimizer was last given
        self.weights = penalized_weights(self.model)
        self.params = list(self.model.parameters())
        self.model_total_params = self.model.total_params
        # the last evaluation's (true, predicted) counts on the device, or None
        self.confusion = confusion_counts(self.data.task, self.data.classes, self.device)
        self.step = 0
        self.state = "ready"
        self.train_seconds = 0.0
        self.findings: list[Finding] = []
        self._init_commands(cfg.lr, cfg.l1, cfg.l2)
        # Wraps the device work of every step (not probe collection or evaluation): the
        # benchmark sets it to CUDA's sync-debug "error" mode to prove steps never sync.
        self.step_guard: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext
        # Called with the step's number before every step, if set (threads.ThreadTrial
        # times the run's first steps at each thread count through it).
        self.before_step: Callable[[int], None] | None = None

    @property
    def lr(self) -> float:
        return self._lr * schedule_factor(self.cfg.schedule, self.step, self.cfg.steps)

    def sample_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """One training batch on the device in the model's memory format, without
        augmentation (no random draw): what `threads.measure` times a step on."""
        size = min(self.cfg.batch_size, len(self.data.x_train))
        x = self.data.eval_batch(self.data.x_train[:size]).to(self.device)
        if self._nhwc:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, self.data.y_train[:size].to(self.device)

    def run(self, callback: Callable[[TrainEvent], None] | None = None) -> RunResult:
        """Run to the end in this thread, handing every event to ``callback``."""
        for event in self.events():
            if callback is not None:
                callback(event)
        return RunResult(self.state, self.step, self.train_seconds, list(self.findings))

    def events(self) -> Iterator[TrainEvent]:
        """The loop as a generator. While paused it blocks until another thread resumes."""
        cfg, task = self.cfg, self.data.task
        # dropout masks: this run's own stream (none needed when nothing draws)
        self._rng = (RngStream(cfg.seed, self.device).active if draws_random(self.model)
                     else contextlib.nullcontext)
        if self.data.prep is not None:  # images stay uint8 on the device until a batch
            self.data.prep.start(self.device, cfg.seed)
        x_train = self.data.x_train.to(self.device)
        y_train = self.data.y_train.to(self.device)
        x_val = self.data.x_val.to(self.device)
        y_val = self.data.y_val.to(self.device)
        batches = shuffled_batches(x_train, y_train, cfg.batch_size, cfg.seed, self.device)
        running = RunningMetrics(task, self.data.classes)
        step_log = StepLog(min(cfg.batch_size, len(x_train)),
                           top5=task == "classes" and self.data.classes > 5)
        best_val, evals_without_gain = math.inf, 0
        in_flight = None  # (transfer, step) sent after a step, taken after the next one's
        self.state = "running"
        active_since = time.perf_counter()
        last_progress = active_since
        try:
            while self.step < cfg.steps:
                forced = False
                if self._calls:
                    self._run_calls()
                if self._paused or self._stop or self._pause_announced:
                    self.train_seconds += time.perf_counter() - active_since
                    bad_step = -1
                    if in_flight is not None:
                        bad_step = yield from self._receive(*in_flight, step_log, running)
                        in_flight = None
                    if bad_step < 0 and self._paused and not self._pause_announced and \
                            len(step_log):
                        # about to pause: every step taken so far is shown while it waits
                        bad_step = yield from self._receive(
                            self._send(step_log), self.step - 1, step_log, running)
                    if bad_step >= 0:
                        break
                    go = yield from self._wait_if_paused()
                    active_since = time.perf_counter()
                    if not go:
                        self.state = "stopped"
                        break
                    forced = self._paused  # a single step while paused: probe it
                step = self.step
                if self.before_step is not None:
                    self.before_step(step)
                # every probe_every-th step and the last: the plots' "now" ends on the
                # network the run ended with (a 150-step run probed every 50 ended on 100)
                probe = forced or (cfg.probe_every > 0 and (step % cfg.probe_every == 0
                                                            or step == cfg.steps - 1))
                with self.step_guard():
                    x, y = next(batches)
                    x = self.data.train_batch(x)
                    if self._nhwc:
                        x = x.contiguous(memory_format=torch.channels_last)
                    loss, out, before = self._train_step(x, y, task, probe)
                    step_log.add(loss, self.lr, *((out, y) if task == "classes" else ()))
                self.step += 1
                if self.graph is not None and (said := self.graph.take_finding(step)):
                    yield self._finding(said)
                bad_step = -1
                if in_flight is not None:  # its device work ran under this step's launches
                    bad_step = yield from self._receive(*in_flight, step_log, running)
                    in_flight = None
                evaluate_now = self.step % cfg.eval_every == 0 or self.step == cfg.steps
                if bad_step < 0 and (probe or evaluate_now or step_log.full):
                    sent = self._send(step_log, step, probe, loss, before)
                    if sent.overlaps and not evaluate_now:
                        in_flight = (sent, step)
                    else:
                        bad_step = yield from self._receive(sent, step, step_log, running)
                if bad_step >= 0:
                    self.train_seconds += time.perf_counter() - active_since
                    break
                if evaluate_now:
                    metrics, counts = evaluate(self.model, running, x_val, y_val, task,
                                               self.step, self.lr, self.data.eval_batch,
                                               self.confusion)
                    yield TrainEvent("metrics", self.step, metrics)
                    if counts is not None:  # a classification's: its own copy
                        yield TrainEvent("confusion", self.step, counts)
                    if cfg.early_stopping > 0 and math.isfinite(metrics.val_loss):
                        if metrics.val_loss < best_val - 1e-4 * abs(best_val):
                            best_val, evals_without_gain = metrics.val_loss, 0
                        else:
                            evals_without_gain += 1
                        if evals_without_gain >= cfg.early_stopping:
                            self.state = "early_stopped"
                            yield self._finding(early_stop_finding(
                                self.step, cfg.early_stopping, best_val))
                            break
                now = time.perf_counter()
                if now - last_progress >= PROGRESS_INTERVAL_S:
                    last_progress = now
                    elapsed = self.train_seconds + now - active_since
                    yield TrainEvent("progress", self.step, None, self.step / max(elapsed, 1e-9))
            else:
                self.state = "finished"
        except (RuntimeError, MemoryError) as exc:  # CUDA OOM is a RuntimeError too
            self.state = "failed"
            yield self._finding(failed_finding(self.step, self.device_name, exc))
        if self.state in ("running", "finished", "stopped", "early_stopped", "failed"):
            self.train_seconds += time.perf_counter() - active_since
        if self.state != "diverged":
            try:
                if in_flight is not None:  # a stop: what was sent is shown
                    yield from self._receive(*in_flight, step_log, running)
                tail = step_log.take_now()
            except (RuntimeError, MemoryError):  # a failed device: those steps are lost
                tail = None
            if tail is not None:
                yield TrainEvent("steps", self.step - 1, tail)
        yield TrainEvent("ended", self.step, self.state,
                         self.step / max(self.train_seconds, 1e-9))

    def _send(self, step_log, step=-1, probe=False, loss=None, before=None) -> InFlight:
        """Send the per-step log (and the probe) to the host in one `InFlight` transfer."""
        if probe:  # the log's tensors join the probe's in one concatenation
            return InFlight(*self.prober.pack(step, loss, self.lr, before,
                                              step_log.pending_parts()))
        return InFlight(step_log.pending(), lambda host: (None, host))

    def _receive(self, sent: InFlight, step, step_log, running):
        """Generator helper: take a transfer's numbers; yields the steps, then the
        snapshot or the divergence. Returns the first step whose loss is not finite
        (-1: none)."""
        snapshot, host = sent.wait()
        first_bad = step_log.first_bad(host)
        series = step_log.take(host, first_bad)
        running.add_steps(series.loss, series.acc, step_log.last_top5)
        yield TrainEvent("steps", step, series)
        if first_bad is not None:
            yield self._finish_diverged(first_bad)
            return first_bad
        if snapshot is not None:
            yield TrainEvent("snapshot", step, snapshot)
        return -1

    def _train_step(self, x, y, task, probe):
        hyper = (self.lr, self._l2 if self.cfg.optimizer == "adamw" else None)
        if hyper != self._hyper:  # a tensor lr costs a launch to set: only on a change
            set_hyper(self.optimizer, *hyper)
            self._hyper = hyper
        if self.graph is not None and self.graph.takes(probe):  # (loss, out, probe or None)
            with self._rng():  # outside the recording: a replay draws from the run's stream
                replayed = self.graph.step(x, y, probe, (self._l1, self._l2))
            if replayed is not None:
                return replayed
        self.prober.active = probe
        return self._update(x, y, task, probe)

    def _update(self, x, y, task, probe, rng=True):
        """One step's device work (``rng`` False: recorded, the stream swapped in around)."""
        # bf16 autocast covers the forward pass and the loss; the probe hooks upcast what
        # they stash, so statistics stay float32 (gradients flow back in float32 params)
        with self._rng() if rng else contextlib.nullcontext(), self._autocast():
            out = self.model(x)
            loss = task_loss(out, y, task)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        # the L1 / L2 penalty's gradient, added to .grad directly (AdamW decays instead)
        add_penalty_grads(self.weights, self._l1,
                          0.0 if self.cfg.optimizer == "adamw" else self._l2)
        self.prober.active = False
        before = self.prober.weights_before() if probe else None
        if self.cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.params, self.cfg.grad_clip)
        self.optimizer.step()
        return loss.detach(), out, before

    def _autocast(self) -> contextlib.AbstractContextManager:
        """bf16 autocast where asked for; else none (one that is off costs ~4 us a step)."""
        if self.cfg.precision == "bf16":
            return torch.autocast(self.device.type, torch.bfloat16)
        return contextlib.nullcontext()

    def _finding(self, finding: Finding) -> TrainEvent:
        self.findings.append(finding)
        return TrainEvent("finding", finding.step, finding)

    def _finish_diverged(self, bad_step: int) -> TrainEvent:
        self.state = "diverged"
        return self._finding(diverged_finding(bad_step, self.lr))
