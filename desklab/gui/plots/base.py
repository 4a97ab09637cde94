"""The live plots' common ground: the Panel base class (titled plots over the layers
of one run, hint card, PNG / SVG saving, layer highlight) and the range and tick helpers."""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal

from ...metrics import ProbeLayout, RunHistory
from . import log_axis
from .hover import PanelHover
from .ranges import (  # noqa: F401 - the panels import them from here
    LOG_PAD, _forget_range, _log_range, _set_range, _step_range, nice_ceiling, restore_ranges)
from .thinning import LINE_POINTS, MAX_POINTS, _thin, layer_points  # noqa: F401
from .titles import _titled, legend_title, wrap_title  # noqa: F401 - panels import them here
from .layer_names import layer_ticks, short_layer_name  # noqa: F401 - the panels import them from here

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False, useOpenGL=False)
_SMALL = None  # made on first use: a QFont needs a QGuiApplication


def small_font():
    """The 8 pt font of tick labels (one, shared)."""
    global _SMALL
    if _SMALL is None:
        from PySide6.QtGui import QFont
        _SMALL = QFont()
        _SMALL.setPointSize(8)
    return _SMALL

MAX_STEP_POINTS = 600  # per-step loss: more than a point per pixel of a panel: the noise shows
CLASS_COLORS = np.array([(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40),
                         (148, 103, 189), (140, 86, 75), (227, 119, 194), (127, 127, 127),
                         (188, 189, 34), (23, 190, 207)], float) / 255


def depth_colors(n: int) -> list:
    """One colour per layer, input (dark blue) to output (yellow)."""
    cmap = pg.colormap.get("viridis")
    return [cmap.map(i / max(n - 1, 1), mode="qcolor") for i in range(n)]


def show_item(layout, item, shown: bool, row: int, col: int) -> bool:
    """Put ``item`` into pyqtgraph ``layout`` at (row, col), or take it out (a hidden
    item would keep its share of the space). True when that changed anything."""
    if (item in layout.items) == shown:
        return False
    if shown:
        layout.addItem(item, row=row, col=col)
    else:
        layout.removeItem(item)
    return True


