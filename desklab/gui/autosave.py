"""Autosave: the current design every 30 s while it has unsaved changes, and on an
unexpected exit; offered back at the next start. Nothing the user made is lost."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer

from ..design import DesignFileError, NetworkDesign, load_design, save_design
from .document import DesignDocument

AUTOSAVE_MS = 30_000


class Autosaver(QObject):
    """Keeps ``path`` holding the latest unsaved design of ``doc``."""

    def __init__(self, doc: DesignDocument, path: Path, parent=None):
        super().__init__(parent)
        self.doc, self.path = doc, Path(path)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.save_now)
        self.timer.start(AUTOSAVE_MS)
        self._previous_hook = sys.excepthook
        sys.excepthook = self._on_crash

    def save_now(self) -> bool:
        """Write the design if it has unsaved changes; True when written."""
        if not self.doc.modified:
            return False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            save_design(self.doc.design, self.path)
        except OSError:
            return False  # autosave is best effort; the real save reports errors
        return True

    def discard(self) -> None:
        """The user saved or chose to discard: no autosave is needed any more."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        except OSError:
            pass

    def pending(self) -> tuple[NetworkDesign, float] | None:
        """A design left by an earlier session (and when it was saved), if any."""
        if not self.path.is_file():
            return None
        try:
            return load_design(self.path), self.path.stat().st_mtime
        except (DesignFileError, OSError):
            return None

    def stop(self) -> None:
        self.timer.stop()
        if sys.excepthook == self._on_crash:
            sys.excepthook = self._previous_hook

    def _on_crash(self, kind, value, tb) -> None:
        self.save_now()
        self._previous_hook(kind, value, tb)


def describe_age(mtime: float) -> str:
    minutes = (time.time() - mtime) / 60
    if minutes < 1:
        return "less than a minute ago"
    if minutes < 120:
        return f"{minutes:.0f} minutes ago"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(mtime))
