"""Wires the suite together: the plugin, the clients (fixtures/) and the steps (steps/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from suite.collect import collect_feature

pytest_plugins = ["suite.plugin"]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    return collect_feature(file_path, parent)
