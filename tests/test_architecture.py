"""Imports point one way: design, metrics <- engine, lessons <- gui, cli."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "desklab"
QT = ("PySide6", "pyqtgraph", "shiboken6", "PyQt5", "PyQt6")


def imports_of(package: str) -> set[str]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = "." * node.level + (node.module or "")
                found.add(base)
    return found


def top(names):
    return {n.lstrip(".").split(".")[0] if not n.startswith("..") else n for n in names}


@pytest.mark.parametrize("package", ["design", "metrics"])
def test_pure_packages_import_neither_torch_nor_qt(package):
    names = imports_of(package)
    assert not {n for n in names if n.split(".")[0] in ("torch", *QT)}
    # and no sibling that could bring them in
    assert not {n for n in names if n.startswith("..") and n.split(".")[2:3] and
                n.split(".")[2] in ("engine", "gui", "cli", "lessons")}


def test_engine_imports_no_qt():
    names = imports_of("engine")
    assert not {n for n in names if n.split(".")[0] in QT}
    assert not {n for n in names if n.startswith("..gui") or n.startswith("..cli")}


def test_lessons_depend_only_on_design():
    names = imports_of("lessons")
    assert not {n for n in names if n.split(".")[0] in ("torch", *QT)}


def test_gui_reaches_torch_only_through_engine():
    names = imports_of("gui")
    assert not {n for n in names if n.split(".")[0] == "torch"}


def test_pure_packages_really_do_not_load_torch():
    import subprocess
    import sys
    code = ("import sys; import desklab.design, desklab.metrics, desklab.lessons; "
            "bad = [m for m in ('torch', 'PySide6', 'pyqtgraph') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    subprocess.run([sys.executable, "-c", code], check=True)
