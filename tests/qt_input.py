"""Input as Qt delivers it, for pytest-qt tests that must not emit a widget's signals
by hand."""

import time


def mouse_move(panel, scene_point) -> None:
    """A mouse move as Qt delivers it to the panel's viewport (no signal emitted by
    hand), paced: pyqtgraph's scene drops moves closer than 10 ms."""
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication
    time.sleep(0.03)
    local = QPointF(panel.mapFromScene(scene_point))
    event = QMouseEvent(QEvent.MouseMove, local,
                        QPointF(panel.viewport().mapToGlobal(local.toPoint())),
                        Qt.NoButton, Qt.NoButton, Qt.NoModifier)
    QApplication.sendEvent(panel.viewport(), event)
