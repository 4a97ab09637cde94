"""Where downloaded datasets live: one root folder, in torchvision's own layout.

The root is, first found: what the program set (``--data-root``, the app's Data folder
setting), the ``DESKLAB_DATA`` environment variable, the platform's user data folder
(``~/.local/share/desklab/data`` on Linux).
"""

from __future__ import annotations

import os
from pathlib import Path

_chosen: Path | None = None


def set_data_root(folder: str | os.PathLike | None) -> None:
    """Use ``folder`` from now on (None: back to the environment and the default)."""
    global _chosen
    _chosen = Path(folder).expanduser() if folder else None


def data_root() -> Path:
    """The folder datasets are read from and downloaded into (it may not exist yet)."""
    if _chosen is not None:
        return _chosen
    if os.environ.get("DESKLAB_DATA"):
        return Path(os.environ["DESKLAB_DATA"]).expanduser()
    from platformdirs import user_data_dir
    return Path(user_data_dir("desklab", appauthor=False)) / "data"
