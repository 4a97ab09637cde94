"""At-init preview: the foundation probe re-run off the GUI thread after each edit.

At most one probe runs at a time; edits made meanwhile collapse into one pending
request (the latest design), so a burst of edits costs two probes, not one per
keystroke. Results of anything but the latest request are dropped. It keeps probing
while a run trains: the run is in its own process, with its own random numbers.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ...design import NetworkDesign
from ...engine import probe_at_init
from ...engine.real_data import DatasetMissing
from ...metrics.babysitting import init_loss_note
from ..controllers.document import DesignDocument
from ..plots import layer_ticks, legend_title
from ..controllers.threads import start_thread, stop_thread
from ..plots import log_axis
from ..plots.layer_names import overhanging_names

PREVIEW_BATCH = 256  # examples per preview probe (statistics barely move beyond this)
BUSY_AFTER_MS = 200  # show the busy mark when a result takes longer than this


class PreviewRunner(QObject):
    """Lives on the preview thread; probes the designs it is sent."""

    done = Signal(int, object, float)  # request id, snapshot, seconds
    failed = Signal(int, str)

    @Slot(int, object)
    def run(self, request_id: int, design: NetworkDesign) -> None:
        start = time.perf_counter()
        try:
            snapshot, _, _ = probe_at_init(design, max_batch=PREVIEW_BATCH)
        except DatasetMissing as exc:  # not downloaded yet: say where, and how
            self.failed.emit(request_id, f"{exc}. Train (F5) offers to download it.")
            return
        except Exception as exc:  # noqa: BLE001 - any failure is shown, never raised
            self.failed.emit(request_id, f"{type(exc).__name__}: {exc}")
            return
        self.done.emit(request_id, snapshot, time.perf_counter() - start)


class PreviewPanel(QWidget):
    """Activation std and mean |dL/dh| per layer against depth, log scale."""

    _request = Signal(int, object)
    updated = Signal(float)  # latency from edit to shown result, in seconds
    pointed = Signal(str)  # the layer under the mouse and its numbers at init ("": none)

    def __init__(self, doc: DesignDocument, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.setObjectName("preview")
        self.plot = pg.PlotWidget(axisItems=log_axis.axes())
        self.plot.setBackground("w")
        self.plot.setLogMode(y=True)
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        self.plot.setLabel("bottom", "layer (input → output)")
        overhanging_names(self.plot.getAxis("bottom"))
        self.plot.setTitle(legend_title("At init, by layer", [
            ("activation std", "#1e64c8", False), ("mean |dL/dh|", "#d1495b", False)]),
            size="9pt")
        self.std_curve = self.plot.plot(pen=pg.mkPen("#1e64c8", width=1), symbol="o",
                                        symbolSize=5, symbolBrush="#1e64c8",
                                        name="activation std")
        self.grad_curve = self.plot.plot(pen=pg.mkPen("#d1495b", width=1), symbol="s",
                                         symbolSize=5, symbolBrush="#d1495b",
                                         name="mean |dL/dh|")
        self._shown = None  # the snapshot drawn (None while the design has problems)
        self._told = False  # a layer's numbers are in the status bar
        self.plot.scene().sigMouseMoved.connect(self._moved)
        # the names under the axis fit its width: again whenever the dock is resized
        self.plot.getPlotItem().vb.sigResized.connect(self._tick_layers)
        self.status = QLabel("", self)
        self.status.setObjectName("preview_status")
        self.status.setWordWrap(True)  # a long line must never widen the dock (and squeeze
        # the network editor on the other side of the window)
        self.following_note = QLabel("", self)  # in place of the plot while a run is shown
        self.following_note.setObjectName("preview_following")
        self.following_note.setWordWrap(True)
        self.following_note.setAlignment(Qt.AlignCenter)
        self.following_note.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.plot)
        layout.addWidget(self.following_note, 1)
        layout.addWidget(self.status)
        self.latest_id = 0
        self.in_flight: int | None = None
        self.pending: tuple[int, NetworkDesign] | None = None
        self.sent_at: dict[int, float] = {}
        self.last_snapshot = None
        self.last_latency = float("nan")
        self.busy_timer = QTimer(self)
        self.busy_timer.setSingleShot(True)
        self.busy_timer.timeout.connect(lambda: self.status.setText("Computing the preview…"))
        self.runner = PreviewRunner()
        self.thread = start_thread(self.runner, "desklab-preview")
        self._request.connect(self.runner.run, Qt.QueuedConnection)
        self.runner.done.connect(self._on_done, Qt.QueuedConnection)
        self.runner.failed.connect(self._on_failed, Qt.QueuedConnection)
        doc.changed.connect(self.request)
        self.request()

    def request(self) -> None:
        """Ask for a preview of the current design (if it is valid)."""
        self.latest_id += 1
        if not self.doc.analysis.ok:
            self.pending = None
            self.status.setText("The design has problems: no preview until they are fixed.")
            self._clear()
            return
        self.sent_at[self.latest_id] = time.perf_counter()
        self.pending = (self.latest_id, self.doc.design.copy())
        self._send_pending()
        if not self.busy_timer.isActive():
            self.busy_timer.start(BUSY_AFTER_MS)

    def _send_pending(self) -> None:
        if self.in_flight is not None or self.pending is None:
            return
        request_id, design = self.pending
        self.pending = None
        self.in_flight = request_id
        self._request.emit(request_id, design)

    @Slot(int, object, float)
    def _on_done(self, request_id: int, snapshot, seconds: float) -> None:
        self.in_flight = None
        self._send_pending()
        if request_id != self.latest_id:
            return  # stale: a newer edit is queued or running
        self.busy_timer.stop()
        latency = time.perf_counter() - self.sent_at.pop(request_id, time.perf_counter())
        self.sent_at.clear()
        self.last_snapshot, self.last_latency = snapshot, latency
        self._show(snapshot)
        design = self.doc.design
        note = init_loss_note(snapshot.loss, design.output_size() or 0) \
            if design.output.task == "classes" else ""
        self.status.setText(f"At init, one batch of ≤{PREVIEW_BATCH}: probe {seconds * 1000:.0f}"
                            f" ms, shown {latency * 1000:.0f} ms after the edit. {note}")
        self.updated.emit(latency)

    @Slot(int, str)
    def _on_failed(self, request_id: int, message: str) -> None:
        self.in_flight = None
        self._send_pending()
        if request_id == self.latest_id:
            self.busy_timer.stop()
            self.status.setText(f"Preview failed: {message}")

    def show_following(self, following: bool) -> None:
        """While the window shows a recorded run (a script's BERT, say), the preview of
        the design (fc1..head) beside it read as that run's: it steps aside and says so."""
        self.plot.setVisible(not following)
        self.status.setVisible(not following)
        self.following_note.setVisible(following)
        self.following_note.setText(
            f"The at-init preview is of your design ({self.doc.design.name}), not of the "
            "run shown. <b>Back to the design</b> brings it back.")

    def _moved(self, pos) -> None:
        """Name the layer under the mouse with both numbers at init (the plot has a
        point per layer and no room for values)."""
        view, snap = self.plot.getPlotItem().vb, self._shown
        i = int(round(view.mapSceneToView(pos).x())) if snap is not None else -1
        if view.sceneBoundingRect().contains(pos) and 0 <= i < len(snap.layout):
            self._told = True
            self.pointed.emit(f"layer {snap.layout.names[i]} at init: activation std "
                              f"{snap.stat('act_std')[i]:.2g} · mean |dL/dh| "
                              f"{snap.stat('grad_mean_abs')[i]:.2g}")
        elif self._told:
            self._told = False
            self.pointed.emit("")

    def _show(self, snapshot) -> None:
        self._shown = snapshot
        names = snapshot.layout.names
        x = np.arange(len(names))
        std = snapshot.stat("act_std")
        grad = snapshot.stat("grad_mean_abs")
        # log axes cannot show 0: draw exact zeros at a floor far below the data
        floor = 1e-12
        self.std_curve.setData(x, np.where(std > 0, std, floor))
        self.grad_curve.setData(x, np.where(grad > 0, grad, floor))
        self._tick_layers()

    def _tick_layers(self, *_) -> None:
        """As many layer names as fit the axis without overlapping (about 7 px a
        character); none while nothing is shown."""
        if self._shown is None:
            self.plot.getAxis("bottom").setTicks([[]])
            return
        names = self._shown.layout.names
        longest = max((len(n) for n in names), default=4)
        width = self.plot.getPlotItem().getViewBox().width() or self.plot.width()
        self.plot.getAxis("bottom").setTicks(layer_ticks(names, width, 7 * longest + 10))

    def _clear(self) -> None:
        self._shown = None
        self.std_curve.setData([], [])
        self.grad_curve.setData([], [])
        self._tick_layers()  # the last design's names went with its curves

    def shutdown(self) -> None:
        """Stop and join the preview thread (the window's close calls this); a probe
        still computing is detached and its result ignored."""
        stop_thread(self.thread, worker=self.runner)
