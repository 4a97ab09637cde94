"""A user's own model, read-only: its module tree as the watch hooks saw it.

Shown in the Network dock while following a run recorded with ``desklab.watch``: each
module's path, type, output shape (from the first forward), parameters and calls per
forward; the measured modules in bold.
"""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from ...runs.checks import not_run


NOT_RUN = ("not measured: the step that desklab.watch learns the model from (its first) "
           "did not run it (a branch taken on later steps only)")


class ModuleTree(QWidget):
    """The module tree of a watched model (rows from the run's ``modules`` meta)."""

    def __init__(self, meta: dict, measured: list[str], parent=None):
        super().__init__(parent)
        self.setObjectName("moduleTree")
        rows = meta.get("modules") or []
        total = meta.get("total_params", 0)
        title = QLabel(f"<b>{meta.get('model', 'model')}</b> (your script, read-only) · "
                       f"{total:,} parameters · {len(measured)} measured")
        title.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["module", "type", "output", "params", "calls"])
        self.tree.setRootIsDecorated(True)
        bold = QFont(self.tree.font())
        bold.setBold(True)
        stack: list[QTreeWidgetItem] = []
        for row in rows:
            shape = "x".join(map(str, row["out_shape"])) if row.get("out_shape") else ""
            # a module with weights that the first forward never ran is not measured
            unrun = not_run(row)
            item = QTreeWidgetItem([row["name"].rsplit(".", 1)[-1] if row["depth"] else
                                    row["name"], row["type"], shape,
                                    f"{row['params']:,}" if row["params"] else "",
                                    "not run" if unrun else
                                    str(row["calls"]) if row.get("calls", 0) > 1 else ""])
            how = row.get("measured")  # what of its output and which weight was taken
            item.setToolTip(0, row["name"] + (
                "\nmeasured: " + ", ".join(f"{k} {v}" for k, v in how.items() if v)
                if isinstance(how, dict) else "\n" + NOT_RUN if unrun else ""))
            if unrun:
                item.setToolTip(4, NOT_RUN)
            if row["name"] in measured:
                for column in range(5):
                    item.setFont(column, bold)
            depth = row["depth"]
            del stack[depth:]
            if stack:
                stack[-1].addChild(item)
            else:
                self.tree.addTopLevelItem(item)
            stack.append(item)
        self.tree.expandToDepth(1)
        for column in range(5):
            self.tree.resizeColumnToContents(column)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(title)
        layout.addWidget(self.tree)
