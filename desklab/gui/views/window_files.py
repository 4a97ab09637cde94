"""The main window's file handling: open, save (asking before replacing a read-only
file), recent files, the user's data file and the autosave offered at start. A mixin
of `MainWindow`, which provides ``doc``, ``settings``, ``autosaver``, ``training``,
``show_error`` and ``_replace``."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from ...design import DesignFileError, load_design, save_design
from ...design.datafile import DataFileError, csv_columns, inspect_data
from ...lessons import get_preset
from ...util.data_root import data_root, set_data_root
from ...util.files import replace_read_only
from ..controllers.autosave import describe_age

MAX_RECENT = 8
FILE_FILTER = "DeskLab designs (*.json);;All files (*)"


class FileActions:
    """Open / save / recent / data / restore, for `MainWindow`."""

    def ask_save_changes(self) -> QMessageBox.StandardButton:
        """Save / Discard / Cancel for unsaved changes (tests replace this)."""
        return QMessageBox.question(
            self, "Unsaved changes",
            f"Save the changes to {self.doc.path.name if self.doc.path else self.doc.design.name}?",
            QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)

    def confirm_discard(self) -> bool:
        """True when it is fine to replace the current design."""
        if not self.doc.modified:
            return True
        answer = self.ask_save_changes()
        if answer == QMessageBox.Save:
            return self.save()
        return answer == QMessageBox.Discard

    def ask_restore(self, when: str) -> bool:
        """Offer the autosaved design (tests replace this)."""
        return QMessageBox.question(
            self, "Restore unsaved design?",
            f"DeskLab closed with unsaved changes (autosaved {when}). Restore them?",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes) == QMessageBox.Yes

    def offer_restore(self) -> bool:
        """If an earlier session left an autosave, offer it; True when restored."""
        pending = self.autosaver.pending()
        if pending is None:
            if self.autosaver.notice:
                self.show_error("Autosave set aside", self.autosaver.notice)
            return False
        design, mtime, origin = pending
        if not self.ask_restore(describe_age(mtime)):
            self.autosaver.discard()
            return False
        try:
            self._replace(design, origin)  # still that file's, with unsaved changes
        except Exception as exc:  # noqa: BLE001 - a restore must never become a crash loop
            self.autosaver.set_aside(f"{type(exc).__name__}: {exc}")
            self.show_error("Autosave set aside", self.autosaver.notice)
            return False
        self.autosaver.restored()
        # restored work is unsaved work: one undoable step away from an empty design
        self.doc.undo_stack.resetClean()
        self.doc.file_changed.emit()
        where = f" of {origin.name}" if origin is not None else ""
        self.statusBar().showMessage(f"Restored the autosaved design{where}; save it to keep "
                                     "it.")
        return True


    def open_preset(self, slug: str) -> None:
        self._replace(get_preset(slug), None)
        self.docks["lesson"].raise_()  # what to look for, beside the plots

    def open_dialog(self) -> None:
        if not self.confirm_discard():
            return
        start = str(self.doc.path.parent) if self.doc.path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open design", start, FILE_FILTER)
        if path:
            self.open_path(Path(path), confirm=False)

    def open_path(self, path: Path, confirm: bool = True) -> bool:
        """Open a design file; a bad file shows the reason and changes nothing."""
        if confirm and not self.confirm_discard():
            return False
        try:
            design = load_design(path)
        except DesignFileError as exc:
            self.show_error("Cannot open design", str(exc))
            return False
        self._replace(design, Path(path))
        self._add_recent(Path(path))
        return True

    def load_data_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Load data", "", "Data (*.csv *.npz *ubyte *ubyte.gz);;All files (*)")
        if not path:
            return
        label = ""
        columns = csv_columns(path) if path.lower().endswith(".csv") else []
        if columns:
            from PySide6.QtWidgets import QInputDialog
            label, ok = QInputDialog.getItem(self, "Label column", "Which column holds the "
                                             "labels?", columns, len(columns) - 1, False)
            if not ok:
                return
        self.load_data_file(path, label)

    def choose_data_folder(self) -> None:
        """Where MNIST, CIFAR-10... are kept, in torchvision's layout (remembered)."""
        folder = QFileDialog.getExistingDirectory(self, "Data folder (MNIST, CIFAR-10…)",
                                                  str(data_root()))
        if folder:
            set_data_root(folder)
            self.settings.setValue("data_root", folder)
            self.preview.request()  # the at-init probe may find the data there now
            self.statusBar().showMessage(f"Data folder: {folder}", 5000)

    def load_data_file(self, path: str, label: str = "") -> bool:
        """Use a data file as the design's input; a bad file shows why and changes nothing."""
        try:
            info = inspect_data(path, label)
        except DataFileError as exc:
            self.show_error("Cannot use this data", str(exc))
            return False

        def use(d):
            d.input.dataset = "file"
            d.input.params = {"path": str(path), "label": label}
            d.output.task, d.output.size = info.task, None
        self.doc.edit("Load data", use)
        what = "regression" if info.task != "classes" else f"{info.classes} classes"
        if info.class_names:  # the file's own labels: "3 classes (cat, dog, eel)"
            names = ", ".join(info.class_names[:6]) + (", …" if info.classes > 6 else "")
            what += f" ({names})"
        self.statusBar().showMessage(f"{info.samples} examples of shape "
                                     f"{'x'.join(map(str, info.shape))}, {what}", 8000)
        return True

    def save(self) -> bool:
        if self.doc.path is None:
            return self.save_as()
        return self.save_to(self.doc.path)

    def save_as(self) -> bool:
        start = str(self.doc.path or Path.home() / f"{self.doc.design.name}.json")
        path, _ = QFileDialog.getSaveFileName(self, "Save design", start, FILE_FILTER)
        return self.save_to(Path(path)) if path else False

    def ask_replace_read_only(self, path: Path) -> bool:
        """A read-only file is only replaced when the user says so (tests replace this)."""
        return QMessageBox.question(
            self, "Replace a read-only file?",
            f"{path} is read-only. Replace it anyway? (It stays read-only.)",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.No) == QMessageBox.Yes

    def save_to(self, path: Path) -> bool:
        allow = False
        try:
            info = os.stat(path)  # through links: the file that would be replaced
            if stat.S_ISREG(info.st_mode) and not info.st_mode & 0o222:
                if not self.ask_replace_read_only(path):
                    return False
                allow = True
        except OSError:
            pass  # a new file, or one save_design will report on
        token = replace_read_only.set(allow)
        try:
            save_design(self.doc.design, path)
        except OSError as exc:
            text = exc.strerror and f"{path}: {exc.strerror}" or str(exc)
            self.show_error("Cannot save design", text)
            return False
        finally:
            replace_read_only.reset(token)
        self.doc.mark_saved(Path(path))
        self._add_recent(Path(path))
        self.statusBar().showMessage(f"Saved {path}", 4000)
        return True

    def recent_files(self) -> list[str]:
        value = self.settings.value("recent", [])
        return [value] if isinstance(value, str) else list(value or [])

    def _add_recent(self, path: Path) -> None:
        files = [str(path.resolve())] + [f for f in self.recent_files()
                                         if f != str(path.resolve())]
        self.settings.setValue("recent", files[:MAX_RECENT])

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        files = self.recent_files()
        if not files:
            self.recent_menu.addAction("(none)").setEnabled(False)
        for f in files:
            self.recent_menu.addAction(f, lambda f=f: self.open_path(Path(f)))
