"""Collect `.feature` files directly, so that `pytest features/t04_database.feature` works.

pytest-bdd binds scenarios to test functions in a Python module; here each feature file
becomes a module of its own, built in memory, whose only content is that binding.
"""

from __future__ import annotations

import types
from pathlib import Path

import pytest


class FeatureModule(pytest.Module):
    """A pytest Module whose object is built from one feature file."""

    def _getobj(self) -> types.ModuleType:
        module = types.ModuleType(f"feature_{self.path.stem}")
        module.__file__ = str(self.path)
        source = ("from pytest_bdd import scenarios\n"
                  f"scenarios({str(self.path)!r}, features_base_dir={str(self.path.parent)!r})\n")
        exec(compile(source, str(self.path), "exec"), module.__dict__)  # noqa: S102
        return module


def collect_feature(file_path: Path, parent: pytest.Collector) -> FeatureModule | None:
    if file_path.suffix == ".feature":
        return FeatureModule.from_parent(parent, path=file_path)
    return None
