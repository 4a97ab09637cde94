"""Will a run fit? An estimate of its memory against what the machine has free now,
made before any data or weights are allocated, so a run too big for this machine is
refused with the numbers instead of swapping the desktop to a halt or dying of OOM.

The design-level caps in `desklab.design.analysis` bound what any machine would
accept; this checks the machine at hand (RAM from /proc/meminfo, GPU memory from
`torch.cuda.mem_get_info`). Estimates are deliberately rough and generous.
"""

from __future__ import annotations

import math
import os

import torch

from ..design import NetworkDesign, analyze
from ..errors import DeskLabError

HEADROOM = 0.8  # use at most this share of the memory free now


class DoesNotFitError(DeskLabError, MemoryError):
    """The run would need more memory than is free; the message has the numbers."""


def estimate_bytes(design: NetworkDesign) -> dict[str, int]:
    """Rough bytes a run needs: data (float32, held on the device), parameters with
    gradients and two optimizer states, and one batch of activations (about six copies:
    pre-activation, activation, norm, their gradients)."""
    analysis = analyze(design)
    shape = design.input.shape or ()
    samples = design.input.resolved_params().get("samples") or 0
    data = int(samples) * math.prod(shape) * 4 if shape else 0
    params = analysis.total_params * 4 * 4  # weights, grads, 2 optimizer states
    floats = sum(math.prod(i.out_shape) for i in analysis.layers
                 if all(isinstance(d, int) for d in i.out_shape))
    batch = design.train.batch_size if isinstance(design.train.batch_size, int) else 0
    activations = batch * floats * 4 * 6
    return {"data": data, "parameters": params, "activations": activations}


def free_bytes(device: torch.device) -> int | None:
    """Memory free on ``device`` now, or None where it cannot be read."""
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_fits(design: NetworkDesign, device: torch.device,
               free: int | None = None) -> None:
    """Raise `DoesNotFitError` when the estimate exceeds `HEADROOM` of the free memory."""
    free = free_bytes(device) if free is None else free
    if free is None:
        return
    need = estimate_bytes(design)
    total = sum(need.values())
    if total > HEADROOM * free:
        parts = ", ".join(f"{k} {v / 2**30:.1f}" for k, v in need.items() if v)
        where = "GPU" if device.type == "cuda" else "RAM"
        raise DoesNotFitError(
            f"this run needs about {total / 2**30:.1f} GiB ({parts} GiB) but only "
            f"{free / 2**30:.1f} GiB of {where} is free: use fewer samples, a smaller "
            f"batch or narrower layers" + (", or train on the CPU" if where == "GPU" else ""))
