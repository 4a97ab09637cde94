"""The live plots in a scroll area: a short window scrolls them rather than squash them.

At 1216 x 648 (the first window on a 1280 x 720 screen) the six plot cells had 392 px
of height between them: with each plot's title, legend and step axis fixed, the
gradient-by-depth plot kept 10 px of data and one tick label ("1e-10"). Below
`MIN_PLOTS_HEIGHT` the plots keep that height and a vertical scroll bar appears; at
1280 x 720 and above nothing changes (the plots have about 490 px there).
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget

MIN_PLOTS_HEIGHT = 470  # px: the plots' height at which every axis keeps two tick labels


class PlotScroll(QScrollArea):
    """Scrolls ``plots`` vertically once the area is shorter than MIN_PLOTS_HEIGHT; as
    wide as its viewport always (no horizontal scrolling: the plots' own minimum width
    is the area's, as it was the view's before)."""

    def __init__(self, plots: QWidget, parent=None):
        super().__init__(parent)
        self.setObjectName("plots_scroll")
        self.setFrameShape(QFrame.NoFrame)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        plots.setMinimumHeight(MIN_PLOTS_HEIGHT)
        self.setWidget(plots)
        # the bar coming or going changes the width asked for (minimumSizeHint)
        self.verticalScrollBar().rangeChanged.connect(self.updateGeometry)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt naming)
        # a scroll area asks for almost nothing; the plots' width is still needed, plus
        # the scroll bar's where it shows (else it would cover their right edge)
        bar = self.verticalScrollBar()
        width = self.widget().minimumSizeHint().width()
        return QSize(width + (bar.sizeHint().width() if bar.isVisible() else 0), 120)
