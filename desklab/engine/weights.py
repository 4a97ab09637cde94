"""Saving and loading weights: state_dicts only, never arbitrary pickles."""

from __future__ import annotations

import io
import os
import warnings
from pickle import UnpicklingError  # the error type only: torch refuses the objects

import torch
from torch import nn

from ..errors import DeskLabError
from ..util.files import atomic_path, read_regular_file

MAX_WEIGHTS_BYTES = 4 * 2**30  # a state_dict larger than this is not a DeskLab design's


class WeightsFileError(DeskLabError, ValueError):
    """A weights file that cannot be used with this design; the message says why."""


def save_weights(model: nn.Module, path: str | os.PathLike) -> None:
    """``torch.save`` of the state_dict (on the CPU), atomically."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_weights(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Load a state_dict with ``weights_only=True``: tensors only, no code runs.

    A regular file of bounded size only (a FIFO or device never hangs); anything
    unreadable or that is not a mapping of names to tensors is a `WeightsFileError`.
    """
    try:
        raw = read_regular_file(path, MAX_WEIGHTS_BYTES)
    except OSError as exc:
        raise WeightsFileError(f"{path}: {exc.strerror or exc}") from None
    except ValueError as exc:  # "is a folder, not a file", "is not a regular file"...
        raise WeightsFileError(f"{path} {exc}") from None
    try:
        with warnings.catch_warnings():  # torch's notes on odd pickle protocols
            warnings.simplefilter("ignore")
            state = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except UnpicklingError:  # code or objects: refused, never run
        raise WeightsFileError(f"{path} holds Python objects other than tensors; they are "
                               f"never loaded (save with torch.save(model.state_dict()))"
                               ) from None
    except Exception as exc:  # noqa: BLE001 - a broken file fails in many ways
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise WeightsFileError(f"{path} is not a weights file saved by DeskLab or "
                               f"torch.save(model.state_dict()) ({first})") from None
    if not isinstance(state, dict) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise WeightsFileError(f"{path} does not hold a state_dict (names -> tensors)")
    return state


def apply_weights(model: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Load ``state`` into ``model``, or say in one line how it does not fit."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    extra = sorted(set(state) - set(own))
    shapes = [f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}"
              for k in own if k in state and state[k].shape != own[k].shape]
    if missing or extra or shapes:
        parts = ([f"missing {', '.join(missing[:3])}"] if missing else []) + \
                ([f"unexpected {', '.join(extra[:3])}"] if extra else []) + \
                ([f"shape {shapes[0]}"] if shapes else [])
        raise WeightsFileError(f"{source}: the weights do not fit this design "
                               f"({'; '.join(parts)})")
    model.load_state_dict(state, strict=True)
