"""Fixtures for the real-input story: a private X server per test module."""

from __future__ import annotations

import os

import pytest

from xapp import XServer, tools_missing


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
