"""The main window."""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow, QTableWidget, QTableWidgetItem

from ..design import NetworkDesign, analyze, fmt_shape


class MainWindow(QMainWindow):
    """Shows the design's layers with shapes and parameter counts."""

    def __init__(self, design: NetworkDesign | None = None):
        super().__init__()
        self.design = design or NetworkDesign()
        self.setWindowTitle(f"{self.design.name} - DeskLab")
        analysis = analyze(self.design)
        table = QTableWidget(len(analysis.layers), 4, self)
        table.setHorizontalHeaderLabels(["layer", "kind", "output", "params"])
        for row, info in enumerate(analysis.layers):
            for col, text in enumerate([info.name, info.kind, fmt_shape(info.out_shape),
                                        f"{info.params:,}"]):
                table.setItem(row, col, QTableWidgetItem(text))
        self.setCentralWidget(table)
