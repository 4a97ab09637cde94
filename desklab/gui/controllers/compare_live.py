"""Compared runs that are still being written (a script under desklab.watch, a search's
trial, `desklab train` in a terminal): each followed from its run file, so that its
curves and per-layer views grow in the compare window as it trains, next to runs that
ended long ago."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from ...runs.checks import RunFileError
from .follow import RunFollower


class LiveRuns(QObject):
    """The followers of a compare window's running runs; ``ended`` when one of them ends
    (its status then is the record's ``state``)."""

    ended = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.followers: dict[int, RunFollower] = {}  # run index -> its follower

    def follow(self, records: list) -> list:
        """``records`` with each running one's history replaced by its follower's
        (which holds every row written so far, then each new one as it is committed)."""
        self.close()
        followed = []
        for k, record in enumerate(records):
            path = record.extra.get("path")
            if record.state == "running" and path:
                try:
                    follower = RunFollower(Path(path), self)
                except (RunFileError, ValueError, OSError):  # gone or damaged since:
                    followed.append(record)  # what was read stays, not followed
                    continue
                follower.ended.connect(self._ended)
                self.followers[k] = follower
                record = dataclasses.replace(record, history=follower.history)
            followed.append(record)
        return followed

    def live(self, k: int) -> bool:
        """Whether run ``k`` is still followed (its writer still running)."""
        follower = self.followers.get(k)
        return follower is not None and follower.state == "following"

    @property
    def dirty(self) -> bool:
        """Something new came from a followed run since the last redraw."""
        return any(f.dirty for f in self.followers.values())

    @dirty.setter
    def dirty(self, value: bool) -> None:
        for follower in self.followers.values():
            follower.dirty = value

    @Slot(str)
    def _ended(self, _status: str) -> None:
        self.ended.emit()

    def close(self) -> None:
        for follower in self.followers.values():
            follower.close()
            follower.deleteLater()
        self.followers = {}
