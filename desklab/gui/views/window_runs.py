"""Open a run from the run store and follow it live (a mixin of `MainWindow`).

File > Open run... (or the Runs dock) shows any recorded run in the training view: one
trained here, one from ``desklab train``, or a user's own script under
``desklab.watch`` while it is still training. For a watched model the Network dock
shows its module tree, read-only, until a design is trained or opened again.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFileDialog

from ...runs.folder import runs_root
from ..controllers.follow import RunFollower, settings_text
from .module_tree import ModuleTree


class RunActions:
    """Following one run at a time; see the module docstring."""

    follower: RunFollower | None = None
    module_tree: ModuleTree | None = None

    def open_run_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open run", str(runs_root()),
                                              "DeskLab runs (*.desklab-run);;All files (*)")
        if path:
            self.follow_run(Path(path))

    def follow_run(self, path: Path) -> bool:
        """Show the run at ``path`` in the training view, following it while it grows."""
        try:
            follower = RunFollower(Path(path), self)
        except (ValueError, OSError, sqlite3.Error) as exc:
            self.show_error("Cannot open the run", str(exc))
            return False
        self.training.stop_and_reset()
        self.stop_following()
        self.follower = follower
        follower.updated.connect(self._follow_updated)
        follower.ended.connect(self._follow_ended)
        if follower.foreign:
            names = follower.history.layout.names if follower.history.layout else []
            self.module_tree = ModuleTree(follower.meta, names)
            self.docks["network"].setWidget(self.module_tree)
            # wide enough for paths and types (after the dock has taken its new widget)
            QTimer.singleShot(0, lambda: self.resizeDocks([self.docks["network"]], [360],
                                                          Qt.Horizontal))
        self.training.show_feed(follower)
        self.training.panel.show_following(str(follower.meta.get("name", path.stem)),
                                           settings_text(follower.meta))
        self.inspector.setEnabled(False)  # the design's settings do not apply to this run
        self._follow_updated()
        return True

    def stop_following(self) -> None:
        """Back to the design: the follower closes, the Network dock edits again."""
        if self.follower is not None:
            if self.training.feed is self.follower:
                self.training.show_feed(self.training.controller)
            self.follower.close()
            self.follower.deleteLater()
            self.follower = None
        self.training.panel.show_following(None)
        self.inspector.setEnabled(True)
        if self.module_tree is not None:
            self.docks["network"].setWidget(self.network)
            self.module_tree.deleteLater()
            self.module_tree = None

    def _follow_updated(self) -> None:
        f = self.follower
        if f is None:
            return
        if f.newest_written is not None and f.newest_written != f.drawn_written:
            # a new probe: draw every panel now, not one per tick, so the script's probed
            # step reaches the plots within a poll interval and one redraw
            self.training.redraw(everything=True)
            f.drawn(f.newest_written)
        lag = f" · {f.drawn_lag_ms[-1]:.0f} ms behind" if f.drawn_lag_ms and \
            f.status == "running" else ""
        f.device_name = f"{f.meta.get('name', 'run')} on {f.meta.get('device', '?')}{lag}"

    def _follow_ended(self, status: str) -> None:
        self._follow_updated()
        if status.startswith("unreadable"):  # damaged while it was followed
            self.statusBar().showMessage(f"Stopped following: {status}")
