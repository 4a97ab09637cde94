"""The command line: ``desklab`` and its commands, one file each.

``main`` parses and dispatches; ``common`` loads a design or preset (with ``--data``)
and writes outputs; ``probe``, ``train`` and ``export`` are the headless commands;
``gui`` launches the app. Bad input never produces a traceback: every user error
prints one line ``desklab: <what is wrong>`` on stderr and exits 2.
"""

from .main import gui_main, main, make_parser

__all__ = ["gui_main", "main", "make_parser"]
