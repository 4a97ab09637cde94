"""The confusion matrix of a classification's validation set: which classes the network
mixes up, and how that changes as it trains.

Rows are the true classes, columns the predicted ones; each row is normalised to the
share of that class's examples (so a rare class reads as clearly as a common one) and
the diagonal is what the network gets right. It replaces the decision boundary, which
only exists for 2-D inputs, for every other classification the app trains.
"""

from __future__ import annotations

import numpy as np

from ...metrics.report import numbered_by_label
from .base import Panel, _set_range, _titled, layer_ticks
from .colour_image import colour_image

LEVELS = (0.0, 1.0)  # a row's share: fixed, so colours mean the same at every step


class ConfusionPanel(Panel):
    """Validation confusion matrix, row-normalised (rows: true class, columns: predicted)."""

    HINT = ("For a classification: which classes the network confuses, from the "
            "validation set at each evaluation.")

    def __init__(self, parent=None):
        super().__init__("Confusion matrix", parent)
        self.setObjectName("confusionPlot")
        self.plot = self._plot("Confusion matrix")
        self.plot.setLabel("bottom", "predicted class")
        self.plot.setLabel("left", "true class")
        self.plot.invertY(True)  # the first class at the top, as a matrix is read
        self.plot.getViewBox().setBorder(None)  # the cells' own edge
        self.image, self.color_bar = colour_image(self.plot, "viridis", LEVELS, width=12,
                                                  label="share of the row")
        self.classes = 0
        self.class_names: tuple[str, ...] = ()  # label i's name, where it has one (the view)
        self.shown_step: int | None = None  # the evaluation drawn (the UI map and tests)
        self._counts = None  # (C, C) of the evaluation drawn, for the readout
        self.hover.on_plot(self.plot, self._cell_under)

    def set_class_names(self, names) -> None:
        """Name the rows ("3 cat") from the dataset's catalog entry; () for numbers."""
        self.class_names = tuple(names or ())
        self._tick_layers()

    def reset(self) -> None:
        self.image.clear()
        self.classes, self.shown_step, self._counts = 0, None, None
        _titled(self.plot, "Confusion matrix")
        self._show_hint(True)

    def update_counts(self, confusion) -> None:
        """Draw a `Confusion` (None: nothing yet): its (C, C) counts of (true,
        predicted) validation pairs at its step."""
        if confusion is None or confusion.step == self.shown_step:
            return
        step = confusion.step
        counts = np.asarray(confusion.counts, dtype=np.float64)
        if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.sum() <= 0:
            return
        self._show_hint(False)
        rows = counts.sum(1, keepdims=True)
        shares = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
        self.image.setImage(shares.astype(np.float32), levels=LEVELS, autoLevels=False)
        classes = len(counts)
        self.image.setRect(-0.5, -0.5, classes, classes)  # cell (i, j) centred on (j, i)
        if classes != self.classes:
            self.classes = classes
            _set_range(self.plot, "x", -0.5, classes - 0.5)
            _set_range(self.plot, "y", -0.5, classes - 0.5)
            self._tick_layers()
        _titled(self.plot, f"Confusion matrix, step {step}<br><span style='font-size:7pt'>"
                           f"validation: {confusion.diagonal_share:.1%} on the diagonal"
                           "</span>")
        self.shown_step, self._counts = step, counts

    def _cell_under(self, x: float, y: float) -> str:
        """The cell under the mouse: its true and predicted classes, its examples and
        their share of the row."""
        if self._counts is None:
            return ""
        true, predicted = int(round(y)), int(round(x))  # cell (i, j) centred on (j, i)
        if not (0 <= true < self.classes and 0 <= predicted < self.classes):
            return ""
        names = self.class_names if len(self.class_names) == self.classes else ()

        def name(i: int) -> str:
            return f"{i} {names[i]}" if names and not numbered_by_label(names) else (
                names[i] if names else str(i))
        count, row = self._counts[true, predicted], self._counts[true].sum()
        return (f"true {name(true)}, predicted {name(predicted)}: {count:.0f} of its "
                f"{row:.0f} validation examples ({count / max(row, 1):.0%})")

    def _tick_layers(self) -> None:
        """One label per class where they fit (every k-th otherwise); the rows also
        carry the class's name when it has one (the columns' numbers say which), and
        a file's numeric labels stand for the classes on both axes."""
        if not self.classes:
            return
        columns = rows = [str(i) for i in range(self.classes)]
        names = self.class_names if len(self.class_names) == self.classes else ()
        if numbered_by_label(names):  # a file's labels 3, 7, 9: the same on both axes
            columns = rows = list(names)
        elif names:
            rows = [f"{i} {name}" for i, name in enumerate(names)]
        width = self.plot.vb.width() or self.width()
        height = self.plot.vb.height() or self.height()
        digit = 7  # px of one digit in the axes' small font
        widest = max(len(c) for c in columns)
        self.plot.getAxis("bottom").setTicks(layer_ticks(columns, width, digit * widest + 7))
        self.plot.getAxis("left").setTicks(layer_ticks(rows, height, 14))
