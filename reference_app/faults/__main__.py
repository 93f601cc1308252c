"""Command line: `python -m reference_app.faults` lists the faults; `... F05 DIR` injects one."""

from __future__ import annotations

import sys
from pathlib import Path

from . import FAULTS, apply, describe


def main(argv: list[str]) -> int:
    if not argv:
        for fault_id in FAULTS:
            print(describe(fault_id))
        return 0
    if len(argv) != 2:
        print("usage: python -m reference_app.faults [FAULT_ID APP_DIR]", file=sys.stderr)
        return 2
    fault_id, app_dir = argv
    apply(fault_id, Path(app_dir))
    print(f"injected into {app_dir}: {describe(fault_id)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
