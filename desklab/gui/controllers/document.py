"""The open design: one source of truth that every view reads and edits.

Views subscribe to `changed` and `selection_changed` and edit only through
`edit`, which pushes an undoable command holding copies of the design before
and after. Consecutive edits of the same field merge into one undo step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QUndoCommand, QUndoStack

from ...design import Analysis, NetworkDesign, analyze, dumps

_MERGE_ID = 4242


class _DesignCommand(QUndoCommand):
    def __init__(self, doc: "DesignDocument", text: str, before: NetworkDesign,
                 after: NetworkDesign, merge_key: str | None, selection: list[tuple]):
        super().__init__(text)
        self.doc, self.before, self.after = doc, before, after
        self.merge_key, self.selection = merge_key, selection
        self.selection_before = list(doc.selection)

    def id(self) -> int:
        return _MERGE_ID if self.merge_key else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, _DesignCommand) or other.merge_key != self.merge_key:
            return False
        self.after, self.selection = other.after, other.selection
        return True

    def redo(self) -> None:  # also runs on push: edit() only changed a copy
        self.doc._set(self.after.copy(), self.selection)

    def undo(self) -> None:
        self.doc._set(self.before.copy(), self.selection_before)


class DesignDocument(QObject):
    """Holds the design, its analysis, selection, file path and undo stack."""

    changed = Signal()  # the design changed (edit, undo, redo, load)
    selection_changed = Signal()
    file_changed = Signal()  # path or modified state changed

    def __init__(self, design: NetworkDesign | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.design = design or NetworkDesign()
        self.analysis: Analysis = analyze(self.design)
        self.selection: list[tuple] = []
        self.path: Path | None = None
        self.undo_stack = QUndoStack(self)
        # Asked before any edit that is not "live" (lr, L1, L2 while training): the
        # training view answers False when the user keeps the run going.
        self.edit_guard: Callable[[], bool] | None = None
        self.undo_stack.cleanChanged.connect(self._clean_changed)

    @Slot(bool)
    def _clean_changed(self, _clean: bool) -> None:
        self.file_changed.emit()

    # ------------------------------------------------------------ editing

    def edit(self, text: str, mutate: Callable[[NetworkDesign], object],
             merge_key: str | None = None, select: list[tuple] | None = None,
             live: bool = False) -> object:
        """Apply ``mutate`` to a copy of the design as one undoable step.

        ``mutate`` may return new paths to select; errors it raises (ValueError)
        leave the design untouched and propagate. Returns None without editing when
        the edit guard refuses.
        """
        if not live and self.edit_guard is not None and not self.edit_guard():
            self.changed.emit()  # views put back the value they were showing
            return None
        before = self.design.copy()
        after = self.design.copy()
        result = mutate(after)
        if dumps(after) == dumps(before):
            return result
        if select is None:
            select = result if isinstance(result, list) else list(self.selection)
        self.undo_stack.push(_DesignCommand(self, text, before, after, merge_key, select))
        return result

    def _set(self, design: NetworkDesign, selection: list[tuple]) -> None:
        self.design = design
        self.analysis = analyze(design)
        self.selection = [p for p in selection if _exists(design, p)]
        self.changed.emit()
        self.selection_changed.emit()

    def replace(self, design: NetworkDesign, path: Path | None = None) -> None:
        """Load another design: clears undo history and selection."""
        self.undo_stack.clear()
        self.path = path
        self._set(design, [])
        self.undo_stack.setClean()
        self.file_changed.emit()

    def select(self, paths: list[tuple]) -> None:
        paths = [p for p in paths if _exists(self.design, p)]
        if paths != self.selection:
            self.selection = paths
            self.selection_changed.emit()

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    def mark_saved(self, path: Path) -> None:
        self.path = path
        self.undo_stack.setClean()
        self.file_changed.emit()

    @property
    def title(self) -> str:
        """Window title; Qt shows the [*] placeholder as * while modified."""
        name = self.path.name if self.path else self.design.name
        return f"{name}[*] - DeskLab"


def _exists(design: NetworkDesign, path: tuple) -> bool:
    if path in ((), ("output",), ("input",)):
        return True
    try:
        design.layer_at(path)
        return True
    except (IndexError, TypeError):
        return False
