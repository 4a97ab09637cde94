"""The palette: every layer kind in the catalog, to drag into the editor."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem

from ...design import LAYER_KINDS
from ..icons import icon

KIND_MIME = "application/x-desklab-layer-kind"

KIND_COLORS = {"dense": "#3b6fb6", "conv2d": "#2f8f6b", "maxpool": "#8a6bb8",
               "avgpool": "#8a6bb8", "flatten": "#777777", "residual": "#c07a2c",
               "rnn": "#b0436e", "lstm": "#b0436e", "gru": "#b0436e"}


def kind_icon(kind: str) -> QIcon:
    """The layer kind's tile, from ``resources/icons/<kind>.svg``."""
    return icon(kind)


class Palette(QListWidget):
    """Layer kinds with icon, name and tooltip. Drag one into the editor, or
    double-click it, or press Enter or Space on it, to append it (`add_requested`)."""

    add_requested = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("palette")
        self.setIconSize(QSize(28, 28))
        self.setViewMode(QListWidget.IconMode)  # a compact grid of tiles
        self.setMovement(QListWidget.Static)
        # After setMovement: Qt's setMovement(Static) turns dragging off again, which
        # once shipped a palette that no mouse could drag from (tests/story).
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragOnly)
        self.setResizeMode(QListWidget.Adjust)
        self.setWrapping(True)
        self.setGridSize(QSize(96, 52))
        self.setSpacing(2)
        for entry in LAYER_KINDS:
            item = QListWidgetItem(kind_icon(entry.name), entry.label)
            item.setData(Qt.UserRole, entry.name)
            params = ", ".join(f"{p.name} {p.default}" for p in entry.params)
            item.setToolTip(f"<b>{entry.label}</b><br>{entry.help}"
                            + (f"<br><i>defaults: {params}</i>" if params else "")
                            + "<br>Drag into the network, or double-click (Enter) to "
                            "append after the selected card.")
            self.addItem(item)
        self.itemDoubleClicked.connect(lambda item: self.add_requested.emit(
            item.data(Qt.UserRole)))

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        """Enter or Space adds the current tile: the palette works without a mouse."""
        item = self.currentItem()
        if event.key() in (Qt.Key_Return, Qt.Key_Enter, Qt.Key_Space) and item is not None \
                and not event.modifiers() & ~Qt.KeypadModifier:
            self.add_requested.emit(item.data(Qt.UserRole))
            event.accept()
            return
        super().keyPressEvent(event)

    def mimeTypes(self) -> list[str]:
        return [KIND_MIME]

    def mimeData(self, items) -> QMimeData:
        data = QMimeData()
        if items:
            data.setData(KIND_MIME, items[0].data(Qt.UserRole).encode())
        return data
