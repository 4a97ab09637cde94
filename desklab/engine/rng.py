"""Private random streams on top of torch's global generators.

Dropout can only draw from torch's process-wide generators (the CPU's and one per
CUDA device), and default inits draw from the CPU's. A run trains in one thread
while the at-init preview, or a second run in the compare window, works in
another. Reseeding the global generators from either would steal numbers from the
other, and `torch.manual_seed` reseeds every CUDA device too. So each user keeps
its own `RngStream` and swaps it in, under one lock, only around its own draws:
a seeded run is reproducible whatever runs beside it.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Iterator

import torch

GLOBAL_RNG_LOCK = threading.RLock()


class RngStream:
    """One user's stream of the CPU generator and, for CUDA, its device's generator.

    Parameters
    ----------
    seed : int
        Seeds both generators, as `torch.manual_seed` would for this device.
    device : torch.device
        Where the draws happen (dropout on the GPU uses the GPU's generator).
    """

    def __init__(self, seed: int, device: torch.device | str = "cpu"):
        device = torch.device(device)
        self._cuda: int | None = None
        if device.type == "cuda":
            self._cuda = device.index if device.index is not None else \
                torch.cuda.current_device()
        with GLOBAL_RNG_LOCK:
            saved = self._get()
            torch.default_generator.manual_seed(seed)
            if self._cuda is not None:
                with torch.cuda.device(self._cuda):
                    torch.cuda.manual_seed(seed)  # this device only, not manual_seed_all
            self._state = self._get()
            self._set(saved)

    def _get(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        cuda = torch.cuda.get_rng_state(self._cuda) if self._cuda is not None else None
        return torch.get_rng_state(), cuda  # host-side copies: no device sync

    def _set(self, state: tuple[torch.Tensor, torch.Tensor | None]) -> None:
        torch.set_rng_state(state[0])
        if self._cuda is not None:
            torch.cuda.set_rng_state(state[1], self._cuda)

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        """Draws inside come from this stream; the global generators are left as found."""
        with GLOBAL_RNG_LOCK:
            saved = self._get()
            self._set(self._state)
            try:
                yield
            finally:
                self._state = self._get()
                self._set(saved)


RANDOM_MODULES = (torch.nn.Dropout, torch.nn.Dropout1d, torch.nn.Dropout2d, torch.nn.Dropout3d,
                  torch.nn.AlphaDropout, torch.nn.FeatureAlphaDropout)


def draws_random(model: torch.nn.Module) -> bool:
    """Whether a training-mode forward pass of ``model`` draws random numbers.

    Without any, a run needs no stream swap per step (about 20 us on a GPU, where a
    small net's whole step is about 2 ms)."""
    return any(isinstance(m, RANDOM_MODULES) for m in model.modules())
