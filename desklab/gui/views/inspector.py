"""The inspector: a form generated from the catalog's schemas for the selection.

Each field's problem (from the validator) is shown right under it. Editors
accept out-of-range values on purpose: the value is kept, the field turns red
and says why, so nothing the user typed is silently clamped.
"""

from __future__ import annotations

import html

import pyqtgraph as pg
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QScrollArea, QVBoxLayout, QWidget

from ...design import ACTIVATIONS, COMMON, DATASETS, INITS, LAYER_KINDS
from ...design.catalog import INPUT_PARAMS, OUTPUT_PARAMS, input_params
from ...design.shapes import weight_fans
from ...design.edit import get_field, set_field
from ...design.schema import Param
from ...engine.curves import activation_curve
from ..controllers.document import DesignDocument
from .fields import make_editor, route_undo_keys, set_editor_value, show_mixed
from ..plots import legend_title


class Inspector(QScrollArea):
    """Settings of the selected layer, the input or the output."""

    def __init__(self, doc: DesignDocument, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.setObjectName("inspector")
        self.setWidgetResizable(True)
        self._signature = None
        self._design_name: QLineEdit | None = None
        self.editors: dict[str, QWidget] = {}
        self.problem_labels: dict[str, QLabel] = {}
        self.curve_plot: pg.PlotWidget | None = None
        self.init_info: QLabel | None = None
        doc.selection_changed.connect(self.refresh)
        doc.changed.connect(self.refresh)
        self.refresh()

    @property
    def path(self) -> tuple | None:
        sel = self.doc.selection
        return sel[-1] if len(sel) == 1 else None

    @property
    def paths(self) -> list[tuple]:
        """The selected layers when several are selected (edited together), else []."""
        sel = [p for p in self.doc.selection if p not in (("input",), ("output",))]
        return sel if len(sel) > 1 and len(sel) == len(self.doc.selection) else []

    def _fields(self) -> list[tuple[str, Param]]:
        """(field name as the validator uses it, schema) for the current selection. With
        several layers selected: the fields every one of them has."""
        if self.paths:
            lists = [self._fields_for(p) for p in self.paths]
            shared = set.intersection(*({(n, p.kind) for n, p in f} for f in lists))
            return [(n, p) for n, p in lists[0] if (n, p.kind) in shared]
        return self._fields_for(self.path)

    def _fields_for(self, path) -> list[tuple[str, Param]]:
        design = self.doc.design
        if path is None:
            return []
        if path == ("input",):
            entry = DATASETS.get(design.input.dataset)
            fields = [("input.dataset", Param("dataset", "choice", "moons", "Where the "
                                              "examples come from.", choices=DATASETS.names()))]
            fields += [(f"input.{p.name}", p) for p in (entry.params if entry else ())]
            fields += [(f"input.{name}", INPUT_PARAMS[name]) for name in input_params(entry)]
            return fields
        if path == ("output",):
            entry = INITS.get(design.output.init)
            fields = [("task", OUTPUT_PARAMS["task"]), ("init", COMMON["init"])]
            return fields + [(f"init.{p.name}", p) for p in (entry.params if entry else ())]
        layer = design.layer_at(path)
        entry = LAYER_KINDS.get(layer.kind)
        if entry is None:
            return []
        fields = [(p.name, p) for p in entry.params]
        for key in entry.meta["common"]:
            fields.append((key, COMMON[key]))
            sub = {"activation": ACTIVATIONS, "init": INITS}.get(key)
            chosen = sub.get(getattr(layer, key)) if sub else None
            if chosen:
                fields += [(f"{key}.{p.name}", p) for p in chosen.params]
        return fields

    def refresh(self) -> None:
        path, paths = self.path, self.paths
        fields = self._fields()
        signature = (path, tuple(paths), tuple(name for name, _ in fields))
        if signature != self._signature:
            self._build(path, fields)
            self._signature = signature
        else:
            for name, _ in fields:
                set_editor_value(self.editors[name], self._value(name))
                if self.paths and self._mixed(name):
                    show_mixed(self.editors[name])
            if self._design_name is not None and not self._design_name.hasFocus():
                set_editor_value(self._design_name, self.doc.design.name)  # New / Open
        self._show_problems(path)
        self._update_extras(path)

    def _value(self, field_name: str):
        """The field's value: the single layer's, or the first of several (a field whose
        values differ is marked "mixed" next to its label)."""
        if self.paths:
            return get_field(self.doc.design, self.paths[0], field_name)
        path = self.path
        return get_field(self.doc.design, () if path == ("input",) else path, field_name)

    def _mixed(self, field_name: str) -> bool:
        values = [get_field(self.doc.design, p, field_name) for p in self.paths]
        return any(v != values[0] for v in values[1:])

    def _build(self, path, fields) -> None:
        body = QWidget()
        outer = QVBoxLayout(body)
        self.editors, self.problem_labels = {}, {}
        self.curve_plot, self.init_info = None, None
        self._design_name = None
        design = self.doc.design
        title = QLabel()
        title.setWordWrap(True)
        outer.addWidget(title)
        form = QFormLayout()
        outer.addLayout(form)
        if self.paths:
            title.setText(f"<b>{len(self.paths)} layers selected</b><br><small>A change "
                          "here applies to every selected layer, as one undo step. Shown: "
                          "the settings they all have.</small>")
        elif path is None:
            n = len(self.doc.selection)
            title.setText(f"<b>{n} items selected</b><br><small>Select only layers to edit "
                          "them together.</small>" if n > 1 else
                          "<b>Nothing selected</b><br>Click a card in the network to edit it, "
                          "or drag a layer from the palette. Shift- or Ctrl-click to edit "
                          "several at once.")
            name = QLineEdit(design.name)
            self._design_name = name
            name.setObjectName("field_design_name")
            route_undo_keys(name)
            name.editingFinished.connect(lambda: self._edit((), "name", name.text()))
            form.addRow("Design name", name)
        elif path in (("input",), ("output",)):
            title.setText(f"<b>{'Input data' if path == ('input',) else 'Output head'}</b>")
        else:
            layer = design.layer_at(path)
            info = self.doc.analysis.info_at(path)
            entry = LAYER_KINDS.get(layer.kind)
            title.setText(f"<b>{info.name if info else '?'}</b> · "
                          f"{entry.label if entry else layer.kind}<br>"
                          f"<small>{entry.help if entry else ''}</small>")
            name = QLineEdit(layer.name)
            name.setPlaceholderText(info.name if info else "")
            name.setObjectName("field_name")
            route_undo_keys(name)
            name.setToolTip("Optional label (letters, digits and _); empty = automatic.")
            name.editingFinished.connect(lambda: self._edit(path, "name", name.text().strip()))
            form.addRow("Name", name)
            self.editors["name"] = name
        edit_paths = self.paths or [() if path == ("input",) else path]
        for field_name, param in fields:
            editor = make_editor(param, self._value(field_name),
                                 lambda v, f=field_name: self._edit_all(edit_paths, f, v))
            problem = QLabel()
            problem.setStyleSheet("color: #c02020")
            problem.setWordWrap(True)
            problem.hide()
            cell = QWidget()
            cell_layout = QVBoxLayout(cell)
            cell_layout.setContentsMargins(0, 0, 0, 0)
            cell_layout.setSpacing(1)
            cell_layout.addWidget(editor)
            cell_layout.addWidget(problem)
            label = field_name.split(".")[-1].replace("_", " ")
            if self.paths and self._mixed(field_name):
                label += " (mixed)"
                show_mixed(editor)  # no one layer's number as if it were everyone's
                editor.setToolTip(editor.toolTip() + "\nThe selected layers differ here; "
                                  "a value set now applies to all of them.")
            form.addRow(label, cell)
            self.editors[field_name], self.problem_labels[field_name] = editor, problem
        if path not in (None, ("input",), ("output",)) and not self.paths:
            layer = design.layer_at(path)
            common = LAYER_KINDS[layer.kind].meta["common"] if layer.kind in LAYER_KINDS else ()
            if "activation" in common:
                self.curve_plot = pg.PlotWidget()
                self.curve_plot.setObjectName("activation_curve")
                self.curve_plot.setFixedHeight(170)
                self.curve_plot.setBackground("w")
                self.curve_plot.getPlotItem().setMenuEnabled(False)
                self.curve_plot.showGrid(x=True, y=True, alpha=0.3)
                self._f = self.curve_plot.plot(pen=pg.mkPen("#1e64c8", width=1), name="f(x)")
                self._df = self.curve_plot.plot(pen=pg.mkPen("#e07b00", width=1), name="f'(x)")
                outer.addWidget(self.curve_plot)
            if "init" in common:
                self.init_info = QLabel()
                self.init_info.setObjectName("init_info")
                self.init_info.setWordWrap(True)
                outer.addWidget(self.init_info)
        outer.addStretch(1)
        # The edit that triggered this rebuild may still be running inside one of the
        # old editors: delete the old form later, never under its own signal.
        old = self.takeWidget()
        if old is not None:
            old.hide()
            old.deleteLater()
        self.setWidget(body)

    def _edit(self, path, field_name, value) -> None:
        self._edit_all([path], field_name, value)

    def _edit_all(self, paths: list[tuple], field_name: str, value) -> None:
        """Set one field of every layer in ``paths``: one undo step."""
        if all(value == get_field(self.doc.design, p, field_name) for p in paths):
            return
        label = field_name.split(".")[-1].replace("_", " ")
        if len(paths) > 1:
            label += f" of {len(paths)} layers"

        def mutate(design):
            for p in paths:
                set_field(design, p, field_name, value)
        self.doc.edit(f"Set {label}", mutate, merge_key=f"{paths}:{field_name}")

    def _show_problems(self, path) -> None:
        if self.paths:  # several layers: each field says which of them has a problem
            problems: dict[str, str] = {}
            for p in self.doc.analysis.problems:
                if p.path in self.paths:
                    info = self.doc.analysis.info_at(p.path)
                    line = f"{info.name if info else p.path}: {p.message}"
                    problems[p.field] = (problems[p.field] + "\n" + line
                                         if p.field in problems else line)
        else:
            key_path = () if path == ("input",) else path
            problems = {p.field: p.message for p in self.doc.analysis.problems
                        if p.path == key_path}
        for name, label in self.problem_labels.items():
            message = problems.get(name)
            label.setText(message or "")
            label.setVisible(bool(message))
            self.editors[name].setStyleSheet("border: 1px solid #d03030" if message else "")

    def _update_extras(self, path) -> None:
        if path in (None, ("input",), ("output",)):
            return
        layer = self.doc.design.layer_at(path)
        if self.curve_plot is not None and layer.activation in ACTIVATIONS and \
                not ACTIVATIONS[layer.activation].problems(layer.activation_params):
            x, f, df = activation_curve(layer.activation, layer.activation_params)
            self._f.setData(x, f)
            self._df.setData(x, df)
            self.curve_plot.setTitle(legend_title(
                html.escape(f"{ACTIVATIONS[layer.activation].label}: max f'(x) = {df.max():.3g}"),
                [("f(x)", "#1e64c8", False), ("f'(x)", "#e07b00", False)]), size="9pt")
        if self.init_info is not None:
            self.init_info.setText(self._init_text(path, layer))

    def _init_text(self, path, layer) -> str:
        entry = INITS.get(layer.init)
        if entry is None or entry.problems(layer.init_params):
            return ""
        info = self.doc.analysis.info_at(path)
        fans = weight_fans(layer, info) if info is not None else None
        text = f"<b>{entry.label}</b>: {entry.meta['formula']}<br><small>{entry.help}</small>"
        if fans:
            std = entry.meta["std"](fans[0], fans[1], entry.resolve(layer.init_params))
            text += (f"<br>For this layer fan_in = {fans[0]:,}, fan_out = {fans[1]:,}: "
                     f"<b>weight std = {std:.4g}</b>")
        return text
