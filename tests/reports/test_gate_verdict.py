"""The gate's verdict and per-item statuses.

Aspects:
- converged run: PASS, every task and criterion done
- fresh sandbox: FAIL; missing, blocked and not evaluated tasks are named with reason and
  next action; who must act is listed once per person and action
- failures: FAIL; the (already redacted) reason reaches the gate unchanged
- subset (--gate T04): items outside it are "not requested", never failures; a failure
  inside it still fails the gate
- smoke (-m smoke): tasks without a smoke scenario are not requested
- a full run with a task no scenario covers is not PASS; uncovered safety rules are noted
- skipped scenarios neither pass nor fail an item; an unknown outcome counts as failed
- a record of another schema is refused with a message that says what to do
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from suite.reports import RecordInvalid, build_gate, gate_passed

Record = dict[str, Any]


def by_id(gate: dict[str, Any], section: str = "tasks") -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in gate[section]}


def test_converged_run_passes(converged: Record) -> None:
    gate = build_gate(converged)

    assert gate["verdict"] == "PASS" and gate_passed(converged)
    assert {t["status"] for t in gate["tasks"]} == {"done"}
    assert {c["status"] for c in gate["completion_criteria"]} == {"done"}
    assert gate["summary"].startswith("PASS: 8 of 8 requested task(s) done")


def test_fresh_sandbox_fails_and_names_what_is_open(fresh: Record) -> None:
    gate = build_gate(fresh)
    tasks = by_id(gate)

    assert gate["verdict"] == "FAIL" and not gate_passed(fresh)
    assert tasks["T01"]["status"] == "done"
    assert tasks["T02"]["status"] == "missing"
    assert tasks["T02"]["next_action"] == "run with --provision to add the Dockerfile and " \
                                          ".dockerignore"
    assert tasks["T03"]["status"] == "not_evaluated"
    assert tasks["T06"]["status"] == "blocked"
    assert tasks["T06"]["who"] == "DNS owner of whywhynot.de"
    assert "T06 blocked" in gate["summary"] and "T02 missing" in gate["summary"]


def test_blocked_items_list_who_must_act_once(fresh: Record) -> None:
    second = dict(fresh["scenarios"][8])
    second.update(name="Another DNS check", outcome="blocked", who="DNS owner of whywhynot.de",
                  next_action="add the A record in the zone whywhynot.de", items=["T06", "C4"])
    fresh["scenarios"].append(second)

    blocked = build_gate(fresh)["blocked"]

    assert len(blocked) == 1
    assert blocked[0]["who"] == "DNS owner of whywhynot.de"
    assert blocked[0]["items"] == ["T06", "C4"]
    assert len(blocked[0]["scenarios"]) == 2


def test_blocked_without_who_falls_back_to_the_task_owner(fresh: Record) -> None:
    dns = next(s for s in fresh["scenarios"] if s["outcome"] == "blocked")
    dns["who"] = ""
    fresh["workplan"]["tasks"][5]["owner"] = "the DNS owner of the app zone"

    gate = build_gate(fresh)

    assert by_id(gate)["T06"]["who"] == "the DNS owner of the app zone"
    assert gate["blocked"][0]["who"] == "the DNS owner of the app zone"


def test_failures_fail_the_gate_with_their_redacted_reason(failing: Record) -> None:
    gate = build_gate(failing)
    tasks = by_id(gate)

    assert gate["verdict"] == "FAIL"
    assert tasks["T07"]["status"] == "failed"
    assert "CSRF origin check failed" in tasks["T07"]["reason"]
    assert "***" in tasks["T07"]["reason"]
    assert by_id(gate, "completion_criteria")["C5"]["status"] == "failed"
    assert by_id(gate, "safety_contract")["S2"]["status"] == "failed"


def test_failed_outranks_blocked_and_missing(fresh: Record) -> None:
    dns = next(s for s in fresh["scenarios"] if s["outcome"] == "blocked")
    https = next(s for s in fresh["scenarios"] if s["items"][0] == "T06" and s is not dns)
    https.update(outcome="failed", reason="certificate names vergabe.other.test")

    task = by_id(build_gate(fresh))["T06"]

    assert task["status"] == "failed"
    assert task["reason"] == "certificate names vergabe.other.test"
    assert [p["outcome"] for p in task["problems"]] == ["blocked", "failed"]


def test_subset_leaves_other_items_not_requested(
        records: dict[str, Callable[..., Record]]) -> None:
    record = records["subset"]("T04")

    gate = build_gate(record)
    tasks = by_id(gate)

    assert gate["verdict"] == "PASS"
    assert gate["scope"] == {"kind": "subset", "subset": ["T04"], "markexpr": "",
                             "requested": ["T04"]}
    assert tasks["T04"]["status"] == "done"
    assert {tasks[t]["status"] for t in tasks if t != "T04"} == {"not_requested"}
    assert by_id(gate, "completion_criteria")["C2"]["status"] == "not_requested"


def test_subset_with_an_open_item_fails(records: dict[str, Callable[..., Record]]) -> None:
    record = records["subset"]("T04")
    record["scenarios"][0].update(outcome="missing", reason="no Database resource")

    gate = build_gate(record)

    assert gate["verdict"] == "FAIL"
    assert by_id(gate)["T04"]["status"] == "missing"
    assert by_id(gate)["T05"]["status"] == "not_requested"


def test_smoke_run_judges_only_what_smoke_proves(
        records: dict[str, Callable[..., Record]]) -> None:
    record = records["smoke"]()

    gate = build_gate(record)
    tasks = by_id(gate)

    assert gate["verdict"] == "PASS"
    assert gate["scope"]["kind"] == "subset" and gate["scope"]["subset"] == ["smoke"]
    assert tasks["T02"]["status"] == "not_requested"
    assert tasks["T08"]["status"] == "not_requested"
    assert tasks["T06"]["status"] == "done"


def test_marker_run_without_subset_is_judged_by_its_scenarios(
        records: dict[str, Callable[..., Record]]) -> None:
    record = records["smoke"]()
    record["options"]["subset"] = None
    record["scenarios"][-1].update(outcome="failed", reason="login returned 403")

    gate = build_gate(record)

    assert gate["scope"]["kind"] == "marker" and gate["scope"]["markexpr"] == "smoke"
    assert gate["verdict"] == "FAIL"
    assert by_id(gate)["T07"]["status"] == "failed"
    assert by_id(gate)["T02"]["status"] == "not_requested"


def test_full_run_needs_every_task_covered(converged: Record) -> None:
    converged["scenarios"] = [s for s in converged["scenarios"] if s["items"][0] != "T08"]

    gate = build_gate(converged)
    task = by_id(gate)["T08"]

    assert gate["verdict"] == "FAIL"
    assert task["status"] == "not_evaluated"
    assert "No scenario in this run evaluated it" in task["reason"]
    assert "@T08" in task["next_action"]


def test_uncovered_safety_rule_is_noted_not_failed(converged: Record) -> None:
    converged["workplan"]["safety_contract"].append({"id": "S8", "text": "Start fresh."})

    gate = build_gate(converged)

    assert by_id(gate, "safety_contract")["S8"]["status"] == "not_covered"
    assert gate["verdict"] == "PASS"


def test_skipped_scenarios_neither_pass_nor_fail(converged: Record) -> None:
    extra = dict(converged["scenarios"][0], name="Sandbox-only check", outcome="skipped",
                 reason="not applicable on this target")
    converged["scenarios"].append(extra)

    gate = build_gate(converged)

    assert by_id(gate)["T01"]["status"] == "done"
    assert by_id(gate)["T01"]["scenarios"]["skipped"] == 1
    assert gate["verdict"] == "PASS"


def test_all_skipped_task_is_not_evaluated(converged: Record) -> None:
    for scenario in converged["scenarios"]:
        if scenario["items"][0] == "T02":
            scenario["outcome"] = "skipped"

    gate = build_gate(converged)

    assert by_id(gate)["T02"]["status"] == "not_evaluated"
    assert gate["verdict"] == "FAIL"


@pytest.mark.parametrize("word", ["not run", "error", ""])
def test_unknown_outcome_counts_as_failed(converged: Record, word: str) -> None:
    converged["scenarios"][0]["outcome"] = word

    gate = build_gate(converged)

    assert by_id(gate)["T01"]["status"] == "failed"
    assert gate["verdict"] == "FAIL"


def test_nothing_requested_is_not_a_pass(converged: Record) -> None:
    converged["scenarios"] = []
    converged["options"]["markexpr"] = "nothing-matches"

    gate = build_gate(converged)

    assert gate["verdict"] == "FAIL"
    assert "nothing" in gate["summary"]


def test_a_record_of_another_schema_is_refused(converged: Record) -> None:
    converged["schema"] = "something/else/2"

    with pytest.raises(RecordInvalid) as raised:
        build_gate(converged)

    message = str(raised.value)
    assert "vergabe-acceptance/run/1" in message and "something/else/2" in message
    assert "next:" in message
