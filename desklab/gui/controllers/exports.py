"""File > Export: code, ONNX, the run's report, metrics, TensorBoard logs, figures.

Every export writes atomically and reports failures in a dialog; nothing here
changes the design or the run.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from ...util.files import atomic_path, atomic_write_text
from ..icons import icon


class ReportNumbers:
    """What `train_report` reads of a trainer, for a run that trained in its own
    process: its device, size, final state, steps and training time."""

    def __init__(self, device_name: str, total_params: int, state: str, step: int,
                 train_seconds: float):
        self.device_name, self.model_total_params = device_name, total_params
        self.state, self.step, self.train_seconds = state, step, train_seconds


class Exporter:
    """The export actions of a MainWindow (``window``)."""

    def __init__(self, window):
        self.window = window

    @property
    def history(self):
        return self.window.training.feed.history

    def _ask(self, title: str, suggestion: str, filter_: str) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(self.window, title, suggestion, filter_)
        return Path(path) if path else None

    def _guard(self, what: str, action) -> bool:
        return guarded(self.window, what, action, self.window.show_error)

    # --- one method per format, taking the target path (the menu asks for it)

    def pytorch(self, path: Path) -> bool:
        from ...engine.export import export_pytorch
        return self._guard("PyTorch code", lambda: atomic_write_text(
            path, export_pytorch(self.window.doc.design)))

    def onnx(self, path: Path) -> bool:
        """The last run's design with the weights it ended with (the design at init when
        no run has ended since it was opened)."""
        from ...engine.onnx_export import export_onnx
        from ...engine.weights import load_weights
        c = self.window.training.controller
        run = c.ended_info if c.ended_info is not None and c.ended_info.weights_path \
            else None
        design = c.design if run is not None else self.window.doc.design
        return self._guard("ONNX", lambda: export_onnx(
            design, path, state=load_weights(run.weights_path) if run else None))

    def report(self, path: Path) -> bool:
        from ...metrics.report import to_json, train_report
        c = self.window.training.controller
        feed = self.window.training.feed
        if feed is not c:  # a reopened or followed run: the report its run file makes
            return self._recorded_report(feed, path)
        if c.ended_info is None:
            self.window.show_error("Nothing to export", "Train first: the report is that of "
                                   "a run trained here, once it has ended.")
            return False
        ended = c.ended_info
        numbers = ReportNumbers(c.device_name, c.total_params, ended.state, ended.step,
                                ended.train_seconds)

        def write():
            report = train_report(c.design, numbers, self.history, c.class_names)
            report["threads"] = ended.threads
            atomic_write_text(path, to_json(report))
        return self._guard("the report", write)

    def _recorded_report(self, feed, path: Path) -> bool:
        from ...metrics.report import to_json
        from ...runs.report import report_of_run
        source = feed.run_file
        if source is None or not Path(source).is_file():
            self.window.show_error("Nothing to export", "This run's file is not on this "
                                   "computer (a run followed from a server, or moved): "
                                   "desklab runs show RUN --remote URL --json PATH writes "
                                   "a served run's report.")
            return False

        def write():
            try:
                report = report_of_run(source)
            except sqlite3.Error as exc:  # locked or damaged below the file's checks
                raise OSError(f"{source}: {exc}") from None
            atomic_write_text(path, to_json(report))
        return self._guard("the report", write)

    def csv(self, path: Path) -> bool:
        from ...metrics.report import snapshots_csv
        if self.history is None or not self.history.snapshots:
            self.window.show_error("Nothing to export", "Train first: no snapshots yet.")
            return False
        return self._guard("the metrics CSV", lambda: atomic_write_text(
            path, snapshots_csv(list(self.history.snapshots))))

    def tensorboard(self, folder: Path) -> bool:
        from ...engine.tensorboard_log import TensorBoardLogger
        if self.history is None:
            self.window.show_error("Nothing to export", "Train first.")
            return False

        def write():
            board = TensorBoardLogger(str(folder))
            for snapshot in self.history.snapshots:
                board.add_snapshot(snapshot)
            from ...metrics import Metrics
            for row in self.history.metrics.values:  # columns in Metrics' field order
                board.add_metrics(Metrics(int(row[0]), *(float(v) for v in row[1:])))
            board.close()
        return self._guard("TensorBoard logs", write)

    def figure_sheet(self, path: Path) -> bool:
        """One PNG of the live plots, rendered from the plot panels (not a grab of the
        window's area, which held the heatmap's combo box), under a title line: the
        design, the run's state and step, the date."""
        view = self.window.training
        view.redraw(everything=True)
        return self._guard("the figure sheet", lambda: _save_png(figure_sheet_image(
            view.shown_panels(), self.window.doc.design.name, view.feed), path))

    # --- menu entries: ask for a path, then export

    def add_menu(self, menu) -> None:
        entries = [  # the file name: the design's name when chosen, then this ending
            ("&PyTorch code…", lambda: self._file(self.pytorch, "Export PyTorch code",
                                                 ".py", "Python (*.py)")),
            ("&ONNX…", lambda: self._file(self.onnx, "Export ONNX", ".onnx",
                                         "ONNX (*.onnx)")),
            ("Run &report (JSON)…", lambda: self._file(self.report, "Export report",
                                                      "-report.json", "JSON (*.json)")),
            ("Per-layer &metrics (CSV)…", lambda: self._file(self.csv, "Export metrics",
                                                            "-layers.csv", "CSV (*.csv)")),
            ("&TensorBoard logs…", self._tensorboard_dialog),
            ("&Figure sheet (PNG)…", lambda: self._file(self.figure_sheet, "Export figures",
                                                       "-figures.png", "PNG (*.png)")),
        ]
        for text, slot in entries:
            menu.addAction(icon("export"), text, slot)

    def _file(self, export, title, ending, filter_) -> None:
        """Ask where (the current design's name + ``ending``, beside its file), export."""
        doc = self.window.doc
        suggestion = _file_stem(doc.design.name) + ending
        if doc.path is not None:
            suggestion = str(Path(doc.path).parent / suggestion)
        path = self._ask(title, suggestion, filter_)
        if path is not None:
            export(path)

    def _tensorboard_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "TensorBoard log folder")
        if folder:
            self.tensorboard(Path(folder))


