"""Hyperparameter search the cs231n way, on Optuna: random, log-uniform, coarse to fine.

The first stage samples every searched setting uniformly on a log scale over its whole
range (random search beats a grid: Bergstra & Bengio 2012); the second samples a
narrower box around the best trials so far (one decade around each best value, cut to
the range), as the notes teach. Hopeless trials are stopped early by Optuna's median
pruner, fed the validation accuracy at each evaluation (the validation loss, lower
is better, for a regression: ``score.py``). Trial 0 is the design's own
setting, so "did the search beat it?" has an answer. Every trial is a normal run in
the run store. The study lives in SQLite (Optuna's RDB storage): several processes, or
machines pointed at one shared database, work on the same study.
"""

from __future__ import annotations

import logging
import math
import os

from ..design import NetworkDesign
from ..errors import DeskLabError
from ..runs import RunWriter, new_run_path
from ..runs.store import design_meta
from ..engine.trainer import Trainer
from .score import ACCURACY, Score, score_of
from .space import DEFAULT_SPACE, OPTIONAL_SPACE, SearchError, Space, fine_box
from .storage import check_storage, fail_stale_trials, open_storage

__all__ = ["DEFAULT_SPACE", "OPTIONAL_SPACE", "SearchError", "Space", "cancel_search",
           "create_study", "default_storage", "run_search", "study_rows"]

COARSE_SHARE = 0.6  # of the trials sample the whole range; the rest the best region


def objective_for(design: NetworkDesign, spaces: tuple[Space, ...], trials: int,
                  record: bool = True):
    """The Optuna objective: the validation score of ``design`` with the trial's values
    (accuracy, or the loss for a regression)."""
    import optuna
    score = score_of(design)
    n_coarse = max(1, math.ceil(trials * COARSE_SHARE))

    def objective(trial: optuna.Trial) -> float:
        done = [t for t in trial.study.trials if t.state == optuna.trial.TrialState.COMPLETE
                and t.value is not None]
        fine = trial.number >= n_coarse and done
        best = sorted(done, key=lambda t: score.order(t.value))[:3] if fine else []
        d = design.copy()
        for s in spaces:
            lo, hi = fine_box(s, [t.params[s.name] for t in best if s.name in t.params])
            value = trial.suggest_float(s.name, lo, hi, log=s.log)
            setattr(d.train, s.name, int(round(value)) if isinstance(
                getattr(d.train, s.name), int) else value)
        d.name = f"{design.name}-trial-{trial.number}"
        trial.set_user_attr("stage", "fine" if fine else "coarse")
        return _train(d, trial, record, score)

    return objective


def _train(design: NetworkDesign, trial, record: bool, score: Score) -> float:
    import optuna
    try:
        trainer = Trainer(design)
    except DeskLabError as exc:
        trial.set_user_attr("error", str(exc))
        raise
    writer = RunWriter(new_run_path(design.name), design_meta(
        design, trainer.device_name, trainer.model_total_params),
        next_free=True) if record else None
    value = float("nan")
    try:
        for event in trainer.events():
            if writer is not None:
                writer.record(event.kind, event.payload)
            if event.kind == "metrics":
                value = getattr(event.payload, score.key)
                if math.isfinite(value):
                    trial.report(value, event.step)
                    if trial.should_prune():
                        trainer.state = "pruned"
                        raise optuna.TrialPruned()
                if _stop_requested(trial):  # Cancel, from any process, via the storage
                    trainer.state = "stopped"
                    trial.study.stop()
                    raise optuna.TrialPruned()
    finally:
        if writer is not None:
            writer.close(trainer.state)
            trial.set_user_attr("run", str(writer.path))
    if trainer.state != "diverged" and math.isfinite(value):
        return value
    if score is ACCURACY:
        return 0.0  # a diverged setting is as bad as chance or worse: rank it last
    # a loss has no "as bad as chance": the trial fails, saying why, and ranks nowhere
    why = ("diverged (the loss is not finite)" if trainer.state == "diverged" else
           "no validation loss (the design holds out no validation data)")
    trial.set_user_attr("error", why)
    raise SearchError(why)


def _stop_requested(trial) -> bool:
    study = getattr(trial, "study", None)
    return bool(study is not None and study.user_attrs.get("stop"))


def cancel_search(storage: str, name: str) -> None:
    """Ask every process working on the study to stop (each ends its current trial at
    its next evaluation and takes no more)."""
    import optuna
    optuna.load_study(study_name=name, storage=open_storage(storage)).set_user_attr(
        "stop", True)


def default_storage() -> str:
    return check_storage(None)


def study_rows(storage: str, name: str) -> list[dict]:
    """The study's trials so far, as dict rows (the app polls this while it runs); a
    trial whose process died (no heartbeat) is marked failed, not left running."""
    import optuna
    try:
        study = optuna.load_study(study_name=name, storage=open_storage(storage))
    except KeyError:  # not created yet
        return []
    fail_stale_trials(study)
    return [{"number": t.number, "params": t.params, "value": t.value,
             "state": t.state.name.lower(), "stage": t.user_attrs.get("stage"),
             "run": t.user_attrs.get("run"), "error": t.user_attrs.get("error")}
            for t in study.trials]


