"""A recorded run's report: the ``desklab.report/1`` JSON that ``desklab train --json``
writes, built again from the run file (``desklab runs show --json``, the app's export
of a reopened or followed run)."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace


def recorded_report(reader, history) -> dict:
    """The report of the run ``reader`` reads (a RunReader, or a remote one), whose
    events made ``history``."""
    from ..metrics.report import train_report
    from .checks import recorded_class_names
    from .folder import read_info
    meta = reader.meta
    if isinstance(reader.path, str):  # remote: its listing's status, the steps it sent
        steps = int(history.steps.steps[-1]) + 1 if len(history.steps) else 0
        info = SimpleNamespace(status=reader.status, steps=steps)  # (the server's word)
    else:
        info = read_info(reader.path)
    ended = meta.get("ended") or time.time()
    seconds = max(0.0, ended - meta.get("started", ended))
    design = SimpleNamespace(name=meta.get("name", Path(str(reader.path)).stem),
                             train=SimpleNamespace(seed=meta.get("seed")))
    trainer = SimpleNamespace(device_name=meta.get("device", "?"),
                              model_total_params=meta.get("total_params", 0),
                              state=info.status, step=info.steps, train_seconds=seconds)
    return train_report(design, trainer, history, recorded_class_names(meta))


def report_of_run(path) -> dict:
    """The report of the run file at ``path`` as it is now (raises RunFileError,
    OSError and sqlite3.Error as RunReader does)."""
    from .store import RunReader
    reader = RunReader(path)
    try:
        return recorded_report(reader, reader.history())
    finally:
        reader.close()
