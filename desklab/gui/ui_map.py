"""The UI map: where every named widget is on the screen, for tools outside Qt.

When ``DESKLAB_UI_MAP`` names a file, the app rewrites it (atomically, a few
times a second) with the screen rectangle of every visible widget that has an
objectName, the cards of the network editor, the palette's tiles, the drop
marker while a drag hovers, the findings' text, the window title and what each open
compare window shows. This is
how the real-input story tests (``tests/story/``) find what to click with
``xdotool``: the same positions a person sees, computed with ``mapToGlobal``.
It is read-only: nothing in it changes the app, and nothing reads it back.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from PySide6.QtCore import QObject, QPointF, QRect, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractSpinBox, QApplication, QLabel, QListWidget, QTabBar, QTreeWidget, QWidget,
)

from ..metrics.comparison import letter

ENV = "DESKLAB_UI_MAP"
INTERVAL_MS = 100


def _rect(widget: QWidget, local: QRect | None = None) -> list[int]:
    """[x, y, width, height] on the screen of ``local`` (the whole widget by default)."""
    local = local if local is not None else widget.rect()
    top_left = widget.mapToGlobal(local.topLeft())
    return [top_left.x(), top_left.y(), local.width(), local.height()]


def _tree_cards(tree: QTreeWidget) -> list[dict]:
    cards = []
    for item in tree.items():
        rect = tree.visualItemRect(item)
        if rect.isEmpty():
            continue
        cards.append({"path": list(item.data(0, Qt.UserRole) or ()),
                      "title": item.text(0), "selected": item.isSelected(),
                      "rect": _rect(tree.viewport(), rect)})
    return cards


def _list_items(widget: QListWidget) -> list[dict]:
    out = []
    for i in range(widget.count()):
        item = widget.item(i)
        rect = widget.visualItemRect(item)
        out.append({"text": item.text(), "data": item.data(Qt.UserRole),
                    "rect": _rect(widget.viewport(), rect)})
    return out


def _tabs(window) -> list[dict]:
    """The visible tabs of the window's tab bars (tabified docks): text and place."""
    tabs = []
    for bar in window.findChildren(QTabBar):
        if bar.isVisible():
            tabs += [{"text": bar.tabText(i), "rect": _rect(bar, bar.tabRect(i))}
                     for i in range(bar.count())]
    return tabs


def _highlighted(training) -> str:
    """The name of the layer drawn thick in the plots (pointed at), or ""."""
    panel = training.gradients
    index, layout = panel.highlighted, panel.layout_
    return layout.names[index] if layout is not None and 0 <= index < len(layout) else ""


def _search(window) -> dict | None:
    """The search window, while it is open: its summary, its table's rows (trial
    number, chosen, bold for the best, place) and each trial's point on the scatter."""
    view = getattr(window, "search_window", None)
    if view is None or not view.isVisible():
        return None
    table, rows = view.table, []
    for i in range(table.rowCount()):
        item = table.item(i, 0)
        if item is not None:
            rows.append({"number": item.data(Qt.DisplayRole), "chosen": item.isSelected(),
                         "bold": item.font().bold(),
                         "rect": _rect(table.viewport(), table.visualItemRect(item))})
    plot = view.plot
    trials = []
    for number, (x, y) in plot.trial_positions().items():
        local = plot.mapFromScene(plot.getPlotItem().vb.mapViewToScene(QPointF(x, y)))
        at = plot.viewport().mapToGlobal(local)
        trials.append({"number": number, "at": [at.x(), at.y()]})
    return {"summary": view.summary.text(), "rows": rows, "trials": trials,
            "window": _rect(view)}


def _points(curve) -> int:
    """How many points a PlotDataItem draws (its data is None before the first)."""
    return 0 if curve.xData is None else len(curve.xData)


