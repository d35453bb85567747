"""``python -m tierwise``: the same as the ``tierwise`` command."""

import sys

from .cli import main

sys.exit(main())
