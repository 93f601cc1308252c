"""Editing helpers for the fault modules: replace one anchored piece of text, or fail loudly.

A fault edits known text of the fixture. When that text has changed, the fault must not
silently do nothing: `FaultNotApplicable` names the fault, the file and the missing anchor.
"""

from __future__ import annotations

import shutil
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "provisioning" / "templates" / "app"


class FaultNotApplicable(Exception):
    """The text a fault edits is not where the fault expects it."""


def replace_once(fault_id: str, path: Path, old: str, new: str) -> None:
    """Replaces the single occurrence of `old` in `path` with `new`."""
    if not path.is_file():
        raise FaultNotApplicable(f"{fault_id}: {path} does not exist")
    text = path.read_text(encoding="utf-8")
    found = text.count(old)
    if found != 1:
        raise FaultNotApplicable(
            f"{fault_id}: expected the anchor exactly once in {path}, found it {found} times; "
            f"the fixture changed, update reference_app/faults/{fault_id}.py. Anchor: {old!r}"
        )
    path.write_text(text.replace(old, new), encoding="utf-8")


def append(fault_id: str, path: Path, block: str) -> None:
    """Appends `block` to `path` (settings overrides that win over the environment)."""
    if not path.is_file():
        raise FaultNotApplicable(f"{fault_id}: {path} does not exist")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.rstrip("\n") + "\n\n" + block.strip("\n") + "\n", encoding="utf-8")


def dockerfile(app_dir: Path) -> Path:
    """The copy's Dockerfile; scaffolded from the template (with .dockerignore) if absent."""
    target = app_dir / "Dockerfile"
    if not target.exists():
        shutil.copyfile(TEMPLATES / "Dockerfile", target)
        ignore = app_dir / ".dockerignore"
        if not ignore.exists():
            shutil.copyfile(TEMPLATES / "dockerignore", ignore)
    return target


def prod_settings(app_dir: Path) -> Path:
    """The copy's production settings module."""
    return app_dir / "vergabe_teilnahme" / "settings" / "prod.py"


TRUST_INGRESS = 'FORWARDED_ALLOW_IPS="*"'
TRUST_NOBODY = 'FORWARDED_ALLOW_IPS=""'


def gunicorn_trusts_no_proxy(fault_id: str, app_dir: Path) -> None:
    """gunicorn takes X-Forwarded-Proto from no peer: the scheme it reports is always http.

    Idempotent, so that faults which share this part (F01, F02) can be applied together.
    """
    path = dockerfile(app_dir)
    if TRUST_NOBODY in path.read_text(encoding="utf-8"):
        return
    replace_once(fault_id, path, TRUST_INGRESS, TRUST_NOBODY)
