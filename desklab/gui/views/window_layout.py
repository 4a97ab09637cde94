"""The main window's layout: its docks, the share of the width each side keeps, the
layout reset, and the first launch's welcome card. A mixin of `MainWindow`."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Qt
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QWidget

from .lesson_panel import LessonPanel
from .welcome import WATCH_SNIPPET, WelcomeCard

DOCK_MIN_WIDTH = {"palette": 170, "network": 220, "inspector": 270, "preview": 270,
                  "runs": 270, "lesson": 270}  # px: titles and field names still read
# (and 1280 x 720 fits)


# each side's share of the window's width when it is resized (never under the minimums)
DOCK_SHARE = {("network", "palette"): 0.2, ("inspector", "preview", "runs", "lesson"): 0.21}


class LayoutActions:
    """Docks, resizing and the welcome, for `MainWindow` (which provides the widgets
    they hold, ``settings``, ``training`` and ``open_preset`` / ``new_design``)."""

    def _dock(self, name: str, title: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[name] = dock
        return dock

    def _make_docks(self) -> None:
        self.setDockOptions(QMainWindow.AnimatedDocks | QMainWindow.AllowNestedDocks |
                            QMainWindow.AllowTabbedDocks)
        self._dock("palette", "Palette", self.palette_list, Qt.LeftDockWidgetArea)
        self._dock("network", "Network", self.network, Qt.LeftDockWidgetArea)
        self.splitDockWidget(self.docks["palette"], self.docks["network"], Qt.Vertical)
        self._dock("inspector", "Inspector", self.inspector, Qt.RightDockWidgetArea)
        self._dock("preview", "At-init preview", self.preview, Qt.RightDockWidgetArea)
        self.splitDockWidget(self.docks["inspector"], self.docks["preview"], Qt.Vertical)
        self._dock("runs", "Runs", self.run_panel, Qt.RightDockWidgetArea)
        self.docks["runs"].visibilityChanged.connect(self.run_panel.tab_shown)
        self.tabifyDockWidget(self.docks["preview"], self.docks["runs"])
        self.lesson_panel = LessonPanel()
        self._dock("lesson", "Lesson", self.lesson_panel, Qt.RightDockWidgetArea)
        self.tabifyDockWidget(self.docks["runs"], self.docks["lesson"])
        self.docks["preview"].raise_()
        # usable widths Qt keeps when the window shrinks (it took the space from the
        # left docks, down to ~70 px of icons, and never gave it back when it grew)
        for name, width in DOCK_MIN_WIDTH.items():
            self.docks[name].widget().setMinimumWidth(width)
        self.resizeDocks([self.docks["network"], self.docks["inspector"]], [310, 330],
                         Qt.Horizontal)
        # every tile in view: three rows of 52 px (the recurrent kinds are the third)
        self.resizeDocks([self.docks["palette"], self.docks["network"]], [188, 800],
                         Qt.Vertical)
        self.resizeDocks([self.docks["inspector"], self.docks["preview"]], [520, 360],
                         Qt.Vertical)
        self.setCentralWidget(self._central())

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        """Docks keep their share of a resized window: Qt hands all the width to the
        plots, so docks squeezed at a small size stayed at their minimum when it grew,
        and a shrinking window squeezed the plots while the Inspector kept 380 px."""
        super().resizeEvent(event)
        if event.oldSize().width() > 0 and event.size().width() != event.oldSize().width():
            QTimer.singleShot(0, self._share_width)

    def _share_width(self) -> None:
        width = self.width()
        resized, sizes = [], []
        for names, share in DOCK_SHARE.items():
            docks = [self.docks[n] for n in names if self.docks[n].isVisible()
                     and not self.docks[n].isFloating()]
            if not docks:
                continue
            want = max(DOCK_MIN_WIDTH[names[0]], int(width * share))
            if abs(docks[0].width() - want) > 8:  # wider or narrower than its share
                resized.append(docks[0])
                sizes.append(want)
        if resized:
            self.resizeDocks(resized, sizes, Qt.Horizontal)

    def reset_layout(self) -> None:
        self.restoreState(self._default_state)
        for dock in self.docks.values():
            dock.show()

    def offer_welcome(self) -> bool:
        """On the first launch (no file given): three ways to start, over the plots.
        True when it was shown (once per user: the settings remember it)."""
        if self.settings.value("welcome/shown", False, type=bool):
            return False
        self.settings.setValue("welcome/shown", True)
        self.welcome = WelcomeCard(self.training.plots_area)
        self.welcome.scratch.connect(self.new_design)
        self.welcome.lesson.connect(lambda: self.open_preset("deep-sigmoid"))
        self.welcome.script.connect(self._welcome_script)
        self.training.controller.run_started.connect(self.welcome.hide)
        self.welcome.show()
        self.welcome.raise_()
        return True

    def _welcome_script(self) -> None:
        QApplication.clipboard().setText(WATCH_SNIPPET)
        self.docks["runs"].raise_()
        self.statusBar().showMessage("Copied the two lines to the clipboard. Run your script; "
                                     "its run appears in the Runs dock: double-click it.")
