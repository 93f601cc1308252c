"""A per-scenario scratchpad the steps of one scenario share (`ctx`)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def ctx() -> dict[str, Any]:
    return {}