def guarded(window, what: str, action, show_error) -> bool:
    """Run the export ``action``; a failure goes to ``show_error(title, message)``,
    a success to ``window``'s status bar. Whether it wrote."""
    try:
        action()
    except (OSError, ValueError, RuntimeError) as exc:
        show_error(f"Cannot export {what}", str(exc))
        return False
    window.statusBar().showMessage(f"Exported {what}", 4000)
    return True


def _file_stem(name: str) -> str:
    """A design name as a file name: separators and control characters replaced."""
    stem = "".join("_" if c in '/\\:*?"<>|' or ord(c) < 32 else c for c in name).strip(" .")
    return stem or "design"


def figure_sheet_image(panels: list, design_name: str, feed):
    """The panels side by side, three to a row at their on-screen sizes, under a title
    line; a QImage."""
    from datetime import date

    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtGui import QColor, QFont, QImage, QPainter
    pictures = [p.grab() for p in panels]
    per_row, title_h, gap = 3, 34, 6
    rows = [pictures[i:i + per_row] for i in range(0, len(pictures), per_row)]
    width = max(sum(p.width() for p in row) + gap * (len(row) - 1) for row in rows)
    height = title_h + sum(max(p.height() for p in row) for row in rows) + gap * len(rows)
    ratio = pictures[0].devicePixelRatio() if pictures else 1.0
    image = QImage(int(width * ratio), int(height * ratio), QImage.Format_RGB32)
    image.setDevicePixelRatio(ratio)
    image.fill(QColor("white"))
    painter = QPainter(image)
    font = QFont()
    font.setPointSize(11)
    font.setBold(True)
    painter.setFont(font)
    state = f"{feed.state}, step {feed.step}" if feed.history is not None else "no run"
    painter.drawText(8, 0, width - 16, title_h, Qt.AlignVCenter | Qt.AlignLeft,
                     f"{design_name} · {state} · {date.today().isoformat()}")
    y = title_h
    for row in rows:
        x = 0
        for picture in row:
            painter.drawPixmap(QPoint(x, y), picture)
            x += picture.width() + gap
        y += max(p.height() for p in row) + gap
    painter.end()
    return image


def _save_png(image, path: Path) -> None:
    with atomic_path(path, suffix=".png") as tmp:
        if not image.save(tmp, "PNG"):
            raise OSError(f"cannot write {path}")
