"""Download a real dataset off the GUI thread, with progress and cancel.

`engine.download.ensure_dataset` runs as a `Task`; Cancel sets the flag the download
checks between chunks, and what was fetched stays as ``.part`` to resume.
"""

from __future__ import annotations

from pathlib import Path

from ...engine.download import ensure_dataset
from .tasks import Task


class DatasetFetcher(Task):
    """``done`` (the data's folder) or ``failed`` (why not, in one line)."""

    def __init__(self, parent=None):
        super().__init__("desklab-download", parent)

    def start(self, name: str, root: Path) -> None:
        super().start(lambda progress, cancelled: ensure_dataset(name, root, progress,
                                                                 cancelled))
