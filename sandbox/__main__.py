"""Entry point: `python -m sandbox up | down | status | env`."""

from __future__ import annotations

import sys

from sandbox.cli import main

sys.exit(main(sys.argv[1:]))
