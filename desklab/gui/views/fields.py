"""Field editors: one widget per catalog Param kind, shared by the inspector and the
train panel.

Editors accept out-of-range values on purpose (the validator marks them), show a
value without emitting an edit, and pass undo / redo keys on to the document.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QObject, QSignalBlocker
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractSpinBox, QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox, QWidget,
)

from ...design import ACTIVATIONS, DATASETS, INITS, NORMS, OPTIMIZERS
from ...design.schema import Param

LABELS = {"activation": ACTIVATIONS, "init": INITS, "norm": NORMS, "dataset": DATASETS,
          "optimizer": OPTIMIZERS}
WIDE = 1e9  # editors take out-of-range values; the validator marks them


class _UndoKeysToDocument(QObject):
    """Lets Ctrl+Z / Ctrl+Shift+Z / Ctrl+Y reach the window's undo and redo while the
    cursor is in a field: a line edit or spin box would otherwise claim them (through
    ShortcutOverride) for its own text, and the design's edit could not be undone."""

    KEYS = (QKeySequence.Undo, QKeySequence.Redo)

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.ShortcutOverride and (
                any(event.matches(k) for k in self.KEYS) or
                QKeySequence(event.keyCombination()) == QKeySequence("Ctrl+Y")):
            event.ignore()  # not the field's: the shortcut goes to the window
            return True
        return False


UNDO_KEYS_TO_DOCUMENT = None


def route_undo_keys(widget: QWidget) -> None:
    """Send undo / redo keys typed in ``widget`` to the document's undo stack."""
    global UNDO_KEYS_TO_DOCUMENT
    if UNDO_KEYS_TO_DOCUMENT is None:
        UNDO_KEYS_TO_DOCUMENT = _UndoKeysToDocument()
    widget.installEventFilter(UNDO_KEYS_TO_DOCUMENT)
    if isinstance(widget, QAbstractSpinBox) and widget.findChild(QLineEdit) is not None:
        widget.findChild(QLineEdit).installEventFilter(UNDO_KEYS_TO_DOCUMENT)


def make_editor(param: Param, value, on_change) -> QWidget:
    """A widget for one schema field, calling ``on_change(value)`` on edits."""
    if param.kind == "bool":
        w = QCheckBox()
        w.setChecked(bool(value))
        w.toggled.connect(on_change)
    elif param.kind == "text":
        w = QLineEdit(str(value))
        w.editingFinished.connect(lambda: on_change(w.text().strip()))
    elif param.kind == "choice":
        w = QComboBox()
        registry = LABELS.get(param.name.split(".")[-1])
        for choice in param.choices:
            label = registry[choice].label if registry and choice in registry else choice
            w.addItem(label, choice)
        index = w.findData(value)
        if index < 0:  # an unknown value from a file: keep it visible
            w.addItem(f"{value} (unknown)", value)
            index = w.count() - 1
        w.setCurrentIndex(index)
        w.currentIndexChanged.connect(lambda i: on_change(w.itemData(i)))
    elif param.kind == "int":
        w = IntBox()
        w.setRange(-int(WIDE), int(WIDE))
        w.setValue(int(value) if _fits(value) else 0)
        w.setKeyboardTracking(False)
        w.valueChanged.connect(on_change)
    else:
        w = NumberBox()
        w.setRange(-WIDE, WIDE)
        w.setStepType(QAbstractSpinBox.AdaptiveDecimalStepType)
        w.setValue(float(value) if _fits(value) else 0.0)
        w.setKeyboardTracking(False)
        w.valueChanged.connect(on_change)
    if isinstance(w, QAbstractSpinBox):
        w.setMaximumWidth(96)  # the wide accepted range would make the hint huge; six
        # fields in a row must fit the training panel of a 1280 px window
    w.setToolTip(param.help + _range_text(param))
    w.setObjectName(f"field_{param.name}")
    route_undo_keys(w)
    return w


class _Mixed:
    """A number field that can read "mixed" (the selected layers differ): empty, with
    that placeholder, until a value is entered, which then applies to all of them
    (also the value the first layer happens to have)."""

    mixed = False

    def set_mixed(self) -> None:
        self.mixed = True
        self.lineEdit().setPlaceholderText("mixed")
        self.lineEdit().setText("")
        if not getattr(self, "_mixed_hooked", False):
            self._mixed_hooked = True
            self.editingFinished.connect(self._entered)

    def _entered(self) -> None:
        if self.mixed and self.lineEdit().text().strip():
            self.mixed = False
            self.valueChanged.emit(self.value())  # even when it equals the first layer's

    def textFromValue(self, value) -> str:  # noqa: N802 (Qt naming)
        return "" if self.mixed else self._text(value)


class IntBox(_Mixed, QSpinBox):
    """An integer field (see `_Mixed`)."""

    def _text(self, value) -> str:
        return str(int(value))


class NumberBox(_Mixed, QDoubleSpinBox):
    """A float field that shows a value as it would be written: ``0``, ``0.0005``,
    ``1e-05`` (a fixed six decimals showed 0.000000 and cut small learning rates), and
    accepts what Python's ``float`` accepts, exponents included."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setDecimals(12)  # the value is kept this finely; the text is `:g`

    def _text(self, value: float) -> str:
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802 (Qt naming)
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        from PySide6.QtGui import QValidator
        stripped = text.strip()
        try:
            value = float(stripped)
        except ValueError:
            # part of a number on its way ("", "-", "1e", "1e-", "."): keep typing
            ok = all(c in "0123456789.eE+-" for c in stripped)
            return (QValidator.Intermediate if ok else QValidator.Invalid), text, pos
        if self.minimum() <= value <= self.maximum():
            return QValidator.Acceptable, text, pos
        return QValidator.Intermediate, text, pos


def _range_text(p: Param) -> str:
    if p.kind in ("int", "float") and p.low is not None:
        return f" (range {p.low:g} .. {p.high:g})"
    return ""


def set_editor_value(w: QWidget, value) -> None:
    """Show ``value`` without emitting an edit. A value the widget cannot hold (NaN,
    1e400 from a file) leaves the widget as it was; the validator marks the field."""
    with QSignalBlocker(w):  # unblocks even when a setter raises
        if isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QLineEdit):
            w.setText(str(value))
        elif isinstance(w, QComboBox):
            i = w.findData(value)
            if i >= 0:
                w.setCurrentIndex(i)
        elif isinstance(w, QSpinBox) and _fits(value):
            w.setValue(int(value))
        elif isinstance(w, QDoubleSpinBox) and _fits(value):
            w.setValue(float(value))
        if isinstance(w, _Mixed) and w.mixed:  # one value again: show it
            w.mixed = False
            w.lineEdit().setText(w.textFromValue(w.value()))


def show_mixed(w: QWidget) -> None:
    """Show that the selected layers differ here: an empty field reading "mixed" (a
    number or choice typed or picked then applies to all of them)."""
    with QSignalBlocker(w):
        if isinstance(w, _Mixed):
            w.set_mixed()  # the value underneath is kept; left empty, nothing changes
        elif isinstance(w, QComboBox):
            w.setPlaceholderText("mixed")
            w.setCurrentIndex(-1)
        elif isinstance(w, QLineEdit):
            w.clear()
            w.setPlaceholderText("mixed")


def _fits(value) -> bool:
    """A finite number within the editors' range (NaN, inf, 1e400 from a file are not)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and \
        math.isfinite(value) and abs(value) < WIDE
