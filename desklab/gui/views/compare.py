"""Runs compared: every run's curves overlaid (up to six), two runs' per-layer views next
to each other (with three or more, a chooser above each side picks which), a replay
slider over their snapshots, and beside each side's per-layer views its run's latest
decision boundary (or fit curve, or confusion matrix). Opened by "Run both" on a lesson
pair or from the Runs dock."""

from __future__ import annotations

import html

from PySide6.QtCore import QSignalBlocker, QTimer, Qt
from PySide6.QtWidgets import (QComboBox, QGridLayout, QHBoxLayout, QLabel,
                               QMainWindow, QPushButton, QSlider, QVBoxLayout, QWidget)

from .findings import FindingsList
from ..icons import icon
from ...design.catalog import class_names
from ...metrics.at_step import AtStep
from ..plots import ActivationPanel, BoundaryPanel, ConfusionPanel
from ..controllers.compare_export import CompareExporter
from ..controllers.compare_live import LiveRuns
from ..controllers.runs import PairController, RunRecord
from .compare_curves import COLORS, LETTERS, MAX_RUNS, CompareCurves
from .compare_parts import head_button, swatch, unbroken
from .screen_fit import fit_to_screen
from .smoothing_box import COMPARE_SMOOTHING, remember, smoothing_box

# narrower, a boundary or matrix beside each run's per-layer views leaves both too
# little room (at 820 px the matrix's title broke mid-word): they are left out
END_PANELS_MIN_WIDTH = 1100


