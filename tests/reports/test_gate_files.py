"""gate.json against its versioned JSON Schema, and gate.md for the operator.

Aspects:
- the schema is itself a valid draft 2020-12 schema and its $id carries version 1
- gate.json written for every kind of run (fresh, converged, failing, smoke, subset,
  plan) validates against gate.schema.json
- the schema rejects what it must (an unknown verdict, a done item with problems,
  a missing field)
- gate.md names the verdict, every task with its status and workplan status, each
  completion criterion, who must act, the target, time, suite version, commits, and
  the provisioning changes
- gate.md escapes table breaks and raw HTML from the record
- the synthetic records themselves conform to run.schema.json
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from suite.reports import build_gate, write_all
from suite.reports.bundle import GATE_SCHEMA_FILE
from suite.reports.record import check_record

Record = dict[str, Any]
KINDS = ("fresh", "converged", "failing", "smoke", "subset")


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(GATE_SCHEMA_FILE.read_text(encoding="utf-8"))


def test_schema_is_valid_and_versioned(schema: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)

    assert schema["$id"].endswith(":gate:1")
    assert schema["properties"]["schema"]["const"] == "vergabe-acceptance/gate/1"


@pytest.mark.parametrize("kind", KINDS)
def test_written_gate_validates(kind: str, records: dict[str, Callable[..., Record]],
                                schema: dict[str, Any], tmp_path: Path) -> None:
    record = records[kind]()
    assert check_record(record) == []

    write_all(record, tmp_path, [])
    gate = json.loads((tmp_path / "gate.json").read_text(encoding="utf-8"))

    jsonschema.validate(gate, schema, cls=jsonschema.Draft202012Validator)


def test_plan_run_gate_validates(rich: tuple[Record, Path], schema: dict[str, Any]) -> None:
    record, _ = rich
    record["options"]["plan"] = True
    record["planned"] = copy.deepcopy(record["changes"])
    record["changes"] = []

    jsonschema.validate(build_gate(record), schema, cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize("breakage", ["verdict", "done-with-problem", "missing-field"])
def test_schema_rejects_a_broken_gate(breakage: str, converged: Record,
                                      schema: dict[str, Any]) -> None:
    gate = build_gate(converged)
    if breakage == "verdict":
        gate["verdict"] = "MAYBE"
    elif breakage == "done-with-problem":
        gate["tasks"][0]["problems"] = [{"scenario": "x", "feature": "f", "outcome": "failed",
                                         "reason": "r", "next_action": "", "who": ""}]
    else:
        del gate["scope"]

    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(gate, schema, cls=jsonschema.Draft202012Validator)


def test_gate_markdown_tells_the_operator_everything(rich: tuple[Record, Path]) -> None:
    record, reports = rich

    write_all(record, reports, [])
    text = (reports / "gate.md").read_text(encoding="utf-8")

    assert text.startswith("# Gate RAILIANCE-WP-0002: FAIL")
    for task in record["workplan"]["tasks"]:
        assert f"| {task['id']} | {task['title']} |" in text
    for criterion in record["workplan"]["completion_criteria"]:
        assert f"| {criterion['id']} |" in text
    assert "| T06 | DNS, ingress, and TLS for vergabe-teilnahme.whywhynot.de | blocked | " \
           "todo → blocked |" in text
    assert "**DNS owner of whywhynot.de**: add the A record in the zone whywhynot.de" in text
    assert "railiance-apps abc1234 on vergabe-acceptance" in text
    assert "| Suite version | 0.1.0 |" in text
    assert "2026-12-04T15:00:00+00:00 → 2026-12-04T15:00:42+00:00" in text
    assert "| database | Database databases/vergabe-db | create | yes | T04 |" in text
    assert "1 object(s) were already as wanted" in text
    assert "Next: run with --provision to add the Dockerfile" in text


def test_gate_markdown_for_a_subset_and_a_plan(records: dict[str, Callable[..., Record]],
                                              tmp_path: Path) -> None:
    record = records["subset"]("T04")
    record["options"]["plan"] = True
    record["planned"] = [{"provisioner": "database", "object": "Role vergabe",
                          "action": "update", "diff": "", "applied": False}]

    write_all(record, tmp_path, [])
    text = (tmp_path / "gate.md").read_text(encoding="utf-8")

    assert "| Scope | subset T04 |" in text
    assert "| T01 | Inventory the deployment substrate | not requested | todo |" in text
    assert "## Provisioning plan (nothing was changed)" in text
    assert "| database | Role vergabe | update | T04 |" in text


def test_gate_markdown_escapes_the_record(fresh: Record, tmp_path: Path) -> None:
    scenario = next(s for s in fresh["scenarios"] if s["outcome"] == "missing")
    scenario["reason"] = "a | b <script>x</script>\nsecond line"

    write_all(fresh, tmp_path, [])
    text = (tmp_path / "gate.md").read_text(encoding="utf-8")

    assert "a \\| b &lt;script>x&lt;/script> second line" in text
    assert "<script>" not in text
