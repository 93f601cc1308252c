"""F14: `manage.py seed` adds the demo Auftraggeber again on every run (duplicate rows).

The seed creates the demo Auftraggeber (table ausschreibungen_auftraggeber) with `create`
instead of `update_or_create`. Auftraggeber names are not unique (two towns may share a
name), so nothing stops it: the table holds one row after the first run, two after the
second, and the command still reports success ("Auftraggeber: 1 angelegt"). The
Verfahrensarten stay idempotent (unique Kürzel).
"""

from __future__ import annotations

from pathlib import Path

from ._patch import replace_once

FAULT_ID = "F14"

IDEMPOTENT = """        _, created = Auftraggeber.objects.update_or_create(
            name=DEMO_AUFTRAGGEBER["name"], defaults=defaults
        )
        return int(created), int(not created)
"""

DUPLICATING = """        Auftraggeber.objects.create(name=DEMO_AUFTRAGGEBER["name"], **defaults)
        return 1, 0
"""


def apply(app_dir: Path) -> None:
    """Makes the seed create the demo Auftraggeber unconditionally."""
    seed = app_dir / "ausschreibungen" / "management" / "commands" / "seed.py"
    replace_once(FAULT_ID, seed, IDEMPOTENT, DUPLICATING)
