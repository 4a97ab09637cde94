"""Launch the DeskLab app from a source checkout: ``python main.py``."""

import sys

from desklab.cli import main

if __name__ == "__main__":
    sys.exit(main(["gui", *sys.argv[1:]]))