class CompareWindow(QMainWindow):
    """Runs compared (one for replay, up to ``MAX_RUNS``); two of them side by side."""

    def __init__(self, runs, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Compare runs - DeskLab")
        fit_to_screen(self, (1500, 950))  # it fits a 1280 x 720 screen too
        room = self.screen().availableGeometry()
        # below 820 x 540 the plots have no room for their labels; a smaller screen wins
        self.setMinimumSize(min(820, room.width()), min(540, room.height()))
        self.controller = PairController(runs, self)
        self.records: list[RunRecord] = []
        self.sides = [0, 1]  # the run (index into records) each side's views show
        self.shown_steps = [None, None]  # the snapshot step each side shows
        self.title = QLabel()
        self.title.setWordWrap(True)  # six runs' names: two lines, not a squeezed slider
        self.title.setObjectName("compareTitle")  # each run a link: a click hides its curves
        self.title.setTextInteractionFlags(Qt.LinksAccessibleByMouse |
                                           Qt.LinksAccessibleByKeyboard)  # (Tab, Enter)
        self.title.linkActivated.connect(self._toggle)
        self.stop_button = QPushButton(icon("stop"), "Stop")
        self.stop_button.clicked.connect(self.controller.stop)
        self.exporter = CompareExporter(self)
        self.live = LiveRuns(self)  # stored runs still being written, followed
        self.live.ended.connect(self._title)
        self.export_buttons = [head_button("export", "Picture…", "comparePicture", "Ctrl+S",
                                       "Save this window as a PNG", self.exporter.ask_picture),
                               head_button("export", "Curves…", "compareCurves", "Ctrl+E",
                                       "Every run's loss, accuracy and lr, step by step, as CSV",
                                       self.exporter.ask_curves)]
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setObjectName("replay_slider")
        self.slider.setRange(0, 0)  # at its end, live (Qt's 0..99 opened reruns at step 0)
        self.slider.setToolTip("Replay: the per-layer views show the snapshot at this step")
        self.slider.valueChanged.connect(lambda _v: self._redraw(force=True))
        self.step_label = QLabel("live")
        self.smoothing = smoothing_box("compareSmoothing", COMPARE_SMOOTHING)
        self.curves = CompareCurves()  # loss, accuracy, depth: both runs overlaid
        self.curves.readout.connect(self.statusBar().showMessage)  # what is pointed at
        if getattr(parent, "settings", None) is not None:  # the user's last choice
            remember(self.smoothing, parent.settings, "compare/smoothing")
        self.smoothing.valueChanged.connect(self._smooth)
        self.curves.set_smoothing(self.smoothing.value())
        # (the tests and the UI map reach the plots through the window)
        self.loss, self.acc, self.depth = self.curves.loss, self.curves.acc, self.curves.depth
        self.lines = self.curves.lines
        self.panels = [ActivationPanel(), ActivationPanel()]
        for panel in self.panels:  # a layer pointed at on either side: thick on both
            panel.hovered.connect(self._point_at)
            panel.hover_detail.connect(self.statusBar().showMessage)  # what is under it
        self.findings = [FindingsList(), FindingsList()]
        self.names = [QLabel(), QLabel()]
        # with three runs or more, each side picks its run (all are in the curves above)
        self.choosers = [QComboBox(), QComboBox()]
        for side, chooser in enumerate(self.choosers):
            chooser.setObjectName(f"compare_side_{side}")
            chooser.setToolTip("The run whose per-layer views, findings and boundary this "
                               "side shows (the curves above overlay every run)")
            chooser.hide()
            chooser.currentIndexChanged.connect(self._choose)
        # the latest drawing over the inputs, else the last confusion matrix (not replayed)
        self.boundaries = [BoundaryPanel(), BoundaryPanel()]
        for panel in self.boundaries:
            panel.note = ", newest (not replayed)"
        self.confusions = [ConfusionPanel(), ConfusionPanel()]
        self._ends: list = [None, None]  # the history each side's end panel shows
        grid = QGridLayout()
        for k in range(2):
            name_row = QHBoxLayout()
            name_row.addWidget(self.names[k])
            name_row.addWidget(self.choosers[k])
            name_row.addStretch(1)
            grid.addLayout(name_row, 0, k)
            row = QHBoxLayout()  # the per-layer views, then (when the run has one) the end
            row.addWidget(self.panels[k], 3)
            for widget in (self.boundaries[k], self.confusions[k]):
                widget.hide()
                row.addWidget(widget, 2)
            grid.addLayout(row, 1, k)
            grid.addWidget(self.findings[k], 2, k)
        grid.setRowStretch(1, 3)
        grid.setRowStretch(2, 1)
        # the runs and what to do with them; below, the replay slider over the whole
        # width (beside six runs' names and these buttons it was a knob at 820 px)
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        for widget in (self.smoothing, self.stop_button, *self.export_buttons):
            head.addWidget(widget)
        replay = QHBoxLayout()
        replay.addWidget(QLabel("replay step"))
        replay.addWidget(self.slider, 1)
        replay.addWidget(self.step_label)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addLayout(head)
        layout.addLayout(replay)
        layout.addWidget(self.curves, 2)
        layout.addLayout(grid, 5)
        self.setCentralWidget(body)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._redraw)
        self.timer.start(100)

    # ------------------------------------------------------------ sources

    def run_pair(self, designs, names) -> None:
        """Train two designs side by side (same seed, same batches)."""
        self.controller.start(designs, names)
        self.records = self.controller.records
        self._label()

    def show_records(self, records: list[RunRecord]) -> None:
        """Show finished runs (one to ``MAX_RUNS``) for overlay and replay; the first
        two side by side."""
        self.controller.stop()
        self.records = self.live.follow(list(records)[:MAX_RUNS])
        self.curves.hidden = set()
        self._label()
        self._redraw(force=True)  # drawn now, at their end, not at the next tick

    def _label(self) -> None:
        """Each run's letter and name in its colour: the title, and each side's label
        (two runs) or chooser (three or more)."""
        self.sides = list(range(min(2, len(self.records))))
        choosing = len(self.records) > 2
        for side, (label, chooser) in enumerate(zip(self.names, self.choosers)):
            label.setVisible(not choosing)
            chooser.setVisible(choosing and side < len(self.sides))
            with QSignalBlocker(chooser):
                chooser.clear()
                if choosing:
                    for k, r in enumerate(self.records):
                        chooser.addItem(swatch(COLORS[k]), f"{LETTERS[k]}: {r.name}")
                    chooser.setCurrentIndex(self.sides[side])
            if side < len(self.sides):
                k = self.sides[side]
                label.setText(f"<b style='color:{COLORS[k]}'>{LETTERS[k]}: "
                              f"{html.escape(self.records[k].name)}</b>")
            else:
                label.setText("")
        self._title()

    def _title(self) -> None:
        """Every run in its colour (with its letter when there are three or more), a
        link that hides or shows its curves (greyed and struck through while hidden), a
        run still being written marked live."""
        choosing = len(self.records) > 2
        hidden = self.curves.hidden
        self.title.setText(" vs ".join(
            f"<a href='run:{k}' style='text-decoration:none; color:"
            f"{'#a0a0a0' if k in hidden else COLORS[k]}'><b>{'<s>' if k in hidden else ''}"
            f"{'●&nbsp;' if self.live.live(k) else ''}"
            f"{f'{LETTERS[k]}:&nbsp;' if choosing else ''}{unbroken(r.name)}"
            f"{'</s>' if k in hidden else ''}</b></a>" for k, r in enumerate(self.records)))
        self.title.setToolTip("Click a run to hide or show its curves" + (
            "\n● a run still training: followed as it is written"
            if self.live.followers else ""))

    def _toggle(self, link: str) -> None:
        """A run's name clicked in the title: its curves hidden, or shown again."""
        k = int(link.removeprefix("run:"))
        self.curves.hidden ^= {k}
        self._title()
        self._redraw(force=True)

    def _choose(self, index: int) -> None:
        """A side's chooser picked another run: that side's views show it now."""
        side = self.choosers.index(self.sender())
        if 0 <= index < len(self.records) and side < len(self.sides):
            self.sides[side] = index
            self._redraw(force=True)

    # ------------------------------------------------------------ drawing

    def _steps(self) -> list[int]:
        steps = sorted({s.step for r in self.records for s in r.history.snapshots})
        return steps

    def _redraw(self, force: bool = False) -> None:
        if not (self.controller.dirty or self.live.dirty or force) or not self.records:
            return
        self.controller.dirty = self.live.dirty = False
        steps = self._steps()
        live = self.slider.value() >= self.slider.maximum()
        with QSignalBlocker(self.slider):
            self.slider.setRange(0, max(len(steps) - 1, 0))
            if live:
                self.slider.setValue(self.slider.maximum())
        at = None if live or not steps else steps[self.slider.value()]
        self.step_label.setText("live" if at is None else f"step {at}")
        self.stop_button.setEnabled(self.controller.running)
        self.curves.show_curves([r.history for r in self.records], at)
        layouts = [r.history.layout.names for r in self.records if r.history.layout]
        snaps = [AtStep(record.history, at).latest for record in self.records]
        # by time step when every run has one (a recurrent run among others: by depth)
        timed = all(s is not None and s.time_grad is not None for s in snaps)
        for k, snap in enumerate(snaps):  # every run's depth curve
            if snap is not None:
                self.curves.show_depth(k, snap, layouts, timed)
        for side, k in enumerate(self.sides):  # two runs' per-layer views
            h = self.records[k].history
            view = AtStep(h, at)
            snap = view.latest
            if snap is None:
                continue
            if self.panels[side].layout_ is not h.layout:
                self.panels[side].set_layout(h.layout)
            self.panels[side].update(view)
            self.shown_steps[side] = snap.step
            self.findings[side].set_findings(h.findings, at_step=at)
            self._end_panel(side, self.records[k])

    def _smooth(self, weight: float) -> None:
        self.curves.set_smoothing(weight)
        self._redraw(force=True)

    def _point_at(self, index: int) -> None:
        """The pointed-at layer thick on both sides (by name: depths may differ)."""
        names = [p.layout_.names if p.layout_ is not None else () for p in self.panels]
        name = names[self.panels.index(self.sender())][index] if index >= 0 else None
        wanted = [its.index(name) if name in its else -1 for its in names]
        if wanted != [p.highlighted for p in self.panels]:  # (a move along the same row)
            for panel, layer in zip(self.panels, wanted):
                panel.highlight(layer)
            self._redraw(force=True)

    def _end_panel(self, k: int, record: RunRecord) -> None:
        """Side ``k``'s boundary (with its points) or confusion matrix, ``record``'s
        latest: the per-layer views replay, these were kept only at their newest."""
        h, boundary, confusion = record.history, self.boundaries[k], self.confusions[k]
        if self._ends[k] is not h:  # another run on this side
            self._ends[k] = h
            boundary.reset()
            confusion.reset()
            boundary.set_data_points(h.data_points)
            design = record.design
            confusion.set_class_names(class_names(design.input.dataset, design.input.params))
        if h.data_points is not None and not boundary.has_points:  # a live run's, later
            boundary.set_data_points(h.data_points)
        room = self.width() >= END_PANELS_MIN_WIDTH
        over_inputs = room and h.data_points is not None
        matrix = room and h.data_points is None and h.confusion is not None
        boundary.setVisible(over_inputs)
        confusion.setVisible(matrix)
        if over_inputs:
            boundary.update_grid(h.drawing)
        elif matrix:
            confusion.update_counts(h.confusion)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        for side, k in enumerate(self.sides):  # they come and go with the room
            if k < len(self.records):  # (END_PANELS_MIN_WIDTH): not the whole redraw
                self._end_panel(side, self.records[k])

    def closeEvent(self, event) -> None:
        self.timer.stop()
        self.controller.stop()
        self.live.close()
        super().closeEvent(event)
