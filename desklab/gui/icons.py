"""Icons from the SVG files in ``resources/`` (installed as ``desklab.resources``).

SVG, not Unicode glyphs: common fonts draw ▶ ⏸ ⏭ ⚑ as empty boxes. Every layer kind,
run action and finding severity has a file; a missing one is a packaging error and
fails loudly in the tests, never as an empty box on screen.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import as_file, files

from PySide6.QtGui import QIcon


def resource_path(name: str) -> str:
    """The file path of a resource, e.g. ``icons/train.svg``."""
    with as_file(files("desklab.resources") / name) as path:
        return str(path)


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    """The icon ``resources/icons/<name>.svg``."""
    path = resource_path(f"icons/{name}.svg")
    result = QIcon(path)
    if result.isNull():
        raise FileNotFoundError(f"missing icon {path}")
    return result


def app_icon() -> QIcon:
    return QIcon(resource_path("desklab.svg"))
