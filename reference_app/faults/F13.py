"""F13: the image runs as root: the Dockerfile has no USER instruction.

The user 10001 is still created, but without `USER 10001:10001` gunicorn runs as uid 0; the
image configuration's User field is empty and `id -u` in the container prints 0.
"""

from __future__ import annotations

from pathlib import Path

from ._patch import dockerfile, replace_once

FAULT_ID = "F13"


def apply(app_dir: Path) -> None:
    """Deletes the USER line of the Dockerfile."""
    replace_once(FAULT_ID, dockerfile(app_dir), "USER 10001:10001\n", "")
