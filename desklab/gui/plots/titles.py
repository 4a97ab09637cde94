"""Plot titles that wrap to the plot's width.

pyqtgraph makes a title's whole one-line width the minimum width of its plot. The live
panels' titles carry their legends ("mean |dL/dh| ━━ ‖dW‖ ━━ × = 0"), 115-165 px wide,
so at 1280 x 720 a panel's plots were laid out wider than the panel (286 px of content
in 222) and cut off at its right edge: the end of the x axis, the colour bar's labels.
A wrapping title prefers its one-line width but asks for only ``MIN_WIDTH``, and takes
another line where it must; its row grows to hold it (pyqtgraph fixes it at 30 px).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextOption

MIN_WIDTH = 60  # px a title asks of its plot; below the panels' narrowest plot area


def _titled(plot, title: str) -> None:
    plot.setTitle(title, size="9pt")


def legend_title(title: str, entries: list[tuple[str, str, str]]) -> str:
    """A title with its legend beside it, outside the data: (label, colour, dash)."""
    keys = " ".join(f"<span style='color:{color}'>{'┄┄' if dash else '━━'}</span>&nbsp;{label}"
                    for label, color, dash in entries)
    return f"{title}<br><span style='font-size:7pt'>{keys}</span>"


def wrap_title(plot) -> None:
    """Make ``plot``'s title (a pyqtgraph LabelItem) wrap, centred, to its width."""
    label = plot.titleLabel
    document = label.item.document()
    option = document.defaultTextOption()
    option.setAlignment(Qt.AlignHCenter)
    option.setWrapMode(QTextOption.WrapAtWordBoundaryOrAnywhere)
    document.setDefaultTextOption(option)
    place = label.resizeEvent  # pyqtgraph's: centres the text item, then updateMin
    natural = {"text": None, "width": 0.0}  # its one-line width, kept per text

    def resize(event) -> None:
        width = label.width()
        # the text's width first, so pyqtgraph centres the wrapped block, not the old one
        label.item.setTextWidth(width if width >= MIN_WIDTH else -1)
        place(event)

    def update_min() -> None:
        if label.text != natural["text"]:  # what it prefers, space allowing
            natural["text"], wrap_at = label.text, label.item.textWidth()
            label.item.setTextWidth(-1)
            natural["width"] = label.item.boundingRect().width()
            label.item.setTextWidth(wrap_at)
        height = label.itemRect().height()
        preferred = (natural["width"], height)
        if label._sizeHint.get(Qt.PreferredSize) != preferred:  # else no relayout: this
            label.setMinimumWidth(MIN_WIDTH)  # runs on every resize
            label.setMinimumHeight(height)
            label._sizeHint = {Qt.MinimumSize: (MIN_WIDTH, height),
                               Qt.PreferredSize: preferred,
                               Qt.MaximumSize: (-1, -1), Qt.MinimumDescent: (0, 0)}
            label.updateGeometry()
        if plot.layout.rowMaximumHeight(0) != height:  # setTitle fixes the row at 30 px
            label.setMaximumHeight(height)
            plot.layout.setRowFixedHeight(0, height)

    label.resizeEvent = resize
    label.updateMin = update_min
    update_min()


def span_title(plot) -> None:
    """``plot``'s title over all of its columns, axes and colour bar included: a plot
    with a colour bar (`colour_image`) leaves its title little of its width (pyqtgraph
    gives it the data's column: the through-time heatmap's title had 75 of a 145 px
    panel and broke "vanishe | d"). Plain plots keep pyqtgraph's: spanning their axes
    took 2-11 px from the data of the compare window's plots."""
    label = plot.titleLabel
    plot.layout.removeItem(label)
    plot.layout.addItem(label, 0, 0, 1, plot.layout.columnCount())


def no_break(text: str) -> str:
    """``text`` kept on one line of a wrapping title: no-break spaces, and a word joiner
    after each slash (Qt may break a line after "/": "‖dL/" | "dh_T‖")."""
    return text.replace(" ", "\u00a0").replace("/", "/\u2060")
