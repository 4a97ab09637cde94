"""How a layer looks as a card: its summary line and the delegate that paints it.

An item carries its data in roles (path, kind, the lines to show, a finding's badge);
`CardDelegate` paints a rounded card in the kind's colour with the kind's icon, the
title in bold, detail lines, problems in red and a finding's badge in amber.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate

from ...design import ACTIVATIONS, INITS, LAYER_KINDS, LayerSpec
from ...design.catalog import RECURRENT_KINDS
from .palette import KIND_COLORS

ROLE_PATH = Qt.UserRole
ROLE_LINES = Qt.UserRole + 1  # (title, [detail lines], [problem lines])
ROLE_KIND = Qt.UserRole + 2
ROLE_BADGE = Qt.UserRole + 3  # a finding's text for the warning badge (training view)


def layer_summary(layer: LayerSpec) -> tuple[str, str]:
    """(key settings, activation / init / norm / dropout) for a card."""
    p = LAYER_KINDS[layer.kind].resolve(layer.params)
    key = {"dense": lambda: f"{p['units']} units",
           "conv2d": lambda: f"{p['filters']} filters {p['kernel']}x{p['kernel']} "
                             f"s{p['stride']} p{p['padding']}",
           "maxpool": lambda: f"{p['window']}x{p['window']} s{p['stride']}",
           "avgpool": lambda: f"{p['window']}x{p['window']} s{p['stride']}",
           "flatten": lambda: "",
           "residual": lambda: f"shortcut {p['shortcut']}",
           **dict.fromkeys(RECURRENT_KINDS, lambda: _recurrent_summary(p))}[layer.kind]()
    common = LAYER_KINDS[layer.kind].meta["common"]
    parts = []
    if layer.kind in RECURRENT_KINDS:
        parts.append(f"W_hh {p['recurrent_init']} ×{p['recurrent_gain']:g}")
    if "activation" in common:
        act = ACTIVATIONS.get(layer.activation)
        parts.append(act.meta.get("short", act.label) if act else layer.activation)
    if "init" in common:
        init = INITS.get(layer.init)
        parts.append(init.meta.get("short", init.label) if init else layer.init)
    if "norm" in common and layer.norm != "none":
        parts.append(f"{layer.norm} ({layer.norm_position})")
    if "dropout" in common and isinstance(layer.dropout, (int, float)) and layer.dropout > 0:
        parts.append(f"dropout {layer.dropout:g}")
    return key, " · ".join(parts)


def _recurrent_summary(p: dict) -> str:
    """"64 ×2 bi → last": hidden units, stacked layers, directions, what it returns."""
    stacked = f" ×{p['num_layers']}" if p["num_layers"] > 1 else ""
    return f"{p['hidden']}{stacked}{' bi' if p['bidirectional'] else ''} → {p['returns']}"


class CardDelegate(QStyledItemDelegate):
    """Paints an item as a rounded card: bold title, detail lines, problems in red."""

    PAD = 6

    def _lines(self, index):
        return index.data(ROLE_LINES) or (index.data(Qt.DisplayRole) or "", [], [])

    def sizeHint(self, option, index) -> QSize:
        title, details, problems = self._lines(index)
        fm = QFontMetrics(option.font)
        rows = 1 + len(details) + len(problems) + (1 if index.data(ROLE_BADGE) else 0)
        return QSize(200, rows * (fm.height() + 1) + 2 * self.PAD + 4)

    def paint(self, painter: QPainter, option, index) -> None:
        title, details, problems = self._lines(index)
        painter.save()
        painter.setRenderHint(QPainter.Antialiasing)
        rect = option.rect.adjusted(2, 2, -2, -2)
        base = QColor(KIND_COLORS.get(index.data(ROLE_KIND), "#888888"))
        fill = QColor(base)
        fill.setAlpha(40)
        if option.state & QStyle.State_Selected:
            fill.setAlpha(110)
        border = QColor("#d03030") if problems else base
        painter.setPen(QPen(border, 2 if problems or option.state & QStyle.State_Selected
                            else 1))
        painter.setBrush(fill)
        painter.drawRoundedRect(rect, 6, 6)
        x = rect.left() + self.PAD
        icon = index.data(Qt.DecorationRole)
        if icon is not None:
            icon.paint(painter, QRect(x, rect.top() + self.PAD, 22, 22))
            x += 28
        fm = QFontMetrics(option.font)
        y = rect.top() + self.PAD
        bold = QFont(option.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(option.palette.text().color())
        width = rect.right() - x - self.PAD
        painter.drawText(QRect(x, y, width, fm.height()), Qt.AlignLeft | Qt.AlignVCenter,
                         fm.elidedText(title, Qt.ElideRight, width))
        painter.setFont(option.font)
        for line in details:
            y += fm.height() + 1
            painter.drawText(QRect(x, y, width, fm.height()), Qt.AlignLeft,
                             fm.elidedText(line, Qt.ElideRight, width))
        painter.setPen(QColor("#c02020"))
        for line in problems:
            y += fm.height() + 1
            painter.drawText(QRect(x, y, width, fm.height()), Qt.AlignLeft,
                             fm.elidedText("problem: " + line, Qt.ElideRight, width))
        badge = index.data(ROLE_BADGE)
        if badge:
            y += fm.height() + 1
            painter.setPen(QColor("#b36b00"))
            painter.drawText(QRect(x, y, width, fm.height()), Qt.AlignLeft,
                             fm.elidedText("finding: " + badge, Qt.ElideRight, width))
        painter.restore()
