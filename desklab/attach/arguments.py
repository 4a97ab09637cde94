"""What `desklab.watch` is given: its arguments checked before the user's loop starts,
a loss turned into a number, the optimizer's settings as recorded, and where the run
goes (a bare name into the run store, a path beside any run already there)."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from ..runs.folder import new_run_path
from ..runs.store import SUFFIX, first_free


def check_arguments(model, optimizer, every, run, ranks, name, scaler=None,
                    time_dim=None) -> None:
    """Refuse what cannot work at `watch()`, before the user's loop starts."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"watch() needs a torch.nn.Module, not {type(model).__name__}")
    if isinstance(model, torch.jit.ScriptModule):  # scripted: no hooks; traced: never run
        raise TypeError("watch() cannot measure a TorchScript module (torch.jit.script or "
                        "trace): its layers run inside the compiled graph, where no hook "
                        "sees them. Watch the eager model you scripted (torch.compile'd "
                        "models are measured)")
    if optimizer is not None and not hasattr(optimizer, "param_groups"):
        raise TypeError(f"optimizer should be a torch optimizer (or None), not "
                        f"{type(optimizer).__name__}")
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ValueError(f"every should be a whole number of steps >= 1, not {every!r}")
    if run is not None and not isinstance(run, (str, os.PathLike)) or run == "":
        raise TypeError(f"run should be a name or a path, not {run!r}")
    if ranks not in ("0", "all"):
        raise ValueError(f"ranks should be '0' or 'all', not {ranks!r}")
    if name is not None and not isinstance(name, str):
        raise TypeError(f"name should be text, not {type(name).__name__}")
    if time_dim is not None and (isinstance(time_dim, bool) or not isinstance(
            time_dim, int) or time_dim < 1):
        raise ValueError(f"time_dim should be the time axis of a module's output (1 "
                         f"for (batch, time, features); not the batch axis 0), not "
                         f"{time_dim!r}")
    if scaler is not None and not hasattr(scaler, "get_scale"):
        raise TypeError(f"scaler should be a torch.amp.GradScaler, not "
                        f"{type(scaler).__name__}")


def inner_optimizer(optimizer):
    """The torch optimizer inside wrappers that hold one as ``.optimizer`` (accelerate's
    AcceleratedOptimizer, which the HF Trainer hands out; Lightning's): the one whose
    ``step`` runs, so its step hooks fire."""
    while isinstance(getattr(optimizer, "optimizer", None), torch.optim.Optimizer):
        optimizer = optimizer.optimizer
    return optimizer


def loss_number(loss) -> float:
    if loss is None:
        return float("nan")
    try:
        return float(loss)
    except (TypeError, ValueError):
        return float("nan")  # not a number: the step is recorded without its loss


def run_path(run, rank: int | None, default_name: str) -> Path:
    """Where the run goes. A bare name (``run="my-run"``) is a new run of that name in
    the run store, so ``desklab runs show my-run`` finds it; a path with a folder
    (``run="runs/my-run"``) is that file, relative to the working directory, and when a
    run is already there the next free name beside it (``runs/my-run-2``): a second
    run never fails and never replaces the first."""
    if run is None or (rank is None and _bare(run)):
        path = new_run_path(default_name if run is None else str(run))
        return path if rank is None else path.with_suffix("") / f"rank-{rank}{SUFFIX}"
    path = Path(run)
    if rank is not None:
        return path / f"rank-{rank}{SUFFIX}"
    stem = path.name[:-len(SUFFIX)] if path.name.endswith(SUFFIX) else path.name
    return first_free(path.with_name(stem + SUFFIX))


def _bare(run) -> bool:
    text = os.fspath(run)
    return os.sep not in text and "/" not in text and not Path(text).is_absolute() \
        and not text.endswith(SUFFIX)


def optimizer_settings(optimizer) -> dict | None:
    """The optimizer's class and its first group's numeric settings (lr, momentum,
    betas, weight decay...), as the script set them: what the app shows while following."""
    if optimizer is None:
        return None
    inner = inner_optimizer(optimizer)
    settings = {}
    groups = getattr(inner, "param_groups", None) or [{}]
    for key, value in groups[0].items():
        if isinstance(value, bool) or key == "params":
            continue
        if isinstance(value, (int, float)):
            settings[key] = float(value)
        elif isinstance(value, (tuple, list)) and value and \
                all(isinstance(v, (int, float)) for v in value):
            settings[key] = [float(v) for v in value]
    return {"name": type(inner).__name__, "settings": settings}


def distributed() -> bool:
    """Whether torch.distributed is running (then only the chosen ranks record)."""
    return torch.distributed.is_available() and torch.distributed.is_initialized()
