"""No text the app shows needs an emoji font (issue 25 item 3: "⏳ computing preview"
drew a missing-glyph box where none is installed)."""

import ast
from pathlib import Path

import desklab.gui

# emoji and the "miscellaneous technical" symbols (⏳ ⏸ ⏭): not in the fonts a desktop
# is sure to have; arrows, bullets and box drawing (→ ● ┄) are in DejaVu and friends
RISKY = [(0x2300, 0x23FF), (0x2600, 0x27BF), (0x1F000, 0x1FAFF)]


def _shown_strings(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                id(node) not in docstrings:
            yield node.lineno, node.value


def test_no_gui_string_needs_an_emoji_font():
    found = []
    for path in Path(desklab.gui.__file__).parent.rglob("*.py"):
        for line, text in _shown_strings(path):
            bad = [c for c in text if any(lo <= ord(c) <= hi for lo, hi in RISKY)]
            if bad:
                found.append(f"{path.name}:{line}: {''.join(bad)}")
    assert not found, found
