"""DeskLab's code inside a user's training step, kept from ever breaking it.

`desklab.watch` runs code inside the user's own step: forward hooks on their modules,
tensor hooks during their backward, the optimizer's pre- and post-step hooks and the
wrapped ``zero_grad``. An error raised there would surface in the user's loop, far from
DeskLab, and stop their training. Each of those hooks runs through one `Shield`: it
keeps the first error instead of raising it, every shielded hook does nothing from then
on, and the watcher gives up at its next ``log()`` (or ``close()``) with one warning that
names the error, as it does for a run it cannot write.
"""

from __future__ import annotations

from functools import partial


class Shield:
    """The first error any shielded hook raised (``error``); None while all is well."""

    def __init__(self):
        self.error: Exception | None = None

    def run(self, hook, *args, **kwargs):
        """``hook(*args, **kwargs)``; None (the hook "changed nothing") when it raises,
        or when any shielded hook raised before."""
        if self.error is not None:
            return None
        try:
            return hook(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the user's step must go on
            self.error = exc
            return None

    def guard(self, hook):
        """``hook`` run through the shield: for registering as a torch hook."""
        return partial(self.run, hook)

    def why(self) -> str:
        """The error, in the words `Watcher` warns with."""
        return (f"{type(self.error).__name__}: {self.error} (raised by its hooks inside "
                f"your training step)")
