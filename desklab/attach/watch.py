"""``desklab.watch``: DeskLab's probes on a user's own PyTorch training loop.

    watcher = desklab.watch(model, optimizer, every=10, run="my-run")
    for x, y in loader:
        loss = loss_fn(model(x), y)
        optimizer.zero_grad(); loss.backward(); optimizer.step()
        watcher.log(loss=loss)    # a tensor is fine: no host sync on unprobed steps
    watcher.close()               # or use it as a context manager

The first step discovers the modules (`discover`); from then on every ``every``-th
step is probed with the in-app trainer's own reductions (`forwards.StepProber`): each
module's activation statistics and histogram and dL/dh, of the forward the optimizer
step used, and its weight, gradient norm (taken in the optimizer's post-step hook:
unscaled under GradScaler; with ``scaler=`` dL/dh is divided by the step's scale too)
and update / weight ratio (weights copied in the pre-step hook). A compiled model's
probed steps run eagerly (`compiled`). Every step's loss stays on the device until a
probe's single transfer. Everything goes to one run file (`runs.store`) that
``desklab runs`` and the app read, live.

Under ``torch.distributed`` only rank 0 records by default (``ranks="all"``: one run
per rank, ``<run>/rank-N``); gradients are read after DDP's all-reduce and the watcher
never adds a collective.
"""

from __future__ import annotations

import os
import warnings
import weakref
from pathlib import Path

import torch
from torch import nn

from ..engine.step_log import StepLog
from ..runs.store import RunWriter
from ..util.cpu_load import OtherLoad, cpu_count
from .arguments import (check_arguments, distributed, inner_optimizer, loss_number,
                        optimizer_settings, run_path)
from .compiled import EagerSteps, anything_compiled, can_run_eagerly
from .discover import Discovery, ProbePoints, candidates, unwrap
from .forwards import StepProber, ZeroGradHooks
from .open_watchers import take_over
from .shield import Shield

MISSED_PROBES = 3  # probed steps in a row in which no watched module ran: give up, loudly
NOTHING_SEEN = "no watched module ran in the step's forward pass (does the forward go " \
               "through the watched model?)"
NOT_EAGER = ("the model is torch.compile'd and this torch has no torch.compiler.set_stance "
             "(2.6 or later) to run the probed steps eagerly: watch the model uncompiled")


def watch(model: nn.Module, optimizer: torch.optim.Optimizer | None = None, every: int = 10,
          run: str | os.PathLike | None = None, layers=None, ranks: str = "0",
          name: str | None = None, scaler=None, time_dim: int | None = None) -> Watcher:
    """Start watching ``model`` (and ``optimizer``'s updates); see the module docstring.

    Parameters
    ----------
    every : int
        Probe every ``every``-th step (1 = every step).
    run : name or path, optional
        A bare name: a new run of that name in the runs folder (``$DESKLAB_RUNS`` or the
        user data folder). A path with a folder: that run file (``.desklab-run`` is
        added), or the next free name beside it. Default: a new run named after the
        model.
    layers : list of str or module types, optional
        Which modules to measure (default: leaf modules with parameters and activations).
    ranks : "0" or "all"
        Under torch.distributed: record rank 0 only, or every rank (``<run>/rank-N``).
    scaler : torch.amp.GradScaler, optional
        The loop's AMP scaler: dL/dh is then recorded unscaled, as the weight gradients
        are (they are read after ``scaler.step`` unscaled them; dL/dh is read during
        the scaled backward).
    time_dim : int, optional
        nn.RNN / LSTM / GRU layers record ||dL/dh_t|| at every time step t on probed
        steps (the gradient through time, unrolled as the app does). With ``time_dim``
        every other measured module whose output has that axis (a transformer block,
        your own recurrent module: ``1`` for (batch, time, features)) records
        ||dL/d(output)|| at each position along it: the gradient arriving there.
    """
    return Watcher(model, optimizer, every, run, layers, ranks, name, scaler, time_dim)


