"""A per-scenario scratchpad the steps of one scenario share (`ctx`)."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_bdd import then

from suite.check import expect
from suite.errors import NotEvaluated
from suite.state import Run


@pytest.fixture
def ctx() -> dict[str, Any]:
    return {}


@then("every smoke scenario of T07 passed in this run")
def t07_smoke_passed(run: Run) -> None:
    smoke = [s for s in run.scenarios if "T07" in s["tasks"] and "smoke" in s["tags"]]
    if not smoke:
        raise NotEvaluated("the T07 smoke scenarios did not run in this session.",
                           next_action="run them with this scenario: pytest features/ -m "
                           "'T07 or completion'.")
    bad = [f"{s['name']} ({s['outcome']})" for s in smoke if s["outcome"] != "passed"]
    expect(not bad, "every T07 smoke scenario passed", ", ".join(bad),
           "fix those scenarios first.")
