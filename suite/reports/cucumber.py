"""``cucumber.json``: the run in the Cucumber JSON shape that Gherkin report tools read.

A list of features, each with its scenarios as ``elements`` and their steps with
``result.status`` and ``result.duration`` in nanoseconds.  A scenario that is missing,
blocked or not evaluated without a failed step of its own gets a failed ``before`` hook
carrying the reason, so tools count it as not passing while its steps stay truthful.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from suite.reports import record as rec

#: Cucumber knows passed, failed, skipped (and pending, undefined); a step that ended the
#: scenario as missing, blocked or not evaluated did not pass, so it is failed there.
_STEP_STATUS = {"passed": "passed", "failed": "failed", "skipped": "skipped",
                "missing": "failed", "blocked": "failed", "not_evaluated": "failed"}


def slug(value: object) -> str:
    """Cucumber's id style: lower case, dashes for anything else."""
    return re.sub(r"[^a-z0-9]+", "-", str(value).lower()).strip("-") or "unnamed"


def nanoseconds(value: object) -> int:
    return round(rec.seconds(value) * 1_000_000_000)


def render(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The Cucumber JSON document (a list) for a run record."""
    rec.require_record(record)
    features: dict[str, dict[str, Any]] = {}
    for scenario in rec.scenarios(record):
        name = str(scenario.get("feature") or "(no feature)")
        feature = features.get(name)
        if feature is None:
            feature = features[name] = _feature(name, scenario)
        feature["elements"].append(_element(feature["id"], scenario))
    return list(features.values())


def _feature(name: str, first: Mapping[str, Any]) -> dict[str, Any]:
    uri = str(first.get("feature_file") or "")
    return {"uri": uri, "id": slug(name), "keyword": "Feature", "name": name,
            "description": "", "line": 1, "tags": [], "elements": []}


def _element(feature_id: str, scenario: Mapping[str, Any]) -> dict[str, Any]:
    line = scenario["line"] if isinstance(scenario.get("line"), int) else 1
    tag_line = max(int(scenario.get("tags_line") or line - 1), 1)
    steps = [_step(index, line, step) for index, step in enumerate(scenario.get("steps") or [])]
    element: dict[str, Any] = {
        "id": f"{feature_id};{slug(scenario.get('name', ''))}",
        "keyword": "Scenario",
        "name": str(scenario.get("name", "")),
        "description": "",
        "line": line,
        "type": "scenario",
        "tags": [{"name": f"@{tag}", "line": tag_line} for tag in rec.tags(scenario)],
        "steps": steps,
    }

    outcome = rec.outcome(scenario)
    if outcome in rec.NOT_DONE:
        message = _message(scenario)
        failed = [step for step in steps if step["result"]["status"] == "failed"]
        if failed:
            failed[0]["result"]["error_message"] = message
        else:
            element["before"] = [{"match": {"location": "vergabe-acceptance outcome"},
                                  "result": {"status": "failed", "duration": 0,
                                             "error_message": message}}]
    return element


def _step(index: int, scenario_line: int, step: Mapping[str, Any]) -> dict[str, Any]:
    status = _STEP_STATUS.get(str(step.get("outcome", "")), "undefined")
    line = step["line"] if isinstance(step.get("line"), int) else scenario_line + 1 + index
    return {"keyword": f"{str(step.get('keyword', '')).strip()} ",
            "name": str(step.get("text", "")),
            "line": line,
            "match": {"location": f"step {index + 1}"},
            "result": {"status": status, "duration": nanoseconds(step.get("duration_s"))}}


def _message(scenario: Mapping[str, Any]) -> str:
    parts = [f"{rec.label(rec.outcome(scenario)).upper()}: "
             f"{scenario.get('reason') or '(no reason recorded)'}"]
    if scenario.get("next_action"):
        parts.append(f"Next: {scenario['next_action']}")
    if scenario.get("who"):
        parts.append(f"Who must act: {scenario['who']}")
    return "\n".join(parts)
