"""Open a run from the run store and follow it live (a mixin of `MainWindow`).

File > Open run... (or the Runs dock) shows any recorded run in the training view: one
trained here, one from ``desklab train``, or a user's own script under
``desklab.watch`` while it is still training. For a watched model the Network dock
shows its module tree, read-only, until a design is trained or opened again.

File > Open remote run connects to a `desklab serve` on another machine: the Runs
dock lists its runs, and one is followed the same way (read on a worker thread; a
lost server shows in the status line until it is back).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFileDialog

from ...runs.folder import runs_root
from ..controllers.follow import Follower, RunFollower, settings_text
from ..controllers.remote_follow import RemoteFollower, RemoteStore
from .module_tree import ModuleTree


class RunActions:
    """Following one run at a time; see the module docstring."""

    follower: Follower | None = None
    module_tree: ModuleTree | None = None
    remote_store: RemoteStore | None = None
    _hinted: str | None = None  # what the empty plots say (None: the usual)

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
        self._show_follower(follower, str(follower.meta.get("name", Path(path).stem)))
        return True

    def _show_follower(self, follower: Follower, name: str) -> None:
        if self.welcome is not None:  # a run chosen: its plots, not the first-launch card
            self.welcome.hide()
        self.training.stop_and_reset()
        self.stop_following()
        self.follower = follower
        follower.updated.connect(self._follow_updated)
        follower.ended.connect(self._follow_ended)
        follower.connection_changed.connect(self._follow_connection)
        if follower.foreign:
            names = follower.history.layout.names if follower.history.layout else []
            self.module_tree = ModuleTree(follower.meta, names)
            self.docks["network"].setWidget(self.module_tree)
            # wide enough for paths and types (after the dock has taken its new widget)
            QTimer.singleShot(0, lambda: self.resizeDocks([self.docks["network"]], [360],
                                                          Qt.Horizontal))
        self.training.show_feed(follower)
        self.training.panel.show_following(name, settings_text(follower.meta))
        self.inspector.setEnabled(False)  # the design's settings do not apply to this run
        self.preview.show_following(True)  # nor does its preview
        self._follow_updated()

    def stop_following(self) -> None:
        """Back to the design: the follower closes, the Network dock edits again."""
        if self.follower is not None:
            if self.training.feed is self.follower:
                self.training.show_feed(self.training.controller)
            self.follower.close()
            self.follower.deleteLater()
            self.follower = None
        self.training.panel.show_following(None)
        self._hint(None)
        self.inspector.setEnabled(True)
        self.preview.show_following(False)
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
        if f.connection:  # the whole reason is in the status bar
            lag = " · disconnected, trying again"
        cause = f.meta.get("cause") if f.status != "running" else None  # why it failed
        lag += f" · {cause[:300]}" if isinstance(cause, str) and cause else ""
        said = f"{f.meta.get('name', 'run')} on {f.meta.get('device', '?')}{lag}"
        if said != f.device_name:  # (an ended run draws no more: its status line now)
            f.device_name = said
            self.training.update_status()
        self._hint(f.empty_text())

    def _hint(self, text: str | None) -> None:
        """The empty plots' words: a followed run's before its first probe, else the
        usual ones."""
        if text != self._hinted:
            self._hinted = text
            for panel in self.training.panels:
                panel.set_hint(text)

    def _follow_connection(self, text: str) -> None:
        self._follow_updated()
        f = self.follower
        if f is not None:
            self.statusBar().showMessage(text or f"Reconnected to {getattr(f, 'url', '')}",
                                         0 if text else 5000)

    # ------------------------------------------------------------ a remote server

    def open_remote_dialog(self) -> None:
        from .remote_dialog import RemoteDialog
        dialog = RemoteDialog(self.settings, self)
        if dialog.exec():
            self.connect_remote(dialog.url(), dialog.token())

    def connect_remote(self, url: str, token: str) -> None:
        """List ``url``'s runs in the Runs dock (every few seconds) and show the dock."""
        if self.remote_store is None:
            self.remote_store = RemoteStore(self)
            self.remote_store.listed.connect(
                lambda runs: self.run_panel.show_remote(self.remote_store.url, runs))
            self.remote_store.unreachable.connect(
                lambda why: self.run_panel.show_remote(self.remote_store.url, None, why))
            self.remote_store.opened.connect(self._remote_opened)
            self.remote_store.open_failed.connect(
                lambda why: self.show_error("Cannot follow the remote run", why))
            self.run_panel.follow_remote_requested.connect(self.follow_remote)
        self.remote_store.connect_to(url, token)
        self.run_panel.show_remote(self.remote_store.url, None, "connecting…")
        dock = self.docks["runs"]
        dock.show()
        dock.raise_()
        self.statusBar().showMessage(f"Listing the runs of {self.remote_store.url}…", 5000)

    def follow_remote(self, run: dict) -> None:
        """Open ``run`` (a listing entry) off the GUI thread; it is shown once opened."""
        self.statusBar().showMessage(f"Opening {run.get('name', 'the run')} on "
                                     f"{self.remote_store.url}…")
        self.remote_store.open(run)

    def _remote_opened(self, run) -> None:
        follower = RemoteFollower(run, self)
        self._show_follower(follower, str(run.meta.get("name", "run")))
        follower.ended.connect(lambda _status: self.remote_store.refresh())  # not "live"
        self.statusBar().showMessage(f"Following {run.meta.get('name', 'run')} on "
                                     f"{run.url}", 5000)

    def _follow_ended(self, status: str) -> None:
        self._follow_updated()
        if status.startswith("unreadable"):  # damaged while it was followed
            self.statusBar().showMessage(f"Stopped following: {status}")

