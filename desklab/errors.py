"""The one error type for anything the user gave that cannot be used.

Every reader of user input (design, data, weights, autosave, output paths, device
names) raises a subclass of `DeskLabError` whose message is one plain line naming
the user's file and what is wrong. The CLI prints it and exits 2; the GUI shows it
next to the thing that is wrong. Anything else escaping is a bug in DeskLab.
"""


class DeskLabError(Exception):
    """Unusable user input; ``str(error)`` is the one line to show."""
