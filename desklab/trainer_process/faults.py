"""Failures made on purpose, for the tests of what a trainer's death does to the app.

The app reads ``DESKLAB_TRAINER_FAULT`` when it starts a run and passes it with the
job (unset: nothing happens). Forms, with N a step number:

    segfault@N   a segmentation fault in native code as step N starts
    exit@N       os._exit(3) as step N starts (no cleanup, no last message)
    raise@N      a RuntimeError in step N (the loop reports it as a failed run)
    oom@N        torch's CUDA out-of-memory error in step N (as a GPU run would raise)
    slow=S       every step takes S more seconds (a stop must not wait for it)
    free=B       the machine is said to have B bytes of memory free (the run is refused)
"""

from __future__ import annotations

import ctypes
import os
import time

ENV = "DESKLAB_TRAINER_FAULT"


def fault_from_env() -> str:
    return os.environ.get(ENV, "")


_real: dict = {}


def before_build(spec: str) -> None:
    """The faults that must be in place before the trainer is built (``free=B``); every
    job calls this, so a process that trains the next job is itself again."""
    from ..engine import resources
    real = _real.setdefault("free_bytes", resources.free_bytes)
    kind, _, arg = spec.replace("=", "@").partition("@")
    resources.free_bytes = (lambda device: int(arg)) if kind == "free" else real


def inject_fault(trainer, spec: str) -> None:
    """Wrap ``trainer``'s step so that it fails as ``spec`` says (see module doc)."""
    kind, _, arg = spec.replace("=", "@").partition("@")
    if kind not in ("segfault", "exit", "raise", "oom", "slow"):
        return
    original = trainer._train_step

    def faulty(*args, **kwargs):
        if kind == "slow":
            time.sleep(float(arg))
        elif trainer.step >= int(arg):
            if kind == "segfault":
                ctypes.string_at(0)  # reads address 0: SIGSEGV
            elif kind == "exit":
                os._exit(3)
            elif kind == "raise":
                raise RuntimeError(f"a failure injected at step {trainer.step} ({ENV})")
            elif kind == "oom":
                import torch
                raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate "
                                                  "8.00 GiB")
        return original(*args, **kwargs)

    trainer._train_step = faulty
