"""cucumber.json in the shape Cucumber report tools read.

Aspects:
- a list of features (uri, id, keyword, name, line, tags, elements), one per feature
- each scenario an element of type "scenario" with id, keyword, name, line, tags carrying
  "@" and a line, and steps with keyword, name, line, match and result
- result.status is passed/failed/skipped and result.duration is integer nanoseconds
- a failed step carries the (redacted) reason as error_message
- a missing/blocked/not evaluated scenario without a failed step gets a failed "before"
  hook with the outcome and reason, and its own steps keep their real status
- workplan outcomes on a step (blocked, missing) read as failed
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from suite.reports import write_all

Record = dict[str, Any]
STATUSES = {"passed", "failed", "skipped", "pending", "undefined"}


def written(record: Record, tmp_path: Path) -> list[dict[str, Any]]:
    write_all(record, tmp_path, [])
    return json.loads((tmp_path / "cucumber.json").read_text(encoding="utf-8"))


def elements(features: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for f in features for e in f["elements"]}


def test_feature_and_scenario_shape(fresh: Record, tmp_path: Path) -> None:
    features = written(fresh, tmp_path)

    assert isinstance(features, list)
    assert len(features) == len({s["feature"] for s in fresh["scenarios"]})
    for feature in features:
        assert {"uri", "id", "keyword", "name", "line", "tags", "elements"} <= set(feature)
        assert feature["keyword"] == "Feature" and feature["uri"].endswith(".feature")
        for element in feature["elements"]:
            assert element["type"] == "scenario" and element["keyword"] == "Scenario"
            assert element["id"].startswith(feature["id"] + ";")
            assert isinstance(element["line"], int)
            for tag in element["tags"]:
                assert tag["name"].startswith("@") and isinstance(tag["line"], int)
            for step in element["steps"]:
                assert step["keyword"].endswith(" ") and step["name"]
                assert isinstance(step["line"], int) and "location" in step["match"]
                assert step["result"]["status"] in STATUSES
                assert isinstance(step["result"]["duration"], int)


def test_durations_are_nanoseconds_and_lines_come_from_the_record(converged: Record,
                                                                  tmp_path: Path) -> None:
    scenario = converged["scenarios"][0]
    element = elements(written(converged, tmp_path))[scenario["name"]]

    assert element["steps"][1]["result"]["duration"] == 300_000_000
    assert element["steps"][0]["line"] == scenario["steps"][0]["line"]
    assert element["line"] == scenario["line"]
    assert {"name": "@smoke", "line": scenario["line"] - 1} in element["tags"]


def test_failed_step_carries_the_reason(failing: Record, tmp_path: Path) -> None:
    element = elements(written(failing, tmp_path))["Login at /admin/ succeeds"]
    failed = [s for s in element["steps"] if s["result"]["status"] == "failed"]

    assert len(failed) == 1
    assert failed[0]["result"]["error_message"].startswith("FAILED: CSRF origin check failed")
    assert "Next: put https:// in front" in failed[0]["result"]["error_message"]
    assert "before" not in element


def test_not_evaluated_scenario_fails_through_a_before_hook(fresh: Record,
                                                            tmp_path: Path) -> None:
    element = elements(written(fresh, tmp_path))["Login at /admin/ succeeds"]

    assert {s["result"]["status"] for s in element["steps"]} == {"skipped"}
    assert element["before"][0]["result"]["status"] == "failed"
    assert element["before"][0]["result"]["error_message"].startswith("NOT EVALUATED: depends")


def test_workplan_outcomes_on_steps_read_as_failed(fresh: Record, tmp_path: Path) -> None:
    found = elements(written(fresh, tmp_path))
    blocked = found["An A record points the app host at the node's public address"]

    assert blocked["steps"][-1]["result"]["status"] == "failed"
    assert "Who must act: DNS owner of whywhynot.de" in \
        blocked["steps"][-1]["result"]["error_message"]


def test_scenario_without_steps_or_line(converged: Record, tmp_path: Path) -> None:
    converged["scenarios"][0].update(steps=[], outcome="missing", reason="nothing there")
    del converged["scenarios"][0]["line"]

    element = elements(written(converged, tmp_path))[converged["scenarios"][0]["name"]]

    assert element["line"] == 1 and element["steps"] == []
    assert element["before"][0]["result"]["error_message"] == "MISSING: nothing there"
