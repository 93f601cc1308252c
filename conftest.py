"""Wires the suite together: the plugin, the clients (fixtures/) and the steps (steps/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from suite.collect import collect_feature

pytest_plugins = [
    "suite.plugin",
    "fixtures.run", "fixtures.cluster", "fixtures.http", "fixtures.sops", "fixtures.helm",
    "fixtures.registry", "fixtures.database", "fixtures.hosts", "fixtures.browser",
    "steps.context", "steps.cluster", "steps.registry", "steps.database", "steps.repository",
    "steps.helm", "steps.dns", "steps.tls", "steps.docs", "steps.browser",
]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    return collect_feature(file_path, parent)
