"""Training controls: data and optimizer settings, the log-scale learning rate, buttons.

Settings are the design's own (TrainConfig, InputSpec) and are edited through the
document, so they are undoable and saved with the design. The learning rate and
L1 / L2 also reach a running trainer at once.
"""

from __future__ import annotations

import html
import math

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QComboBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSlider, QToolButton,
    QWidget,
)

from ...design import DATASETS, TRAIN_PARAMS
from ...design.edit import get_field, set_field
from ...engine import available_devices
from ..controllers.document import DesignDocument
from .fields import make_editor, set_editor_value

LR_MIN_EXP, LR_MAX_EXP = -5.0, 1.0  # the slider spans 1e-5 .. 10
LR_TICKS = 600
LIVE_FIELDS = ("train.lr", "train.l1", "train.l2")  # reach a running trainer at once


def lr_to_slider(lr: float) -> int:
    exp = min(math.log10(max(lr, 10 ** LR_MIN_EXP)), LR_MAX_EXP)
    return int(round((exp - LR_MIN_EXP) / (LR_MAX_EXP - LR_MIN_EXP) * LR_TICKS))


def slider_to_lr(value: int) -> float:
    exp = LR_MIN_EXP + (LR_MAX_EXP - LR_MIN_EXP) * value / LR_TICKS
    return float(f"{10 ** exp:.3g}")


def _field_label(field: str) -> QLabel:
    """A field's name above its editor; a problem's reason wraps inside the column."""
    label = QLabel(field.split(".")[-1].replace("_", " "))
    label.setWordWrap(True)
    label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
    return label


class ElidedLabel(QLabel):
    """A one-line label cut with "…" where it ends, never mid-number ("step 600/60"):
    its text stays whole for the tooltip, the status bar and the UI map."""

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt naming)
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        rect = self.contentsRect()
        painter.drawText(rect, Qt.AlignLeft | Qt.AlignVCenter,
                         self.fontMetrics().elidedText(self.text(), Qt.ElideRight, rect.width()))


def _short(message: str, name: str) -> str:
    """The reason without the field's own name ("must be between 1 and 65536")."""
    for prefix in (name.replace(" ", "_"), name):
        if message.startswith(prefix + " "):
            return message[len(prefix) + 1:]
    return message


