"""The main window's actions, menus and toolbar (a mixin of `MainWindow`).

Every action has an SVG icon from ``resources/icons`` and a tooltip; its shortcut is
listed by F1, which reads the same actions.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup, QKeySequence

from ...design.edit import can_move
from ...util.cpu_load import cpu_count

from ..controllers.exports import Exporter
from ..icons import icon


class MenuActions:
    """Builds ``act_*``, the menu bar and the toolbar of the window it is mixed into."""

    def _action(self, name: str, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        """An action with its SVG icon (``resources/icons/<name>.svg``) and object name."""
        action = QAction(icon(name), text, self)
        action.setObjectName(f"act_{name}")
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(tip or text.replace("&", ""))
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _make_actions(self) -> None:
        a = self._action
        self.act_new = a("new", "&New", self.new_design, QKeySequence.New, "A new, empty design")
        self.act_lesson = a("lesson", "New from &lesson…", self.new_from_lesson, "Ctrl+Shift+N",
                            "Open a preset experiment")
        self.act_open = a("open", "&Open…", self.open_dialog, QKeySequence.Open,
                          "Open a design file")
        self.act_open_run = a("open_run", "Open &run…", self.open_run_dialog, "Ctrl+Shift+O",
                              "Show a recorded run, live while it trains (desklab.watch, "
                              "desklab train, the app)")
        self.act_open_remote = a("open_remote", "Open re&mote run…", self.open_remote_dialog,
                                 "Ctrl+Alt+O", "Follow runs that desklab serve serves from "
                                 "another machine (a GPU server, a cluster node)")
        self.act_data = a("data", "Load &data…", self.load_data_dialog, "Ctrl+L",
                          "Train on your own data: CSV, NPZ (X, y) or MNIST IDX files")
        self.act_data_folder = a("data_folder", "Data &folder…", self.choose_data_folder, None,
                                 "Where MNIST, CIFAR-10… are kept and downloaded")
        self.act_save = a("save", "&Save", self.save, QKeySequence.Save, "Save the design")
        self.act_save_as = a("save_as", "Save &As…", self.save_as, QKeySequence.SaveAs,
                             "Save the design under a new name")
        # Ctrl+Q where the platform names no Quit key (Windows, offscreen)
        self.act_quit = a("quit", "&Quit", self.close, QKeySequence.Quit if
                          QKeySequence.keyBindings(QKeySequence.Quit) else "Ctrl+Q")
        self.act_undo = self.doc.undo_stack.createUndoAction(self, "&Undo")
        self.act_undo.setIcon(icon("undo"))
        self.act_undo.setShortcut(QKeySequence.Undo)
        self.act_redo = self.doc.undo_stack.createRedoAction(self, "&Redo")
        self.act_redo.setIcon(icon("redo"))
        # both, whatever the platform's own: its standard Redo is Ctrl+Y on some
        # (offscreen), where "Redo, Ctrl+Y" named Ctrl+Y twice and left out Ctrl+Shift+Z
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.act_duplicate = a("duplicate", "&Duplicate", self.duplicate_selected, "Ctrl+D",
                               "Duplicate the selected layers")
        self.act_delete = a("delete", "De&lete", self.delete_selected, QKeySequence.Delete,
                            "Delete the selected layers")
        self.act_up = a("move_up", "Move &up", lambda: self.move_selected(-1), "Alt+Up",
                        "Move the selected layer up")
        self.act_down = a("move_down", "Move do&wn", lambda: self.move_selected(1), "Alt+Down",
                          "Move the selected layer down")
        self.doc.selection_changed.connect(self._update_edit_actions)
        self._update_edit_actions()
        self.act_landscape = a("landscape", "Loss &landscape…", self.show_landscape,
                               "Ctrl+Shift+L", "The loss surface around the current weights "
                               "(filter-normalised directions, Li et al. 2018)")
        self.act_sanity = a("sanity", "Sanity &check: overfit 20 examples", self.sanity_check,
                            "Ctrl+Shift+K", "cs231n: a network that cannot fit 20 examples "
                            "(regularisers off) will not learn the full set")
        self.act_search = a("search", "&Search learning rate and L2…", self.show_search,
                            "Ctrl+Shift+H", "Random search, log-uniform, coarse to fine "
                            "(Optuna); every trial a run")
        self.act_shortcuts = a("shortcuts", "&Keyboard shortcuts", self.show_shortcuts, "F1")
        self.act_about = a("about", "&About DeskLab", self.show_about)
        self.act_reset_layout = a("layout", "&Reset layout", self.reset_layout)

    def _update_edit_actions(self) -> None:
        """Duplicate, Delete and the moves act on the selected layers: greyed out with
        none selected, a move also at its end of the list (after every selection change
        and every edit, which re-emits the selection)."""
        paths = self._layer_selection()
        self.act_duplicate.setEnabled(bool(paths))
        self.act_delete.setEnabled(bool(paths))
        one = paths[0] if len(paths) == 1 else None
        self.act_up.setEnabled(one is not None and can_move(self.doc.design, one, -1))
        self.act_down.setEnabled(one is not None and can_move(self.doc.design, one, 1))

    def _make_threads_menu(self) -> None:
        """Train > CPU threads: Auto (measured per design, a core left for this window)
        or a fixed count, remembered across sessions."""
        menu = self.train_menu.addMenu(icon("threads"), "CPU &threads")
        menu.setObjectName("threadsMenu")
        menu.setToolTipsVisible(True)
        group = QActionGroup(self)
        chosen = int(self.settings.value("training/threads", 0) or 0)
        for count in range(0, cpu_count() + 1):
            text = "&Auto (measured per design)" if count == 0 else f"&{count}"
            action = menu.addAction(icon("threads"), text)
            action.setCheckable(True)
            action.setObjectName(f"act_threads_{count}")
            action.setToolTip("A short measurement at the start of a run picks the fastest "
                              "count that leaves a core for this window" if count == 0 else
                              f"Train with {count} intra-op thread{'s' if count > 1 else ''}")
            action.setData(count)
            group.addAction(action)
            action.setChecked(count == chosen)
        group.triggered.connect(self._threads_chosen)
        self.training.controller.threads_setting = chosen

    def _threads_chosen(self, action) -> None:
        count = int(action.data())
        self.settings.setValue("training/threads", count)
        self.training.controller.threads_setting = count
        self.statusBar().showMessage(
            "CPU threads: chosen per run" if count == 0 else f"CPU threads: {count}", 4000)

    def _make_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.act_new, self.act_lesson, self.act_open])
        self.recent_menu = file_menu.addMenu(icon("open"), "Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file_menu.addActions([self.act_open_run, self.act_open_remote])
        file_menu.addActions([self.act_data, self.act_data_folder, self.act_save,
                              self.act_save_as])
        self.export_menu = file_menu.addMenu(icon("export"), "&Export")
        self.exporter = Exporter(self)
        self.exporter.add_menu(self.export_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        edit = bar.addMenu("&Edit")
        edit.addActions([self.act_undo, self.act_redo])
        edit.addSeparator()
        edit.addActions([self.act_duplicate, self.act_delete, self.act_up, self.act_down])
        self.view_menu = bar.addMenu("&View")
        for dock in self.docks.values():
            self.view_menu.addAction(dock.toggleViewAction())
        self.view_menu.addSeparator()
        self.view_menu.addAction(self.act_reset_layout)
        self.train_menu = bar.addMenu("&Train")
        self.train_menu.addActions(self.training.actions_for_menu())
        self.train_menu.addSeparator()
        self.train_menu.addActions([self.act_sanity, self.act_landscape, self.act_search])
        self.train_menu.addSeparator()
        self._make_threads_menu()
        help_menu = bar.addMenu("&Help")
        help_menu.addActions([self.act_shortcuts, self.act_about])
        tools = self.addToolBar("Main")
        tools.setObjectName("toolbar_main")
        tools.addActions([self.act_new, self.act_open, self.act_save])
        tools.addSeparator()
        tools.addActions([self.act_undo, self.act_redo])
        tools.addSeparator()
        tools.addActions(self.training.actions_for_menu())
        self.toolbar = tools
        self._default_state = self.saveState()
