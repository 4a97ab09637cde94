"""Choosing and describing the compute device."""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch

from ..errors import DeskLabError


class DeviceError(DeskLabError, RuntimeError):
    """The requested device is not available here."""


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` picks cuda, then mps, then cpu; a named device must exist."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise DeviceError("CUDA was requested but no CUDA GPU is available")
    if name == "mps" and not (getattr(torch.backends, "mps", None)
                              and torch.backends.mps.is_available()):
        raise DeviceError("MPS was requested but is not available on this machine")
    if name not in ("cpu", "cuda", "mps"):
        raise DeviceError(f"unknown device {name!r} (use auto, cpu, cuda or mps)")
    return torch.device(name)


def describe_device(device: torch.device) -> str:
    """Human name: the CUDA card, Apple MPS, or CPU."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "mps (Apple GPU)"
    return "cpu"


def available_devices() -> list[str]:
    """Devices found on this machine, for the GUI's picker."""
    found = ["cpu"]
    if torch.cuda.is_available():
        found.insert(0, "cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        found.insert(0, "mps")
    return found


@contextlib.contextmanager
def no_host_sync() -> Iterator[None]:
    """Inside, any CUDA operation that makes the host wait for the device raises (a
    `Trainer.step_guard` for proving unprobed steps never synchronise)."""
    torch.cuda.set_sync_debug_mode("error")
    try:
        yield
    finally:
        torch.cuda.set_sync_debug_mode("default")
