"""The state of one run: target, options, per-scenario records, changes, facts, evidence.

One :class:`Run` exists per pytest session (:func:`current`); the plugin fills it and
the reports read it.  Provisioners append their changes here, scenarios their evidence.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from suite.targets import Target
from suite.workplan import Workplan


@dataclass
class Change:
    """One change a provisioner planned or made, with a redacted diff."""

    provisioner: str
    object: str
    action: str  # create | update | nothing
    diff: str = ""
    applied: bool = False
    task: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"provisioner": self.provisioner, "object": self.object, "action": self.action,
                "diff": self.diff, "applied": self.applied, "task": self.task}


@dataclass
class Run:
    target: Target
    workplan: Workplan | None
    provision: bool = False
    plan_only: bool = False
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    scenarios: list[dict[str, Any]] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    planned: list[Change] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    results: dict[str, list[str]] = field(default_factory=dict)  # task -> outcomes
    repositories: dict[str, dict[str, str]] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)  # observations shared by steps

    def task_outcomes(self, task: str) -> list[str]:
        return self.results.get(task, [])


_CURRENT: Run | None = None


def start(run: Run) -> Run:
    global _CURRENT
    _CURRENT = run
    return run


def current() -> Run:
    if _CURRENT is None:
        raise RuntimeError("no suite run is active (the suite plugin did not start one)")
    return _CURRENT


def active() -> Run | None:
    return _CURRENT
