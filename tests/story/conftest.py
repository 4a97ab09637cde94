"""Fixtures for the real-input story: a private X server per test module.

The stories run in a pytest process of their own after the rest (README): in
pytest-xdist workers two of them timed out (two full runs of two; never in one
process), one waiting for the first menu to open, one moving to a dock not yet laid
out. Where they do run in a worker, each runs alone (tests/conftest.py's
machine_share)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xapp import XServer, tools_missing


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.alone)


@pytest.fixture(scope="module")
def xserver():
    missing = tools_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"the story tests need {', '.join(missing)} (installed by .ci/run)")
        pytest.skip(f"needs {', '.join(missing)}")
    server = XServer()
    yield server
    server.close()
