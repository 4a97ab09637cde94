"""The network editor: the design's layers as cards, from input to output.

The tree is rebuilt from the document on every change (a few hundred cards
at most); it never changes the design itself except through the document's
undoable edits. Drops are placed by the cursor: above or below a card, or into
a residual block when over the middle of its card.
"""

from __future__ import annotations

import html

import json
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QMimeData, QRect, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView, QTreeWidget, QTreeWidgetItem,
)

from ...design import DATASETS, LAYER_KINDS, LayerSpec, fmt_shape
from ...design.catalog import class_names
from ...design.edit import insert_layer, move_layers
from .cards import ROLE_BADGE, ROLE_KIND, ROLE_LINES, ROLE_PATH, CardDelegate, layer_summary
from ..controllers.document import DesignDocument
from .palette import KIND_MIME, kind_icon

PATHS_MIME = "application/x-desklab-layer-paths"
INTO_BLOCK_MARGIN = 0.25  # the middle half of a residual card drops into the block
MAX_LISTED = 20  # class names in the output card's tooltip


class NetworkEditor(QTreeWidget):
    """Cards for input, layers (residual blocks hold theirs) and output."""

    add_failed = Signal(str)  # a drop that cannot be done, in words

    def __init__(self, doc: DesignDocument, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.setObjectName("network_editor")
        self.setHeaderHidden(True)
        self.setColumnCount(1)
        self.setItemDelegate(CardDelegate(self))
        self.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.setDragDropMode(QAbstractItemView.DragDrop)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(False)  # we draw our own: it knows "into a block"
        self.setIndentation(14)  # room for the expander of a block, and no more: every
        # pixel is a card's text at 1280 x 720
        self.setMouseTracking(True)
        self._drop_marker: tuple[str, tuple, QRect] | None = None  # how, target path, rect
        self._syncing = False
        self.badges: dict[str, str] = {}  # layer name -> finding text
        doc.changed.connect(self.rebuild)
        doc.selection_changed.connect(self.sync_selection)
        self.itemSelectionChanged.connect(self._selection_from_view)
        self.rebuild()

    # ------------------------------------------------------------ building

    def rebuild(self) -> None:
        self._syncing = True
        self.clear()
        design, analysis = self.doc.design, self.doc.analysis
        shape = design.input.shape
        data = DATASETS.get(design.input.dataset)
        source = data.label if data else design.input.dataset
        if design.input.dataset == "file":  # name the user's file, not just "your file"
            source = f"{source} {Path(str(design.input.params.get('path', ''))).name}"
        inp = QTreeWidgetItem([f"Input: {source}"])
        inp.setData(0, ROLE_PATH, ("input",))
        inp.setData(0, ROLE_KIND, "input")
        inp.setData(0, ROLE_LINES, (
            f"Input · {source}",
            [f"→ {fmt_shape(shape)}   preprocess {design.input.preprocess}, "
             f"{design.input.val_fraction:.0%} held out"
             if isinstance(design.input.val_fraction, (int, float)) else ""],
            [str(p.message) for p in analysis.problems
             if p.path == () and p.field.startswith("input.")]))
        inp.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsDropEnabled)
        self.addTopLevelItem(inp)
        for i, layer in enumerate(design.layers):
            item = self._layer_item((i,), layer)
            self.addTopLevelItem(item)
            for j, sub in enumerate(layer.layers):
                item.addChild(self._layer_item((i, j), sub))
            item.setExpanded(True)
        head = analysis.info_at(("output",))
        out = QTreeWidgetItem(["Output"])
        out.setData(0, ROLE_PATH, ("output",))
        out.setData(0, ROLE_KIND, "output")
        task = "classes" if design.output.task == "classes" else "targets"
        out.setData(0, ROLE_LINES, (
            f"Output · {design.output_size() or '?'} {task}",
            [f"flatten + dense → {fmt_shape(head.out_shape) if head else '?'}   "
             f"{head.params if head else 0:,} params · "
             f"{'cross-entropy' if design.output.task == 'classes' else 'MSE'}"],
            [p.message for p in analysis.problems if p.path == ("output",)]))
        out.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsDropEnabled)
        names = class_names(design.input.dataset, design.input.params) \
            if design.output.task == "classes" else ()
        if names:  # which output is which class (the confusion matrix's rows say so too)
            out.setToolTip(0, "Classes: " + ", ".join(
                f"{i} {name}" for i, name in enumerate(names[:MAX_LISTED])) +
                (", …" if len(names) > MAX_LISTED else ""))
        self.addTopLevelItem(out)
        self._syncing = False
        self.sync_selection()

    def _layer_item(self, path: tuple, layer: LayerSpec) -> QTreeWidgetItem:
        info = self.doc.analysis.info_at(path)
        entry = LAYER_KINDS.get(layer.kind)
        name = info.name if info else "?"
        key, extra = layer_summary(layer) if entry else ("", "")
        title = f"{name}  {entry.label if entry else layer.kind}" + (f" · {key}" if key else "")
        shape = fmt_shape(info.out_shape) if info else "?"
        details = [d for d in (extra, f"→ {shape}   {info.params if info else 0:,} params")
                   if d]
        problems = [p.message for p in self.doc.analysis.problems_at(path)]
        item = QTreeWidgetItem([title])
        item.setData(0, ROLE_PATH, path)
        item.setData(0, ROLE_KIND, layer.kind)
        item.setData(0, ROLE_LINES, (title, details, problems))
        if name in self.badges:
            item.setData(0, ROLE_BADGE, self.badges[name])
        if entry:
            item.setIcon(0, kind_icon(layer.kind))
        tip = f"<b>{name}</b>: {entry.help if entry else ''}<br>" + \
            "<br>".join(html.escape(d) for d in details)  # in full: a card may elide them
        if problems:
            tip += "<br><span style='color:#c02020'>" + "<br>".join(problems) + "</span>"
        item.setToolTip(0, tip)
        flags = Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsDragEnabled
        if layer.kind == "residual":
            flags |= Qt.ItemIsDropEnabled
        item.setFlags(flags)
        return item

    def set_badges(self, badges: dict[str, str]) -> None:
        """Warning badges from the diagnostics, by layer name."""
        if badges != self.badges:
            self.badges = dict(badges)
            self.rebuild()

    def item_for(self, path: tuple) -> QTreeWidgetItem | None:
        for item in self.items():
            if item.data(0, ROLE_PATH) == path:
                return item
        return None

    def items(self):
        """Every card item, top level then each block's inner cards."""
        for i in range(self.topLevelItemCount()):
            top = self.topLevelItem(i)
            yield top
            for j in range(top.childCount()):
                yield top.child(j)

    # ------------------------------------------------------------ selection

    def sync_selection(self) -> None:
        self._syncing = True
        wanted = set(self.doc.selection)
        for item in self.items():
            item.setSelected(item.data(0, ROLE_PATH) in wanted)
        current = self.item_for(self.doc.selection[-1]) if self.doc.selection else None
        if current is not None:
            self.selectionModel().setCurrentIndex(  # the keyboard's place (after an undo
                self.indexFromItem(current), QItemSelectionModel.NoUpdate)  # it was Input)
            self.scrollToItem(current)
        self._syncing = False

    def _selection_from_view(self) -> None:
        if self._syncing:
            return
        self.doc.select([item.data(0, ROLE_PATH) for item in self.selectedItems()])

    # ------------------------------------------------------------ drag and drop

    def mimeTypes(self) -> list[str]:
        return [PATHS_MIME, KIND_MIME]

    def mimeData(self, items) -> QMimeData:
        paths = [list(item.data(0, ROLE_PATH)) for item in items
                 if item.data(0, ROLE_PATH) not in (("input",), ("output",))]
        data = QMimeData()
        data.setData(PATHS_MIME, json.dumps(paths).encode())
        return data

    def supportedDropActions(self):
        return Qt.MoveAction | Qt.CopyAction

    def drop_target(self, pos) -> tuple[tuple, int, QRect, str]:
        """Where a drop at ``pos`` goes: (parent path, index, marker rect, marker kind)."""
        layers = self.doc.design.layers
        item = self.itemAt(pos)
        if item is None:
            last = self.visualItemRect(self.topLevelItem(self.topLevelItemCount() - 1))
            return (), len(layers), last, "above"
        path = item.data(0, ROLE_PATH)
        rect = self.visualItemRect(item)
        if path == ("input",):
            return (), 0, rect, "below"
        if path == ("output",):
            return (), len(layers), rect, "above"
        margin = rect.height() * INTO_BLOCK_MARGIN
        if len(path) == 1 and layers[path[0]].kind == "residual" and \
                rect.top() + margin < pos.y() < rect.bottom() - margin:
            return path, len(layers[path[0]].layers), rect, "into"
        above = pos.y() < rect.center().y()
        return path[:-1], path[-1] + (0 if above else 1), rect, "above" if above else "below"

    def _ours(self, event) -> bool:
        mime = event.mimeData()
        return mime.hasFormat(KIND_MIME) or mime.hasFormat(PATHS_MIME)

    def dragEnterEvent(self, event) -> None:
        if self._ours(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if not self._ours(event):
            event.ignore()
            return
        super().dragMoveEvent(event)  # autoscroll
        parent, index, rect, how = self.drop_target(event.position().toPoint())
        self._drop_marker = (how, parent + (index,), rect)
        self.viewport().update()
        event.accept()

    def drop_marker_info(self) -> tuple[str, tuple, QRect] | None:
        """(above / below / into, the path a drop would create, the card's rect) while a
        drag hovers; None otherwise."""
        return self._drop_marker

    def dragLeaveEvent(self, event) -> None:
        self._drop_marker = None
        self.viewport().update()
        super().dragLeaveEvent(event)

    def dropEvent(self, event) -> None:
        self._drop_marker = None
        self.viewport().update()
        if not self._ours(event):
            event.ignore()
            return
        parent, index, _, _ = self.drop_target(event.position().toPoint())
        mime = event.mimeData()
        try:
            if mime.hasFormat(KIND_MIME):
                kind = bytes(mime.data(KIND_MIME)).decode()
                label = LAYER_KINDS[kind].label
                self.doc.edit(f"Add {label}", lambda d: [insert_layer(
                    d, parent, index, LayerSpec.make(kind))])
            else:
                paths = [tuple(p) for p in json.loads(bytes(mime.data(PATHS_MIME)).decode())]
                if paths:
                    self.doc.edit("Move layers", lambda d: move_layers(d, paths, parent, index))
        except ValueError as exc:
            self.add_failed.emit(str(exc))
        # Copy, not Move: the view is rebuilt from the document already, and a Move
        # would make Qt delete the (new) selected items after the drag returns.
        event.setDropAction(Qt.CopyAction)
        event.accept()

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self._drop_marker is None:
            return
        how, _, rect = self._drop_marker
        painter = QPainter(self.viewport())
        painter.setPen(QPen(QColor("#1e88e5"), 3))
        if how == "into":
            painter.setBrush(Qt.NoBrush)
            painter.drawRoundedRect(rect.adjusted(1, 1, -1, -1), 6, 6)
        else:
            y = rect.top() if how == "above" else rect.bottom()
            painter.drawLine(rect.left() + 4, y, rect.right() - 4, y)
        painter.end()
