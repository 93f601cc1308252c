"""The status each task should now carry in the workplan's own table.

Aspects:
- done when every scenario of the task passed
- blocked when any scenario is blocked (even if others passed)
- in progress when some passed, or provisioning applied a change for the task
- todo when nothing passed and nothing changed (a planned, unapplied change counts not)
- a change is attributed by its own task field, else by its provisioner's name
- a task outside the requested subset keeps what the workplan says
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from suite.reports import build_gate
from suite.reports.gate import change_tasks

Record = dict[str, Any]


def suggested(record: Record) -> dict[str, str]:
    return {t["id"]: t["workplan_status"]["suggested"] for t in build_gate(record)["tasks"]}


def test_all_passed_is_done(converged: Record) -> None:
    assert set(suggested(converged).values()) == {"done"}


def test_fresh_sandbox_statuses(fresh: Record) -> None:
    statuses = suggested(fresh)

    assert statuses["T01"] == "done"
    assert statuses["T06"] == "blocked"
    assert statuses["T02"] == statuses["T03"] == statuses["T08"] == "todo"


def test_blocked_wins_over_passed(converged: Record) -> None:
    dns = next(s for s in converged["scenarios"] if s["items"][0] == "T06")
    dns.update(outcome="blocked", who="DNS owner of whywhynot.de")

    assert suggested(converged)["T06"] == "blocked"


def test_some_passed_is_in_progress(failing: Record) -> None:
    statuses = suggested(failing)

    assert statuses["T04"] == "in progress"
    assert statuses["T07"] == "in progress"
    why = next(t for t in build_gate(failing)["tasks"] if t["id"] == "T07")["workplan_status"]
    assert why["why"].startswith("1 of 2 scenario(s) passed")


def test_applied_change_is_in_progress(fresh: Record) -> None:
    fresh["changes"] = [{"provisioner": "database", "object": "Database databases/vergabe-db",
                         "action": "create", "diff": "", "applied": True}]

    statuses = suggested(fresh)

    assert statuses["T04"] == "in progress"
    assert statuses["T05"] == "todo"


def test_planned_or_unchanged_objects_are_no_progress(fresh: Record) -> None:
    fresh["options"]["plan"] = True
    fresh["planned"] = [{"provisioner": "database", "object": "Database databases/vergabe-db",
                         "action": "create", "diff": "+ owner: vergabe", "applied": False}]
    fresh["changes"] = [{"provisioner": "helm", "object": "Release vergabe-teilnahme",
                         "action": "nothing", "applied": True}]

    gate = build_gate(fresh)
    statuses = {t["id"]: t["workplan_status"]["suggested"] for t in gate["tasks"]}

    assert statuses["T04"] == "todo" and statuses["T05"] == "todo"
    assert gate["planned"][0]["applied"] is False and gate["planned"][0]["tasks"] == ["T04"]


def test_change_attribution() -> None:
    assert change_tasks({"provisioner": "database", "task": "T07"}) == ["T07"]
    assert change_tasks({"provisioner": "database", "tasks": ["T04", "T05"]}) == ["T04", "T05"]
    assert change_tasks({"provisioner": "DNS"}) == ["T06"]
    assert change_tasks({"provisioner": "something-new"}) == []


def test_not_requested_task_keeps_its_workplan_status(
        records: dict[str, Callable[..., Record]]) -> None:
    record = records["subset"]("T04")
    record["workplan"]["tasks"][0]["workplan_status"] = "done"
    record["workplan"]["tasks"][1]["workplan_status"] = "In-Progress"

    gate = build_gate(record)
    tasks = {t["id"]: t["workplan_status"] for t in gate["tasks"]}

    assert tasks["T01"] == {"current": "done", "suggested": "done",
                            "why": "Not requested in this run: keep what the workplan says."}
    assert tasks["T02"]["suggested"] == "in progress"
    assert tasks["T04"]["suggested"] == "done"
