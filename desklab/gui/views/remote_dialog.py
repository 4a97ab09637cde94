"""File > Open remote run: the address and token of a `desklab serve` on another machine.

The address is remembered; the token only when the user ticks "Remember the token"
(it is kept in the settings file as plain text, which the tick's tooltip says). A
malformed address is said under the field and the dialog stays open.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout,
)

from ...runs.remote import RemoteError, check_url

DEFAULT_URL = "http://localhost:6008"


class RemoteDialog(QDialog):
    """Asks for a server's address and token; ``url``/``token`` once accepted."""

    def __init__(self, settings, parent=None):
        super().__init__(parent)
        self.settings = settings
        self.setObjectName("remoteDialog")
        self.setWindowTitle("Open remote run")
        self.setMinimumWidth(480)
        intro = QLabel("Follow runs recorded on another machine. There, run "
                       "<code>desklab serve</code> (it prints a token); from here, "
                       "tunnel its port with <code>ssh -L 6008:localhost:6008 "
                       "HOST</code>.")
        intro.setWordWrap(True)
        self.url_field = QLineEdit(str(settings.value("remote/url") or DEFAULT_URL))
        self.url_field.setObjectName("remote_url")
        self.url_field.setToolTip("The server's address, as desklab serve printed it")
        self.token_field = QLineEdit(str(settings.value("remote/token") or ""))
        self.token_field.setObjectName("remote_token")
        self.token_field.setEchoMode(QLineEdit.Password)
        self.token_field.setToolTip("The token desklab serve printed (or $DESKLAB_TOKEN "
                                    "on the server)")
        self.remember = QCheckBox("Remember the token")
        self.remember.setObjectName("remote_remember")
        self.remember.setChecked(bool(settings.value("remote/token")))
        self.remember.setToolTip("Keeps the token in DeskLab's settings file, as plain "
                                 "text; off, only the address is remembered")
        self.problem = QLabel()
        self.problem.setObjectName("remote_problem")
        self.problem.setStyleSheet("color: #b00020")
        self.problem.setWordWrap(True)
        self.problem.hide()
        form = QFormLayout()
        form.addRow("Server", self.url_field)
        form.addRow("Token", self.token_field)
        form.addRow("", self.remember)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Connect")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.token_field.setFocus() if self.url_field.text() else self.url_field.setFocus()

    def url(self) -> str:
        return self.url_field.text().strip()

    def token(self) -> str:
        return self.token_field.text().strip()

    def accept(self) -> None:
        """Check first: a bad address or an empty token is said here, next to it."""
        try:
            url = check_url(self.url())
        except RemoteError as exc:
            return self._say(str(exc).replace("--remote ", "The address "))
        if not self.token():
            return self._say("The token is missing: desklab serve printed it when it "
                             "started.")
        self.settings.setValue("remote/url", url)
        if self.remember.isChecked():
            self.settings.setValue("remote/token", self.token())
        else:
            self.settings.remove("remote/token")
        super().accept()

    def _say(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()
