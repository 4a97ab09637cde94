"""The watchers still open: one per model, and none left open at exit.

A notebook cell that calls ``desklab.watch(model, ...)`` is often run again. The watcher
it made the first time was never closed: its hooks stayed on the model and optimizer,
and its run stayed "running" in the Runs dock for as long as the kernel lived. A new
watcher of the same model closes the one before it (that run ends "finished" at the
step it reached), with one warning that says so.

A script that never calls ``close()`` (or leaves no ``with`` block) ended with its run
"interrupted" and the steps since its last probe lost. At the interpreter's exit, every
watcher still open is closed: "finished", or "failed" after an exception nobody caught.
"""

from __future__ import annotations

import atexit
import os
import sys
import warnings
import weakref

# the model (as watched: inside DDP and compile wrappers) -> (its watcher, weakly; the
# process that made it: a forked child that exits must not close its parent's run)
_WATCHING: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def take_over(model, watcher) -> None:
    """Close ``model``'s earlier watcher if it is still open; ``watcher`` is its own."""
    ref, _ = _WATCHING.get(model, (None, None))
    previous = ref() if ref is not None else None
    if previous is not None and not previous.closed:
        where = f", to {previous.path}," if previous.path else ""
        warnings.warn(f"desklab.watch: this model was already watched{where} and that "
                      f"watcher was never closed; it is closed now (its run ends at step "
                      f"{max(previous.step - 1, 0)}) and the new one records from here.",
                      RuntimeWarning, stacklevel=5)  # (at desklab.watch in the user's code)
        previous.close()
    _WATCHING[model] = (weakref.ref(watcher), os.getpid())


@atexit.register
def close_at_exit() -> None:
    # the interpreter sets sys.last_value when an exception ended the program
    error = getattr(sys, "last_value", None)
    for ref, pid in list(_WATCHING.values()):
        watcher = ref()
        if watcher is not None and not watcher.closed and pid == os.getpid():
            if error is not None:
                watcher.cause = f"the script ended with {type(error).__name__}: {error}"
            watcher.close("failed" if error is not None else "finished")