def create_study(storage: str, name: str, seed: int = 0, trials: int = 12,
                 score: Score = ACCURACY) -> None:
    """Create the study (and the storage's tables) now, from one process."""
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    _study(storage, name, seed, True, max(2, trials // 4), score=score)


def _study(storage: str, name: str, seed: int, create: bool, n_startup: int,
           spaces: tuple[Space, ...] | None = None, score: Score = ACCURACY):
    import optuna

    from .sampler import TrialSeededSampler
    sampler = TrialSeededSampler(seed)  # processes joining one study draw apart
    pruner = optuna.pruners.MedianPruner(n_startup_trials=n_startup, n_warmup_steps=1)
    if not create:
        return optuna.load_study(study_name=name, storage=open_storage(storage),
                                 sampler=sampler, pruner=pruner)
    # or join it: the app creates the study first, so it can poll it at once
    study = optuna.create_study(study_name=name, storage=open_storage(storage),
                                direction=score.direction, sampler=sampler,
                                pruner=pruner, load_if_exists=True)
    if study.direction.name.lower() != score.direction:  # an existing study
        raise SearchError(f"the study {name!r} ranks trials the other way "
                          f"({study.direction.name.lower()}): give another --study")
    if spaces is not None:
        searched = [vars(s) for s in spaces]
        before = study.user_attrs.get("space")
        if before is None:
            study.set_user_attr("space", searched)
        elif before != searched:  # found now, not after every trial has run
            raise SearchError(f"the study {name!r} searches {_names(before)}, not "
                              f"{_names(searched)}: give another --study")
    return study


def _names(space: list[dict]) -> str:
    return ", ".join(f"{s['name']} {s['low']:g}..{s['high']:g}" for s in space)


def _exit_with_parent() -> None:
    """A worker ends when the search that started it is gone (killed with -9, its
    trials would otherwise go on for nobody)."""
    import threading
    import time
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)
    threading.Thread(target=watch, name="desklab-parent-watch", daemon=True).start()


class _ExpectedFailures(logging.Filter):
    """Optuna logs a trial that raised with its traceback, then "failed with value
    None": for a setting the design refuses (a batch larger than the data) or a loss
    that diverged, the reason is kept with the trial and the table prints it, so both
    lines go. Any other error keeps its traceback (a bug must be seen)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, DeskLabError):
            return False
        return not record.getMessage().endswith("failed with value None.")


def _quiet_expected_failures() -> None:
    """Install `_ExpectedFailures` (once) on the logger of Optuna's optimize loop."""
    log = logging.getLogger("optuna.study._optimize")
    if not any(isinstance(f, _ExpectedFailures) for f in log.filters):
        log.addFilter(_ExpectedFailures())


def _worker(storage: str, name: str, design: NetworkDesign, spaces, trials: int,
            share: int, seed: int, record: bool) -> None:
    """One process's share of the trials (torch on one thread: the cores are shared)."""
    import optuna
    import torch
    _exit_with_parent()
    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    _quiet_expected_failures()
    study = _study(storage, name, seed, False, max(2, trials // 4))
    # a setting that makes the design invalid (a batch larger than the data) fails its
    # trial, with the reason kept, and the search goes on
    study.optimize(objective_for(design, spaces, trials, record), n_trials=share,
                   catch=(DeskLabError,))


def run_search(design: NetworkDesign, spaces: tuple[Space, ...] = DEFAULT_SPACE,
               trials: int = 12, storage: str | None = None, jobs: int = 1,
               name: str | None = None, record: bool = True) -> dict:
    """Run (or join, with a shared ``storage``) a search; the trials, the best one and
    the design's own setting measured the same way."""
    try:
        import optuna
    except ImportError:
        raise SearchError("the search needs Optuna: pip install \"desklab[search]\"") from None
    import time
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = check_storage(storage)
    name = name or f"{design.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    seed, score = design.train.seed, score_of(design)
    from sqlalchemy.exc import SQLAlchemyError  # Optuna's storage layer
    try:
        _study(storage, name, seed, True, max(2, trials // 4), spaces, score)
    except (optuna.exceptions.OptunaError, SQLAlchemyError, ValueError, OSError) as exc:
        raise SearchError(f"--storage {storage}: {_first_line(exc)}") from None
    jobs = max(1, min(jobs, trials, os.cpu_count() or 1))  # more would only queue
    shares = [trials // jobs + (1 if i < trials % jobs else 0) for i in range(jobs)]
    if jobs == 1:
        _worker(storage, name, design, spaces, trials, trials, seed, record)
    else:
        with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
            for future in [pool.submit(_worker, storage, name, design, spaces, trials, share,
                                       seed, record)
                           for share in shares]:
                future.result()
    stopped = bool(optuna.load_study(study_name=name, storage=open_storage(storage))
                   .user_attrs.get("stop"))
    baseline = None
    if not stopped:
        try:
            baseline = _train(design.copy(), _NoTrial(), record, score)
        except SearchError:  # the design's own setting diverged: nothing to beat
            pass
    rows = study_rows(storage, name)
    complete = [r for r in rows if r["state"] == "complete" and r["value"] is not None]
    best = min(complete, key=lambda r: score.order(r["value"])) if complete else None
    return {"format": "desklab.search/1", "design": design.name, "study": name,
            "storage": storage, "space": [vars(s) for s in spaces], "trials": rows,
            "score": vars(score),
            "best": best, "cancelled": stopped,
            "baseline": {"params": {s.name: getattr(design.train, s.name) for s in spaces},
                         "value": baseline},
            "beats_baseline": bool(best and baseline is not None and
                                   score.better(best["value"], baseline))}


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


class _NoTrial:
    """The design's own setting, trained like a trial but outside the study."""

    def report(self, value, step) -> None:
        pass

    def should_prune(self) -> bool:
        return False

    def set_user_attr(self, key, value) -> None:
        pass
