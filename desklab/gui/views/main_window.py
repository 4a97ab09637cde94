"""The main window: dockable panels, menus, files, undo, and orderly shutdown."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMessageBox, QWidget

from ... import __version__
from ...design import LayerSpec, NetworkDesign
from ...design.catalog import class_names
from ...design.edit import duplicate_layers, insert_layer, move_layers, remove_layers
from ...lessons import PRESETS, get_preset
from ...util.data_root import set_data_root
from ..controllers.autosave import Autosaver
from .compare import CompareWindow
from .dialogs import LessonDialog, shortcuts_dialog
from ..controllers.document import DesignDocument
from .network_panel import NetworkPanel
from ..controllers.gc_guard import install_gc_guard
from .inspector import Inspector
from .palette import Palette
from .preview import PreviewPanel
from .run_panel import RunPanel
from ..controllers.runs import RunList, RunRecord
from ..controllers.threads import wait_for_detached
from .window_files import FileActions
from .window_menus import MenuActions
from .window_checks import CheckActions
from .window_layout import LayoutActions
from .window_runs import RunActions



class MainWindow(FileActions, MenuActions, RunActions, CheckActions, LayoutActions,
                 QMainWindow):
    """DeskLab's window. ``settings`` defaults to the user's QSettings."""

    def __init__(self, design: NetworkDesign | None = None, settings: QSettings | None = None,
                 offer_restore: bool = True):
        super().__init__()
        install_gc_guard()  # before any thread starts: no collection off the GUI thread
        self.setObjectName("desklab_main")
        self.settings = settings or QSettings("DeskLab", "DeskLab")
        set_data_root(self.settings.value("data_root") or None)  # before the preview reads
        self.doc = DesignDocument(design or get_preset("deep-relu"), self)
        self.palette_list = Palette()
        self.network = NetworkPanel(self.doc)
        self.inspector = Inspector(self.doc)
        self.preview = PreviewPanel(self.doc)  # starts the preview thread
        try:
            self._finish_init(offer_restore)
        except BaseException:
            # never drop a running QThread (exit 134): stop what was started, then raise
            for part in (getattr(self, "training", None), self.preview):
                if part is not None:
                    part.shutdown()
            wait_for_detached()
            raise

    def _finish_init(self, offer_restore: bool) -> None:
        self.runs = RunList(self)
        self.run_panel = RunPanel(self.runs)
        self.compare_windows: list = []
        self.docks: dict[str, QDockWidget] = {}
        self._make_docks()
        self._make_actions()
        self._make_menus()
        self.palette_list.add_requested.connect(self.append_layer)
        self.network.tree.add_failed.connect(lambda msg: self.statusBar().showMessage(msg, 5000))
        self.doc.file_changed.connect(self._update_title)
        self.doc.changed.connect(self._update_title)
        self.training.badges_changed.connect(self.network.tree.set_badges)
        self.training.select_layer.connect(self.select_layer_named)
        self.training.status_message.connect(lambda m: self.statusBar().showMessage(m))
        self.preview.pointed.connect(self.statusBar().showMessage)
        self.training.controller.run_ended.connect(self._record_run)
        self.run_panel.open_requested.connect(self.reopen_run)
        self.run_panel.follow_requested.connect(self.follow_run)
        self.run_panel.landscape_requested.connect(self.show_landscape)
        self.training.controller.run_started.connect(self.stop_following)
        self.training.findings_shown.connect(self.lesson_panel.show_findings)
        self.lesson_panel.open_lessons.connect(self.new_from_lesson)
        self.lesson_panel.show_lesson(PRESETS.get(self.doc.design.name))
        self.welcome = None  # the first launch's card (offer_welcome)
        self.training.act_reset.triggered.connect(self.stop_following)  # the design again
        self.training.panel.back_to_design.connect(self.stop_following)
        self.training.controller.run_ended.connect(self._sanity_ended)
        self.training.controller.evaluated.connect(self._sanity_evaluated)
        self.training.act_train.changed.connect(self._sanity_follows_train)
        self.run_panel.compare_requested.connect(self.compare_runs)
        self.training.controller.prepare_trainer()  # warm before the first Train
        self._update_title()
        self.statusBar().showMessage("Drag layers from the palette; select a card to edit it.")
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = self.settings.value("window/state")
        if state is not None:
            self.restoreState(state)
        self.autosaver = Autosaver(self.doc, Path(self.settings.fileName()).parent /
                                   "autosave.json", self)
        self.autosaver.report = self.show_uncaught
        self._uncaught_box = None
        from ..ui_map import install_from_env
        self.ui_map = install_from_env(self)
        if offer_restore:
            self.offer_restore()

    # ------------------------------------------------------------ layout

    def _central(self) -> QWidget:
        """The main area; the training view (live plots) lives here."""
        from .smoothing_box import remember
        from .training_view import TrainingView
        self.training = TrainingView(self.doc, self)
        remember(self.training.smoothing, self.settings, "view/smoothing")  # as last set
        return self.training

    # ------------------------------------------------------------ editing

    def append_layer(self, kind: str) -> None:
        sel = self.doc.selection
        parent, index = (), len(self.doc.design.layers)
        if sel and sel[-1] not in (("input",), ("output",)):
            parent, index = sel[-1][:-1], sel[-1][-1] + 1
        self._try("Add layer", lambda d: [insert_layer(d, parent, index, LayerSpec.make(kind))])

    def _layer_selection(self) -> list[tuple]:
        return [p for p in self.doc.selection if p not in (("input",), ("output",))]

    def duplicate_selected(self) -> None:
        paths = self._layer_selection()
        if paths:
            self._try("Duplicate", lambda d: duplicate_layers(d, paths))

    def delete_selected(self) -> None:
        paths = self._layer_selection()
        if paths:
            self.doc.edit("Delete", lambda d: remove_layers(d, paths), select=[])

    def move_selected(self, delta: int) -> None:
        paths = self._layer_selection()
        if len(paths) != 1:
            return
        path = paths[0]
        index = path[-1] + (delta if delta < 0 else delta + 1)
        if index < 0:
            return
        self._try("Move", lambda d: move_layers(d, [path], path[:-1], index))

    def _try(self, text, mutate) -> None:
        try:
            self.doc.edit(text, mutate)
        except ValueError as exc:
            self.statusBar().showMessage(str(exc), 5000)

    def select_layer_named(self, name: str) -> None:
        """Select the card of the layer called ``name`` (a finding was clicked)."""
        for info in self.doc.analysis.layers:
            if info.name == name and info.path != ("output",):
                self.doc.select([info.path])
                return
        if name == "head":
            self.doc.select([("output",)])

    # ------------------------------------------------------------ files

    def _update_title(self) -> None:
        self.setWindowTitle(self.doc.title)
        self.setWindowModified(self.doc.modified)

    def show_uncaught(self, error: BaseException, autosaved: bool) -> None:
        """A bug in DeskLab: say so in a window (the traceback went to stderr), one at a
        time and without blocking the event loop the exception came from."""
        if self._uncaught_box is not None and self._uncaught_box.isVisible():
            return
        first = (str(error).strip().splitlines() or [""])[0][:300]
        kept = ("Your unsaved design was autosaved." if autosaved else
                "Nothing unsaved was lost.")
        box = QMessageBox(QMessageBox.Warning, "Something went wrong",
                          f"DeskLab hit an internal error: {type(error).__name__}: {first}"
                          f"\n\n{kept} You can go on working; please report this with "
                          f"the steps that led to it.", QMessageBox.Ok, self)
        box.setObjectName("uncaughtError")
        box.open()  # window-modal and non-blocking: no nested event loop inside a hook
        self._uncaught_box = box

    def show_error(self, title: str, message: str) -> None:
        QMessageBox.critical(self, title, message)

    def _replace(self, design: NetworkDesign, path: Path | None) -> None:
        self.stop_following()
        self.training.stop_and_reset()
        self.doc.replace(design, path)
        self.lesson_panel.show_lesson(PRESETS.get(design.name))  # a lesson, or none

    def new_design(self) -> None:
        if self.confirm_discard():
            self._replace(NetworkDesign(name="untitled", layers=[
                LayerSpec.make("dense", units=32, init="he_normal")]), None)

    def new_from_lesson(self) -> None:
        dialog = LessonDialog(self)
        dialog.run_both.connect(self.run_pair)
        if dialog.exec() and dialog.slug and self.confirm_discard():
            self.open_preset(dialog.slug)

    # ------------------------------------------------------------ runs

    def _record_run(self, state: str) -> None:
        c = self.training.controller
        if c.design is None:
            return
        ended = c.ended_info
        weights = ended.weights_path if ended is not None else None
        speed = ended.step / ended.train_seconds if ended and ended.train_seconds > 0 else 0.0
        self.runs.add(RunRecord(c.design.name, c.design, c.history, state, c.device_name,
                                c.step, extra={"weights_path": weights,
                                               "path": str(c.run_path)},
                                steps_per_second=speed))

    def reopen_run(self, record: RunRecord) -> None:
        """Show a past run's plots again and put its design in the editor."""
        if not self.confirm_discard():
            return
        self._replace(record.design.copy(), None)
        self.training.show_history(record.history, record.state,
                                   class_names(record.design.input.dataset,
                                               record.design.input.params), record.device,
                                   record.steps_per_second)
        self.training.feed.run_file = record.extra.get("path")  # its report is made from it

    def compare_runs(self, records: list) -> "CompareWindow":
        window = CompareWindow(self.runs, self)
        window.show_records(records)
        window.show()
        self.compare_windows.append(window)
        return window

    def run_pair(self, slug: str) -> "CompareWindow":
        """Train a lesson and its pair side by side."""
        pair = PRESETS[slug].pair
        window = CompareWindow(self.runs, self)
        window.run_pair([get_preset(slug), get_preset(pair)], [slug, pair])
        window.show()
        self.compare_windows.append(window)
        return window

    # ------------------------------------------------------------ help, layout, close

    def show_shortcuts(self) -> None:
        shortcuts_dialog(self, [self.act_undo, self.act_redo, *self.actions(),
                                *self.training.actions()]).exec()

    def show_about(self) -> None:
        QMessageBox.about(self, "About DeskLab",
                          f"<b>DeskLab {__version__}</b><p>Design a network layer by layer "
                          f"and watch every layer train.</p><p>{len(PRESETS)} lessons.</p>")

    def closeEvent(self, event) -> None:
        if not self.confirm_discard():
            event.ignore()
            return
        self.shutdown()
        self.autosaver.discard()  # saved or knowingly discarded
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        wait_for_detached(self, self.settings)  # a step still running: never abort
        event.accept()

    def shutdown(self) -> None:
        """Stop and join every thread the window owns."""
        for window in [*self.compare_windows, self.landscape_window, self.search_window]:
            if window is not None:
                window.close()
        self.autosaver.stop()
        self.stop_following()
        if self.remote_store is not None:
            self.remote_store.shutdown()
        self.training.shutdown()
        self.preview.shutdown()
