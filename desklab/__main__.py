"""``python -m desklab``: same as the ``desklab`` command."""

import sys

from .cli import main

sys.exit(main())
