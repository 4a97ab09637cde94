"""Packaging: every package is listed in pyproject.toml, and every icon the app asks
for exists as an SVG in resources/ (so none shows as an empty box)."""

import tomllib
from pathlib import Path

from desklab.design import LAYER_KINDS

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_is_listed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = {".".join(p.relative_to(ROOT).parts[:-1]) for p in
             (ROOT / "desklab").rglob("__init__.py")}
    assert found | {"desklab.resources", "desklab.resources.icons"} == set(config["packages"])


def test_every_icon_exists(qapp):
    from desklab.gui.icons import app_icon, icon
    names = [k.name for k in LAYER_KINDS] + ["train", "pause", "resume", "step", "stop",
                                             "reset", "error", "warning", "info", "resolved"]
    shipped = {f.stem for f in (ROOT / "resources" / "icons").glob("*.svg")}
    assert set(names) <= shipped
    for name in sorted(shipped):
        assert not icon(name).isNull(), name
        assert not icon(name).pixmap(24, 24).toImage().isNull()
    assert not app_icon().isNull()
    assert (ROOT / "resources" / "desklab.desktop").read_text().startswith("[Desktop Entry]")