class Panel(pg.GraphicsLayoutWidget):
    """Base: a titled group of plots over the layers of one run."""

    hovered = Signal(int)  # layer index under the mouse, -1 for none
    hover_detail = Signal(str)  # a hovered curve's layer, step and value ("" when off it)

    def __init__(self, title: str, parent=None):
        super().__init__(parent)
        self.setBackground("w")
        self.title = title
        self._install_save_actions()
        self.layout_ = None
        self.colors: list = []
        self.highlighted = -1
        self._styled = None  # the highlight the pens were last set for
        self._drawn_step = None  # the latest snapshot step the time series show
        from PySide6.QtWidgets import QLabel
        self._hint = QLabel(f"<b>{title}</b><br><br>{self.HINT}", self)
        self._hint.setObjectName("plot_hint")
        self._hint.setWordWrap(True)
        self._hint.setAlignment(Qt.AlignCenter)
        self._hint.setStyleSheet("color: #555555; background: white; padding: 12px")
        self._hint.hide()
        self._hinting = False
        self.last_paint_ms = 0.0  # how long the last paint took (the view paces itself)
        self.planned_steps = 0  # a running run's length (the view sets it): the x extent
        self.ran_steps = 0  # the steps a run took (the view sets it): within the x extent
        self.hover = PanelHover(self)
        self.scene().sigMouseClicked.connect(self._double_clicked)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        start = time.perf_counter()
        if not getattr(self, "closed", False) and self.ci.geometry().width() > self.width() + 0.5:
            # pyqtgraph sizes its layout to the view only on a resize: when the plots'
            # minimum shrank later (a title wrapped, a colour bar's labels were measured)
            # they stayed as wide as their first minimum, cut off at the right
            self.ci.setGeometry(self.range)
        super().paintEvent(event)
        self.last_paint_ms = (time.perf_counter() - start) * 1000

    HINT = "Press <b>Train</b> (F5) to see this plot fill in as the network trains."

    def _install_save_actions(self) -> None:
        """The right-click menu saves the panel as PNG or SVG. pyqtgraph's own SVG
        exporter fails on every plot with this Qt (a path-format change), so the panel
        is rendered with Qt's QSvgGenerator instead."""
        from PySide6.QtGui import QAction
        actions = []
        for fmt in ("PNG", "SVG"):
            action = QAction(f"Save plot as {fmt}…", self)
            action.triggered.connect(lambda _=False, f=fmt: self._ask_and_save(f))
            actions.append(action)
        self.scene().contextMenu = actions

    def _ask_and_save(self, fmt: str) -> None:
        from PySide6.QtWidgets import QFileDialog
        path, _ = QFileDialog.getSaveFileName(self, f"Save {self.title}",
                                              f"{self.title}.{fmt.lower()}",
                                              f"{fmt} (*.{fmt.lower()})")
        if path:
            self.save_image(path)

    def save_image(self, path: str) -> None:
        """Write the panel to ``path``: SVG (vector) or, for any other suffix, PNG."""
        if str(path).lower().endswith(".svg"):
            from PySide6.QtCore import QRect, QSize
            from PySide6.QtGui import QPainter
            from PySide6.QtSvg import QSvgGenerator
            generator = QSvgGenerator()
            generator.setFileName(str(path))
            generator.setSize(QSize(self.width(), self.height()))
            generator.setViewBox(QRect(0, 0, self.width(), self.height()))
            generator.setTitle(self.title)
            painter = QPainter(generator)
            self.render(painter)
            painter.end()
        elif not self.grab().save(str(path), "PNG"):
            raise OSError(f"cannot write {path}")

    def _plot(self, title: str):
        plot = self.addPlot(axisItems=log_axis.axes())
        wrap_title(plot)  # a long title wraps; it no longer widens the plot past the panel
        _titled(plot, title)
        for axis in ("left", "bottom"):
            ax = plot.getAxis(axis)
            ax.setStyle(tickFont=small_font(), autoExpandTextSpace=True)
            ax.enableAutoSIPrefix(False)  # "(x0.001)" next to a label reads as noise
            ax.setTickDensity(0.7)  # fewer, readable ticks: log decades never pile up
        # the frame is the view's border, not a top and a right axis: an axis works out
        # its ticks again whenever the range changes, and those two only drew tick marks
        plot.getViewBox().setBorder(pg.mkPen("#9e9e9e", width=1))
        plot.setMenuEnabled(False)  # the panel's own menu saves PNG / SVG
        return plot

    def shown(self) -> dict:
        """What the panel shows, for the UI map: the hint, or per plot its title, its
        axes' ranges (log10 on a log axis), the tick labels last drawn and where its
        view box is on the screen; and whether its plots fit in its width."""
        import re
        plots = []
        for item in self.ci.items:
            if not isinstance(item, pg.PlotItem):
                continue
            (x0, x1), (y0, y1) = item.vb.viewRange()
            title = re.sub(r"<[^>]+>", " ", item.titleLabel.text or "")
            plots.append({
                "title": " ".join(title.replace("&nbsp;", " ").split()),
                "x": [x0, x1], "y": [y0, y1], "log_y": bool(item.ctrl.logYCheck.isChecked()),
                "x_labels": list(getattr(item.getAxis("bottom"), "drawn_labels", ())),
                "y_labels": list(getattr(item.getAxis("left"), "drawn_labels", ())),
                "view": self._on_screen(item.vb.sceneBoundingRect())})
        fits = self.ci.geometry().width() <= self.width() + 1  # nothing cut off at its right
        return {"hint": self._hinting, "plots": plots, "fits": fits}

    def _double_clicked(self, event) -> None:
        """A double-click on a plot the user zoomed or panned (wheel, drag) puts back
        the ranges the app keeps it at."""
        if event.double():
            for item in self.ci.items:
                if isinstance(item, pg.PlotItem) and item.vb.sceneBoundingRect().contains(
                        event.scenePos()):
                    restore_ranges(item)
                    event.accept()

    def leaveEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        super().leaveEvent(event)
        self.hover.left()  # the thick line and the status line go with the mouse

    def _on_screen(self, scene_rect) -> list[int]:
        """[x, y, width, height] of a scene rectangle in global (screen) pixels."""
        corner = self.viewport().mapToGlobal(self.mapFromScene(scene_rect.topLeft()))
        return [corner.x(), corner.y(), round(scene_rect.width()), round(scene_rect.height())]

    def set_hint(self, text: str | None) -> None:
        """What the panel says before its first data (None: its own ``HINT``, about
        pressing Train; a followed run's is about its probes)."""
        self._hint.setText(f"<b>{self.title}</b><br><br>{text or self.HINT}")

    def _show_hint(self, visible: bool) -> None:
        """Before the first data: a short hint instead of empty axes."""
        if visible == self._hinting:
            return
        self._hinting = visible
        self._hint.setVisible(visible)  # an opaque card over the (empty) plots

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if getattr(self, "closed", False):  # pyqtgraph's close() cleared the scene, then
            return  # resizes: the plots' items are deleted, touching them segfaulted
        if hasattr(self, "_hint"):  # pyqtgraph resizes once inside its __init__
            self._hint.setGeometry(self.rect())  # all of it: no stray ticks around it
            self._tick_layers()

    def _tick_layers(self) -> None:
        """Re-thin the layer tick labels for the current size (panels with a layer axis)."""

    def set_layout(self, layout: ProbeLayout) -> None:
        self.layout_ = layout
        self.colors = depth_colors(len(layout))
        self._styled, self._drawn_step = self.highlighted, None

    def reset(self) -> None:
        """Forget the run: remove per-layer items and empty the fixed ones."""
        self.set_layout(ProbeLayout(()))
        for item in self._fixed_items():
            item.setData([], [])
        self._show_hint(True)

    def _fixed_items(self) -> list:
        return []

    def _pen(self, i: int, style=Qt.SolidLine):
        width = 3 if i == self.highlighted else 1
        return pg.mkPen(self.colors[i], width=width, style=style)

    def highlight(self, index: int) -> None:
        self.highlighted = index

    def _restyle(self, items: list, style=Qt.SolidLine) -> None:
        """Set per-layer pens, only when the highlighted layer changed (setPen is costly)."""
        for i, item in enumerate(items):
            item.setPen(self._pen(i, style))

    def _needs_restyle(self) -> bool:
        if self._styled == self.highlighted:
            return False
        self._styled = self.highlighted
        return True

    def _new_step(self, history: RunHistory) -> bool:
        """True when a snapshot arrived since the time series were last drawn."""
        step = history.latest.step if history.latest is not None else None
        if step == self._drawn_step:
            return False
        self._drawn_step = step
        return True
