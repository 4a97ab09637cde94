"""Imports point one way (the contracts in pyproject.toml, checked by import-linter),
no two modules import each other, and the pure packages really load neither torch nor
Qt."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout and "6 kept" in result.stdout


def import_cycles(package: str = "desklab") -> list[list[str]]:
    """Strongly connected groups of modules (size > 1) in the runtime import graph,
    function-level imports included, `if TYPE_CHECKING:` imports not (never executed)."""
    import grimp
    graph = grimp.build_graph(package, exclude_type_checking_imports=True)
    modules = sorted(m for m in graph.modules if m.startswith(package))
    edges = {m: sorted(d for d in graph.find_modules_directly_imported_by(m)
                       if d.startswith(package)) for m in modules}
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(v):  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for m in modules:
        if m not in index:
            visit(m)
    return groups


def test_no_import_cycles():
    assert import_cycles() == []


def test_the_cycle_finder_finds_a_planted_cycle(tmp_path, monkeypatch):
    pkg = tmp_path / "plantedpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from . import b\n")
    (pkg / "b.py").write_text("from . import a\n")
    (pkg / "c.py").write_text("from . import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_cycles("plantedpkg") == [["plantedpkg.a", "plantedpkg.b"]]


def test_pure_packages_really_do_not_load_torch():
    code = ("import sys; import desklab.design, desklab.metrics, desklab.lessons; "
            "bad = [m for m in ('torch', 'PySide6', 'pyqtgraph') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_module_says_its_idea_in_under_300_lines():
    """One idea per file: each module of desklab has a docstring and at most 300 lines."""
    import ast
    too_long, undocumented = [], []
    for path in sorted((ROOT / "desklab").rglob("*.py")):
        text = path.read_text()
        if text.count("\n") > 300:
            too_long.append(f"{path.relative_to(ROOT)} ({text.count(chr(10))} lines)")
        if not ast.get_docstring(ast.parse(text)):
            undocumented.append(str(path.relative_to(ROOT)))
    assert not too_long, too_long
    assert not undocumented, undocumented