class Watcher:
    """Hooks on a user's model; `log` once per training step; `close` at the end."""

    def __init__(self, model, optimizer=None, every=10, run=None, layers=None, ranks="0",
                 name=None, scaler=None, time_dim=None):
        check_arguments(model, optimizer, every, run, ranks, name, scaler, time_dim)
        optimizer = inner_optimizer(optimizer)  # (accelerate's wrapper: the HF Trainer)
        self.scaler = scaler
        (self.model, compiled), self.optimizer, self.every = unwrap(model), optimizer, every
        self.step = 0
        self.path: Path | None = None
        self.closed = False
        self.broken: str | None = None  # why recording stopped (the loop goes on)
        self.cause: str | None = None  # why the run failed, for its record
        rank = torch.distributed.get_rank() if distributed() else None
        self.enabled = rank is None or ranks == "all" or rank == 0
        if not self.enabled:
            return  # other ranks: every call is a no-op, no hooks, no file
        self.name = name or (Path(run).name if run else type(self.model).__name__)
        self.path = run_path(run, rank if ranks == "all" else None, self.name)
        take_over(self.model, self)  # a notebook cell run again: the last one closes
        self.shield = Shield()  # DeskLab's hooks never raise into the user's step
        self.discovery = Discovery(candidates(self.model, layers), time_dim, self.shield)
        # a torch.compile'd model's probed steps (and this first one) run eagerly, with
        # the module hooks a compiled graph leaves out (see compiled.py)
        self._eager, self._eager_steps = compiled, EagerSteps()
        self._eager_steps.on()
        weakref.finalize(self, self._eager_steps.off)  # never closed: the stance back
        self.prober: StepProber | None = None
        guard = self.shield.guard
        self._zero_grad = ZeroGradHooks([optimizer, self.model, model], guard(self._zeroed))
        self.writer: RunWriter | None = None
        self.steps = StepLog(1)
        self._before = None
        self._hook = optimizer.register_step_pre_hook(guard(self._pre_step)) \
            if optimizer else None
        self._post_hook = optimizer.register_step_post_hook(guard(self._post_step)) \
            if optimizer else None
        self._missed = 0  # probed steps in a row that saw no forward
        self._rank = rank
        self._load = OtherLoad(every_s=10.0)  # what else ran, in the run's meta

    # ------------------------------------------------------------ per step

    def _probed(self, step: int) -> bool:
        return step > 0 and step % self.every == 0

    # the three hooks below run inside the user's step: registered through the shield

    def _zeroed(self) -> None:
        if self.prober is not None:
            self.prober.gradients_zeroed()

    def _pre_step(self, optimizer, args, kwargs) -> None:
        if self.prober is not None and self.prober.active:
            self._before = self.prober.weights_before()  # for the update / weight ratio

    def _post_step(self, optimizer, args, kwargs) -> None:
        # after the step, not before: a closure runs the forward inside step()
        if self.prober is not None and self.prober.active:
            # the scale of this step's backward: scaler.step() runs this hook before
            # scaler.update() may change it
            scale = float(self.scaler.get_scale()) if self.scaler is not None else 1.0
            self.prober.step_taken(scale)  # see StepProber.step_taken

    def log(self, loss: torch.Tensor | float | None = None) -> None:
        """Record this step (call once per step, after ``optimizer.step()``).

        Never raises for DeskLab's own sake: a run that cannot be recorded (a read-only
        folder, a full disk, a closed watcher) says so once, as a warning, and the
        training loop goes on unwatched."""
        if not self.enabled or self.broken:
            return
        if self.closed:
            self._give_up("log() was called after close(); this step is not recorded")
            return
        if self.shield.error is not None:
            self._give_up(self.shield.why())
            return
        try:
            self._log(loss)
        except Exception as exc:  # noqa: BLE001 - the user's training must go on
            self._give_up(f"{type(exc).__name__}: {exc}")

    def _log(self, loss) -> None:
        lr = float(self.optimizer.param_groups[0]["lr"]) if self.optimizer else float("nan")
        value = loss.detach().float().mean() \
            if isinstance(loss, torch.Tensor) else torch.tensor(loss_number(loss))
        self.steps.add(value.reshape(()), lr)
        step = self.step
        probe_next = False
        if step == 0:
            self._start()
        elif self.prober.active:
            probe_next = not self._collect(step, value, lr)
            self._missed = self._missed + 1 if probe_next else 0
            if self._missed >= MISSED_PROBES:
                self._give_up(NOTHING_SEEN if not self._eager or can_run_eagerly()
                              else NOT_EAGER)
                return
        self.step += 1
        self.prober.active = probe_next or self._probed(self.step)
        # compiled after watch(), or anything compiled: probed steps run eagerly
        self._eager = self._eager or (self.prober.active and anything_compiled())
        if self.prober.active and self._eager:
            self._eager_steps.on()
        else:
            self._eager_steps.off()

    def _give_up(self, why: str) -> None:
        """Stop recording, once, with a warning; keep what was recorded."""
        self.broken = self.cause = why
        where = f" to {self.path}" if self.path else ""
        warnings.warn(f"desklab.watch stopped recording{where}: {why}. Your training "
                      "goes on unwatched.", RuntimeWarning, stacklevel=3)
        try:
            self._detach("failed", keep_steps=False)  # (the writer may be what failed)
        except Exception:  # noqa: BLE001 - already failing: leave the loop be
            pass

    def _start(self) -> None:
        """After the first step: fix the probe points and open the run file."""
        self.discovery.remove()
        points = self.discovery.points()  # (each RNN's TimeTap made once)
        if not points:
            raise RuntimeError(NOTHING_SEEN)  # said once by log(); the loop goes on
        model = ProbePoints(points)
        trainable = next((p for p in self.model.parameters() if p.requires_grad), None)
        self.prober = StepProber(model, trainable, self.shield)
        self.writer = RunWriter(self.path, {
            "name": self.name, "source": "watch", "every": self.every,
            "rank": self._rank, "modules": self.discovery.tree(self.model),
            "model": type(self.model).__name__,
            "optimizer": optimizer_settings(self.optimizer),
            "total_params": sum(p.numel() for p in self.model.parameters()),
            "device": str(next(self.model.parameters(), torch.empty(0)).device),
            # the user's own thread count, never changed here; runs show compares it with
            # the cores other programs left free (busy_other_cores, updated as it runs)
            "threads": {"threads": torch.get_num_threads(), "how": "user",
                        "cores": cpu_count()}}, next_free=True)
        self.path = self.writer.path  # the next free name where another run took it first
        self._load.start()

    def _collect(self, step: int, loss: torch.Tensor, lr: float) -> bool:
        """Probe this step; False when there was nothing to measure (no forward ran, or
        its batch was empty): the next step is probed instead."""
        if not self.prober.captured():
            return False
        extra = self.steps.pending()  # (2 * steps,) on the device: one transfer
        snapshot, host = self.prober.collect_with(step, loss, lr, self._before, extra)
        self._before = None
        self.writer.record("steps", self.steps.take(host))
        self.writer.record("snapshot", snapshot)  # (commits, with the meta below)
        if self._load.due():  # (due: started)
            self.writer.set_meta(busy_other_cores=self._load.since_start())
        return True

    # ------------------------------------------------------------ the end

    def close(self, status: str = "finished") -> None:
        """Write what is pending and mark the run ended; remove every hook. A second
        call does nothing; a failure to write warns (as `log` does) and never raises."""
        if not self.enabled or self.closed:
            return
        self.closed = True
        if self.broken:
            return
        if self.shield.error is not None:
            self._give_up(self.shield.why())
            return
        try:
            self._detach(status)
        except Exception as exc:  # noqa: BLE001 - the user's program must go on
            self._give_up(f"{type(exc).__name__}: {exc}")

    def _detach(self, status: str, keep_steps: bool = True) -> None:
        self._eager_steps.off()
        self._zero_grad.remove()
        self.discovery.remove()  # closed before the first log(): still attached
        if self.prober is not None:
            self.prober.remove()
        for hook in (self._hook, self._post_hook):
            if hook is not None:
                hook.remove()
        self._hook = self._post_hook = None
        writer, self.writer = self.writer, None
        if writer is not None:
            try:
                series = self.steps.take_now()
                # the steps logged since the last probe: also when the user's loop raised
                # (the losses just before a divergence are what they want to see)
                if series is not None and keep_steps:
                    writer.record("steps", series)
                busy = self._load.since_start()
                if busy is not None:
                    writer.set_meta(busy_other_cores=busy)
                if self.cause and status == "failed":  # `desklab runs show` says why
                    writer.set_meta(cause=self.cause[:500])
            finally:
                writer.close(status)

    def __enter__(self) -> Watcher:
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if kind is not None:
            self.cause = f"the training loop raised {kind.__name__}: {exc}"
        self.close("finished" if kind is None else "failed")
