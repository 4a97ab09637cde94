"""A device-to-host transfer the training loop does not wait for.

On a GPU a probe's numbers (and the per-step log riding with them) are packed into one
device tensor and copied into pinned host memory asynchronously. The loop launches the
next step's work first and takes the numbers after: by then the device has run the
probe's reductions and the copy in the background, where waiting for them at once left
the device idle while the host waited and the host idle while the device worked (on a
launch-bound step, a probe's reductions take the device longer than a step's launches).
On the CPU there is nothing to overlap: the numbers are there at once.
"""

from __future__ import annotations

from typing import Callable, Generic, TypeVar

import numpy as np
import torch

T = TypeVar("T")


class InFlight(Generic[T]):
    """``packed`` (a 1-D device tensor) on its way to the host; `wait` gives
    ``unpack(host values)``.

    Parameters
    ----------
    packed : Tensor
        What to bring over; on CUDA the copy is queued behind the work that makes it.
    unpack : callable
        Turns the host array into what the receiver wants.
    """

    def __init__(self, packed: torch.Tensor, unpack: Callable[[np.ndarray], T]):
        self._unpack = unpack
        self._event = None
        if packed.device.type == "cuda":
            self._host = torch.empty(packed.shape, dtype=packed.dtype, pin_memory=True)
            self._host.copy_(packed, non_blocking=True)
            self._event = torch.cuda.Event()
            self._event.record()
        else:
            self._host = packed.cpu()  # the CPU (or MPS: a plain copy)

    @property
    def overlaps(self) -> bool:
        """Whether waiting later pays: the copy runs behind the device's work."""
        return self._event is not None

    def wait(self) -> T:
        """The unpacked numbers; blocks until the copy has landed."""
        if self._event is not None:
            self._event.synchronize()
        return self._unpack(self._host.numpy())