class TrainPanel(QWidget):
    """The settings row and the run buttons (their actions belong to the TrainingView)."""

    live_change = Signal(str, float)  # lr / l1 / l2 changed: reaches a running trainer
    back_to_design = Signal()  # "Back to the design" while a stored run is followed

    TRAIN_FIELDS = ("optimizer", "batch_size", "steps", "l1", "l2", "probe_every")

    def __init__(self, doc: DesignDocument, actions: list, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.setObjectName("train_panel")
        grid = QGridLayout(self)
        grid.setContentsMargins(4, 2, 4, 2)
        buttons = QHBoxLayout()
        for action in actions:
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
            button.setObjectName(action.objectName().replace("act_", "") + "Button")
            buttons.addWidget(button)
        self.device = QComboBox()
        self.device.setObjectName("device_combo")
        self.device.addItem("auto", "auto")
        from ...engine import describe_device, resolve_device
        for name in available_devices():
            self.device.addItem(describe_device(resolve_device(name)), name)
        self.device.setToolTip("Where to train: auto picks CUDA, then MPS, then the CPU.")
        self.device.currentIndexChanged.connect(
            lambda i: self._edit("train.device", self.device.itemData(i)))
        self.device_label = QLabel("device")
        buttons.addWidget(self.device_label)
        buttons.addWidget(self.device)
        buttons.addSpacing(12)  # the status takes the rest of the row
        self.status = ElidedLabel("Ready.")
        self.status.setObjectName("train_status")
        # its text changes ~30 times a second during a run: a size that follows the text
        # re-laid out the window and repainted every plot with it (3x the paint work)
        self.status.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.status.setMinimumWidth(60)  # cut at the panel's edge; the tooltip and the
        # status bar hold all of it (a 200 px minimum kept the window from 1280 px)
        buttons.addWidget(self.status, 1)
        grid.addLayout(buttons, 0, 0, 1, self.PER_ROW)

        self.editors: dict[str, QWidget] = {}
        self.labels: dict[str, QLabel] = {}  # each field's name above it (marks problems)
        schema = {p.name: p for p in TRAIN_PARAMS}
        self._cells = 0  # fields wrap after PER_ROW cells: label above editor
        self._grid = grid
        for name in self.TRAIN_FIELDS:
            editor = make_editor(schema[name], get_field(doc.design, (), f"train.{name}"),
                                 lambda v, n=name: self._edit(f"train.{n}", v))
            self.editors[f"train.{name}"] = editor
            self.labels[f"train.{name}"] = label = _field_label(name)
            self._place(label, editor)
        self.lr = QSlider(Qt.Horizontal)
        self.lr.setObjectName("lr_slider")
        self.lr.setRange(0, LR_TICKS)
        self.lr.setMinimumWidth(140)
        self.lr.setToolTip("Learning rate on a log scale, 1e-5 .. 10. Takes effect at once, "
                           "also while training.")
        self.lr_label = QLabel()
        self.lr.valueChanged.connect(self._lr_moved)
        self._place(self.lr_label, self.lr, span=2)
        self.data_editors: dict[str, QWidget] = {}
        self._data_cell = self._cells
        # following a run from the run store: its own settings instead of the design's
        self.follow_label = QLabel()
        self.follow_label.setObjectName("follow_settings")
        self.follow_label.setWordWrap(True)
        self.follow_label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.back_button = QPushButton("Back to the design")
        self.back_button.setObjectName("back_to_design")
        self.back_button.setToolTip("Stop following this run and edit the design again "
                                    "(the run stays in the Runs dock)")
        self.back_button.clicked.connect(self.back_to_design)
        grid.addWidget(self.follow_label, 1, 0, 1, self.PER_ROW - 1)
        grid.addWidget(self.back_button, 1, self.PER_ROW - 1)
        self.follow_label.hide()
        self.back_button.hide()
        doc.changed.connect(self.refresh)
        self.refresh()

    PER_ROW = 6

    def _place(self, label: QWidget, editor: QWidget, span: int = 1, cell: int | None = None):
        cell = self._cells if cell is None else cell
        row, col = 1 + 2 * (cell // self.PER_ROW), cell % self.PER_ROW
        self._grid.addWidget(label, row, col, 1, span)
        self._grid.addWidget(editor, row + 1, col, 1, span)
        self._cells = max(self._cells, cell + span)

    def _edit(self, field: str, value) -> None:
        if value == get_field(self.doc.design, (), field):
            return
        self.doc.edit(f"Set {field.split('.')[-1]}", lambda d: set_field(d, (), field, value),
                      merge_key=f"():{field}", live=field in LIVE_FIELDS)
        key = field.split(".")[-1]
        if key in ("l1", "l2"):
            self.live_change.emit(key, float(value))

    def _lr_moved(self, value: int) -> None:
        lr = slider_to_lr(value)
        self.lr_label.setText(f"learning rate {lr:g}")
        self._edit("train.lr", lr)
        self.live_change.emit("lr", lr)

    def refresh(self) -> None:
        design = self.doc.design
        for field, editor in self.editors.items():
            set_editor_value(editor, get_field(design, (), field))
        lr = design.train.lr
        if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
            lr = 1e-3  # NaN / inf / <= 0 from a file: the field shows the problem
        with QSignalBlocker(self.lr):
            self.lr.setValue(lr_to_slider(lr))
        self.lr_label.setText(f"learning rate {lr:g}")
        i = self.device.findData(design.train.device)
        with QSignalBlocker(self.device):
            self.device.setCurrentIndex(max(i, 0))
        self._data_fields()

    def _data_fields(self) -> None:
        """noise or augmentation (where the dataset has them), the validation split (not
        for the real image sets: their test split validates) and preprocessing."""
        from ...design.catalog import INPUT_PARAMS, input_params
        entry = DATASETS.get(self.doc.design.input.dataset)
        wanted = [f"input.{p.name}" for p in (entry.params if entry else ())
                  if p.name in ("noise", "augment")]
        wanted += [f"input.{name}" for name in input_params(entry)]
        if list(self.data_editors) != wanted:
            old = [*self.data_editors.values(), *(self.labels.pop(f) for f in self.data_editors)]
            for w in old:  # each editor with its label
                self._grid.removeWidget(w)
                w.hide()
                w.deleteLater()  # never delete an editor under its own signal
            self.data_editors = {}
            schema = {f"input.{name}": p for name, p in INPUT_PARAMS.items()}
            for name in ("noise", "augment"):
                if f"input.{name}" in wanted:
                    schema[f"input.{name}"] = entry.param(name)
            for k, field in enumerate(wanted):
                value = get_field(self.doc.design, (), field)
                editor = make_editor(schema[field], value,
                                     lambda v, f=field: self._edit(f, v))
                self.labels[field] = label = _field_label(field)
                self._place(label, editor, cell=self._data_cell + k)
                self.data_editors[field] = editor
        for field, editor in self.data_editors.items():
            set_editor_value(editor, get_field(self.doc.design, (), field))
        self._show_problems()

    def _show_problems(self) -> None:
        """A field the validator objects to is marked where it is, as in the inspector:
        a red frame, its name in red with the reason beside it and in its tooltip."""
        problems = {p.field: p.message for p in self.doc.analysis.problems if p.path == ()}
        for field, editor in {**self.editors, **self.data_editors}.items():
            message = problems.get(field)
            label = self.labels.get(field)
            name = field.split(".")[-1].replace("_", " ")
            if editor.property("plain_tip") is None:
                editor.setProperty("plain_tip", editor.toolTip())
            editor.setStyleSheet("border: 1px solid #d03030" if message else "")
            editor.setToolTip(f"<b>{html.escape(message)}</b><br>{editor.property('plain_tip')}"
                              if message else editor.property("plain_tip"))
            if label is not None:
                label.setText(f"<span style='color:#c02020'>{html.escape(name)}: "
                              f"{html.escape(_short(message, name))}</span>" if message
                              else name)
                label.setToolTip(message or "")

    def show_following(self, name: str | None, settings: str = "") -> None:
        """While a run from the run store is shown (``name``), the panel shows what that
        run was trained with and a way back; ``None``: the design's fields again."""
        following = name is not None
        fields = [*self.editors.values(), *self.labels.values(), *self.data_editors.values(),
                  self.lr, self.lr_label, self.device, self.device_label]
        for widget in fields:
            widget.setVisible(not following)
        self.follow_label.setVisible(following)
        self.back_button.setVisible(following)
        if following:
            self.follow_label.setText(f"<b>Following {html.escape(name)}</b>: "
                                      f"{settings or 'settings not recorded'}")

    def set_running(self, running: bool) -> None:
        """While a run is on, only the live settings (lr, L1, L2) stay editable."""
        for field, editor in {**self.editors, **self.data_editors}.items():
            editor.setEnabled(not running or field in ("train.l1", "train.l2"))
        self.device.setEnabled(not running)