def _compare(window) -> list[dict]:
    """Each open compare window: its title, every run's curves (letter, name, points
    drawn), each side's run and layers, where its loss plot is, the status bar."""
    import re
    shown = []
    for view in getattr(window, "compare_windows", []):
        if not view.isVisible():
            continue
        curves = view.curves
        runs = [{"letter": letter(k), "name": view.records[k].name,
                 "loss_points": _points(curves.lines[k]["loss"]),
                 "depth_points": _points(curves.lines[k]["depth"]),
                 "hidden": not curves.lines[k]["loss"].isVisible()}
                for k in range(min(curves.runs, len(view.records)))]
        sides = [{"run": chooser.currentText() if chooser.isVisible() else
                  re.sub(r"<[^>]+>", "", label.text()),
                  "layers": list(panel.layout_.names) if panel.layout_ is not None else []}
                 for chooser, label, panel in zip(view.choosers, view.names, view.panels)]
        scene = curves.loss.vb.sceneBoundingRect()
        corner = curves.viewport().mapToGlobal(curves.mapFromScene(scene.topLeft()))
        shown.append({"title": re.sub(r"<[^>]+>", "", view.title.text()).replace(
                          "&nbsp;", " ").replace("\u2011", "-"),
                      "runs": runs, "sides": sides, "window": _rect(view),
                      "loss_view": [corner.x(), corner.y(), round(scene.width()),
                                    round(scene.height())],
                      "status": view.statusBar().currentMessage()})
    return shown


def snapshot(window) -> dict:
    """The map of ``window`` (a MainWindow) and its visible top-level widgets."""
    widgets = {}
    for widget in QApplication.allWidgets():
        name = widget.objectName()
        if name and not name.startswith("qt_") and widget.isVisible():
            widgets.setdefault(name, _rect(widget))
    popups = [_rect(w) for w in QApplication.topLevelWidgets()
              if w.isVisible() and w is not window and w.windowType() in (Qt.Popup, Qt.Dialog)]
    tree = window.network.tree
    marker = tree.drop_marker_info()
    return {
        "pid": os.getpid(),
        "title": window.windowTitle().replace("[*]", "*" if window.isWindowModified() else ""),
        "status": window.statusBar().currentMessage(),
        "window": _rect(window),
        "train_status": window.training.panel.status.text(),
        "focus": (QApplication.focusWidget().objectName()
                  if QApplication.focusWidget() is not None else ""),
        "active_modal": (QApplication.activeModalWidget().windowTitle()
                         if QApplication.activeModalWidget() is not None else ""),
        "widgets": widgets,
        "popups": popups,
        "cards": _tree_cards(tree),
        "drop_marker": None if marker is None else {
            "how": marker[0], "path": list(marker[1]), "rect": _rect(tree.viewport(),
                                                                     marker[2])},
        "palette": _list_items(window.palette_list),
        "stored_runs": _list_items(window.run_panel.stored),
        "remote_runs": _list_items(window.run_panel.remote),
        "tabs": _tabs(window),
        "labels": {w.objectName(): w.text() for w in window.findChildren(QLabel)
                   if w.objectName() and w.isVisible()},
        "spins": {w.objectName(): w.text() for w in window.findChildren(QAbstractSpinBox)
                  if w.objectName() and w.isVisible()},
        "findings": window.training.findings.texts(),
        "plots": {p.objectName(): p.shown() for p in window.training.shown_panels()},
        "highlighted": _highlighted(window.training),
        "search": _search(window),
        "compare": _compare(window),
    }


class UiMapWriter(QObject):
    """Rewrites the map file from a GUI-thread timer while the window lives."""

    def __init__(self, window, path: str | os.PathLike):
        super().__init__(window)
        self.window, self.path = window, Path(path)
        self.timer = QTimer(self)
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(self.write)
        self.timer.start()

    def write(self) -> None:
        try:
            text = json.dumps(snapshot(self.window))
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, self.path)
        except (OSError, RuntimeError):
            pass  # a test aid: a missed beat is rewritten 100 ms later


def install_from_env(window) -> UiMapWriter | None:
    """Start writing the map when ``DESKLAB_UI_MAP`` is set."""
    path = os.environ.get(ENV)
    return UiMapWriter(window, path) if path else None
