"""The dataset download dialog: asks first, then shows progress with Cancel.

`offer_download` is what Train calls when the design names a real dataset the data
folder lacks: a question naming the set, its size and the folder; then a progress
dialog (the download runs on its own thread, the window stays responsive) that calls
``then`` once the data is ready. Errors are shown in one line; Cancel keeps the partial
file so the next try resumes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from ...design.catalog.real_data import RealDataset
from ...engine.real_data import folder_of
from ..controllers.downloads import DatasetFetcher


def offer_download(parent: QWidget, real: RealDataset, root: Path,
                   then: Callable[[], None]) -> "DownloadDialog | None":
    """Ask to download ``real`` into ``root``; start it when the user agrees."""
    answer = QMessageBox.question(
        parent, "Download the data?",
        f"{real.label} ({real.megabytes} MB) is not in {folder_of(real, root)}.\n\n"
        f"Download it now? (File ▸ Data folder… picks another folder, for example one "
        f"torchvision already filled.)",
        QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
    if answer != QMessageBox.Yes:
        return None
    dialog = DownloadDialog(real, root, then, parent)
    dialog.show()
    return dialog


class DownloadDialog(QProgressDialog):
    """Progress of one download, with Cancel; runs ``then`` when the data is ready."""

    def __init__(self, real: RealDataset, root: Path, then: Callable[[], None],
                 parent: QWidget | None = None):
        super().__init__(f"Downloading {real.label} into {root}…", "Cancel", 0, 1000, parent)
        self.setObjectName("downloadDialog")
        self.setWindowTitle(f"Downloading {real.label}")
        self.setWindowModality(Qt.WindowModal)
        self.setAutoClose(False)
        self.setAutoReset(False)
        self.setMinimumDuration(0)
        self.setMinimumWidth(460)
        self.real, self.then, self.message = real, then, None
        self._painting = 0  # how deep inside _progress (see there)
        self.fetcher = DatasetFetcher(self)
        self.fetcher.progress.connect(self._progress)
        self.fetcher.done.connect(lambda _folder: self._done(""))
        self.fetcher.failed.connect(self._done)
        self.canceled.connect(self.fetcher.cancel)
        self.fetcher.start(real.name, root)

    def _progress(self, done, total) -> None:
        if self.message is not None:
            return  # already done
        # a modal QProgressDialog's setValue processes events: the download's end, and
        # further progress, can be handled inside it; the dialog must not be deleted
        # under any of these calls, so only the outermost one deletes it
        self._painting += 1
        try:
            self.setLabelText(f"Downloading {self.real.label}: {done / 2**20:.1f}"
                              + (f" of {total / 2**20:.1f} MB" if total else " MB"))
            if total:
                self.setValue(int(1000 * done / total))
        finally:
            self._painting -= 1
        if self.message is not None and not self._painting:
            self.deleteLater()

    def _done(self, message: str) -> None:
        """``message`` is "" when the data is ready, else why not."""
        self.message = "cancelled" if message and self.fetcher.cancelled else message
        self.fetcher.progress.disconnect(self._progress)  # nothing more to show
        self.hide()
        if not message:
            self.then()
        elif not self.fetcher.cancelled:  # a cancel is not an error
            QMessageBox.warning(self.parentWidget(), "Download failed", message)
        if not self._painting:  # else _progress deletes it when setValue returns
            self.deleteLater()

    def closeEvent(self, event) -> None:
        if self.fetcher.running:
            self.fetcher.shutdown()
        super().closeEvent(event)


def data_ready_or_offer(parent: QWidget, design, then: Callable[[], None]) -> bool:
    """True when ``design``'s data can be read now; otherwise offer the download (which
    calls ``then`` once the data is ready) and return False."""
    from ...design import DATASETS
    from ...engine.real_data import missing_files
    from ...util.data_root import data_root
    entry = DATASETS.get(design.input.dataset)
    real = entry.meta.get("real") if entry is not None else None
    if real is None or not missing_files(real, data_root()):
        return True
    parent.download_dialog = offer_download(parent, real, data_root(), then)  # kept alive
    return False
