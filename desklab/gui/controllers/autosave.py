"""Autosave: the current design every 30 s while it has unsaved changes, and on an
unexpected exit; offered back at the next start. Nothing the user made is lost.

An autosave that cannot be opened must not become a crash loop: one that fails to
load, or whose restore was started twice without finishing (the app died while
restoring it), is set aside as ``autosave.json.bad`` and the user is told where.
"""

from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer

from ...design import DesignFileError, NetworkDesign, load_design, save_design
from ...util.files import atomic_write_text
from .document import DesignDocument

AUTOSAVE_MS = 30_000
MAX_ORIGIN = 4096  # bytes read of the ".origin" file (a path)


class Autosaver(QObject):
    """Keeps ``path`` holding the latest unsaved design of ``doc``."""

    def __init__(self, doc: DesignDocument, path: Path, parent=None):
        super().__init__(parent)
        self.doc, self.path = doc, Path(path)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.save_now)
        self.timer.start(AUTOSAVE_MS)
        self.notice: str | None = None  # why the last pending() set an autosave aside
        self.report = None  # called (exception, autosaved) after an uncaught exception
        self._previous_hook = sys.excepthook
        sys.excepthook = self._on_crash

    def save_now(self) -> bool:
        """Write the design if it has unsaved changes; True when written."""
        if not self.doc.modified:
            return False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            save_design(self.doc.design, self.path)
            if self.doc.path is not None:  # the file it belongs to, for the restore
                atomic_write_text(self._origin_path, str(Path(self.doc.path).absolute()))
            else:
                self._origin_path.unlink(missing_ok=True)
        except OSError:
            return False  # autosave is best effort; the real save reports errors
        return True

    @property
    def _origin_path(self) -> Path:
        return self.path.with_name(self.path.name + ".origin")

    def _origin(self) -> Path | None:
        """The design file the autosave was made from (None: an untitled design)."""
        try:
            if not stat.S_ISREG(os.stat(self._origin_path).st_mode):
                return None
            with open(self._origin_path, encoding="utf-8") as f:
                text = f.read(MAX_ORIGIN).strip()
        except (OSError, UnicodeDecodeError):
            return None
        return Path(text) if text and "\0" not in text and Path(text).is_absolute() \
            else None

    @property
    def _attempts_path(self) -> Path:
        return self.path.with_name(self.path.name + ".restoring")

    def _attempts(self) -> int:
        """Restores of this autosave that were started and never finished."""
        try:
            return int(self._attempts_path.read_text(encoding="ascii").strip() or 0)
        except (OSError, ValueError):
            return 0

    def discard(self) -> None:
        """The user saved or chose to discard: no autosave is needed any more."""
        for path in (self.path, self._attempts_path, self._origin_path):
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:  # it will be offered again next time: say why
                print(f"desklab: cannot remove {path}: {exc.strerror or exc}", file=sys.stderr)

    def pending(self) -> tuple[NetworkDesign, float, Path | None] | None:
        """A design left by an earlier session, when it was saved, and the design file
        it belongs to (None for an untitled design), if any.

        Call `restored` once it is in the window. A file that does not load, or whose
        restore already failed twice, is set aside instead (see `notice`)."""
        self.notice = None
        if not self.path.is_file():
            return None
        attempts = self._attempts()
        if attempts >= 2:
            self.set_aside("restoring it stopped DeskLab twice")
            return None
        try:
            found = load_design(self.path), self.path.stat().st_mtime, self._origin()
        except (DesignFileError, OSError) as exc:
            self.set_aside(str(exc))
            return None
        try:
            self._attempts_path.write_text(str(attempts + 1), encoding="ascii")
        except OSError:
            pass  # no counter: the file loaded, so a crash loop is unlikely
        return found

    def restored(self) -> None:
        """The pending design is in the window: the restore finished."""
        try:
            self._attempts_path.unlink()
        except OSError:
            pass  # a leftover counter only means one more careful start

    def set_aside(self, reason: str) -> None:
        """Rename the autosave to ``.bad`` (kept for the user) and set `notice`."""
        bad = self.path.with_name(self.path.name + ".bad")
        try:
            self.path.replace(bad)
            self._attempts_path.unlink(missing_ok=True)
            where = f"It was set aside as {bad}."
        except OSError as exc:
            where = f"It could not be set aside ({exc.strerror or exc}): {self.path}."
        self.notice = f"The autosaved design could not be restored: {reason}. {where}"

    def stop(self) -> None:
        self.timer.stop()
        if sys.excepthook == self._on_crash:
            sys.excepthook = self._previous_hook

    def _on_crash(self, kind, value, tb) -> None:
        """An exception nothing caught: save the design first, then the usual report
        (the traceback on stderr), then ``report`` (the window's dialog) if set."""
        saved = self.save_now()
        self._previous_hook(kind, value, tb)
        if self.report is not None and not issubclass(kind, KeyboardInterrupt):
            self.report(value, saved)


def describe_age(mtime: float) -> str:
    minutes = (time.time() - mtime) / 60
    if minutes < 1:
        return "less than a minute ago"
    if minutes < 120:
        return f"{minutes:.0f} minutes ago"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(mtime))
