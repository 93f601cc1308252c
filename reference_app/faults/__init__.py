"""Faults of the fault catalogue, injectable into a copy of the vergabe-teilnahme fixture.

Each module F<nn>.py has a one-line docstring saying what it breaks and a function
`apply(app_dir: Path) -> None` that edits files of a *copy* of
reference_app/vergabe-teilnahme (settings, templates, the seed command, the Dockerfile that
the suite scaffolds from provisioning/templates/app/). Nothing here ships in the normal app.

    from reference_app import faults
    faults.apply("F05", copy_of_app)      # or: python -m reference_app.faults F05 DIR
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from ._patch import FaultNotApplicable

__all__ = ["FAULTS", "FaultNotApplicable", "apply", "describe", "module"]

FAULTS = ("F01", "F02", "F03", "F04", "F05", "F06", "F13", "F14")


def module(fault_id: str) -> ModuleType:
    """The module of one fault; an unknown id names the known ones."""
    if fault_id not in FAULTS:
        raise KeyError(f"unknown fault {fault_id!r}; injectable here: {', '.join(FAULTS)}")
    return importlib.import_module(f"{__name__}.{fault_id}")


def describe(fault_id: str) -> str:
    """The one-line description of a fault (its module docstring's first line)."""
    return (module(fault_id).__doc__ or "").strip().splitlines()[0]


def apply(fault_id: str, app_dir: Path) -> None:
    """Injects one fault into the app copy at `app_dir`."""
    module(fault_id).apply(Path(app_dir))
