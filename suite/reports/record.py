"""The run record as the reports read it: outcomes, item ids, and tolerant accessors.

The pytest plugin writes one record per session (``run.json``); every report is derived
from it alone, so a kept record regenerates the same reports later.  The accessors here
fill in defaults rather than fail, because a report with a gap is worth more at the end
of a long run than none; :func:`check_record` lists the gaps for the log.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from suite.errors import SuiteError

RECORD_SCHEMA = "vergabe-acceptance/run/1"
SCHEMA_FILE = Path(__file__).with_name("run.schema.json")

PASSED = "passed"
FAILED = "failed"
MISSING = "missing"
BLOCKED = "blocked"
NOT_EVALUATED = "not_evaluated"
SKIPPED = "skipped"

#: Scenario outcomes, best first.
OUTCOMES: tuple[str, ...] = (PASSED, FAILED, MISSING, BLOCKED, NOT_EVALUATED, SKIPPED)
#: Outcomes that count against the gate (and as failures in JUnit).
NOT_DONE: tuple[str, ...] = (FAILED, MISSING, BLOCKED, NOT_EVALUATED)

#: How an outcome is written for people.
LABELS: dict[str, str] = {
    PASSED: "passed",
    FAILED: "failed",
    MISSING: "missing",
    BLOCKED: "blocked",
    NOT_EVALUATED: "not evaluated",
    SKIPPED: "skipped",
}

#: Item id prefixes and the workplan section they come from.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("tasks", "T"),
    ("completion_criteria", "C"),
    ("safety_contract", "S"),
    ("target_state", "TS"),
)


class RecordInvalid(SuiteError):
    """The run record cannot be read as a record of this suite."""


def load_record(path: Path) -> dict[str, Any]:
    """Read a kept ``run.json``; the error says which file and what was found."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RecordInvalid(
            f"expected a run record at {path}, found none ({error.strerror}); "
            "next: pass the run.json that a suite run wrote into its reports directory"
        ) from error
    except ValueError as error:
        raise RecordInvalid(
            f"expected JSON in {path}, found a syntax error ({error}); "
            "next: regenerate it with a suite run, it is not meant to be edited by hand"
        ) from error
    require_record(record, str(path))
    return record


def require_record(record: object, where: str = "the run record") -> None:
    """Refuse what is not a run record of this suite's version."""
    if not isinstance(record, dict):
        raise RecordInvalid(
            f"expected {where} to be a JSON object, found {type(record).__name__}; "
            "next: pass the record the suite's plugin wrote"
        )
    found = record.get("schema")
    if found != RECORD_SCHEMA:
        raise RecordInvalid(
            f"expected {where} to declare schema {RECORD_SCHEMA!r}, found {found!r}; "
            "next: regenerate the reports with the suite version that wrote the record"
        )


@lru_cache(maxsize=1)
def _record_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def check_record(record: Mapping[str, Any]) -> list[str]:
    """Every place where the record departs from ``run.schema.json`` (empty: none)."""
    problems = []
    for error in sorted(_record_validator().iter_errors(record), key=lambda e: list(e.path)):
        where = "/".join(str(part) for part in error.absolute_path) or "(top)"
        problems.append(f"{where}: {error.message}")
    return problems


def workplan(record: Mapping[str, Any]) -> Mapping[str, Any]:
    return record.get("workplan") or {}


def section(record: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    """The items of one workplan section (``tasks``, ``completion_criteria``, …)."""
    return [item for item in workplan(record).get(name) or [] if isinstance(item, Mapping)]


def scenarios(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [s for s in record.get("scenarios") or [] if isinstance(s, Mapping)]


def outcome(scenario: Mapping[str, Any]) -> str:
    """The scenario's outcome; an unknown word counts as failed, never as passed."""
    found = str(scenario.get("outcome", "")).strip().lower().replace(" ", "_")
    return found if found in OUTCOMES else FAILED


def item_ids(scenario: Mapping[str, Any]) -> list[str]:
    """Workplan items a scenario proves: its ``items``, else its ``tasks``, else id-like tags."""
    items = scenario.get("items") or scenario.get("tasks")
    if not items:
        items = [tag for tag in scenario.get("tags") or [] if is_item_id(str(tag).lstrip("@"))]
        items = [str(tag).lstrip("@") for tag in items]
    return [str(item) for item in items]


def is_item_id(text: str) -> bool:
    for _, prefix in SECTIONS:
        rest = text[len(prefix):]
        if text.startswith(prefix) and rest.isdigit():
            return True
    return False


def tags(scenario: Mapping[str, Any]) -> list[str]:
    return [str(tag).lstrip("@") for tag in scenario.get("tags") or []]


def scenarios_for(record: Mapping[str, Any], item: str) -> list[Mapping[str, Any]]:
    return [s for s in scenarios(record) if item in item_ids(s)]


def label(value: str) -> str:
    return LABELS.get(value, value.replace("_", " "))


def seconds(value: object) -> float:
    try:
        return max(float(value), 0.0)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0


def duration_text(value: object) -> str:
    """``40 ms``, ``12.0 s``, ``3 min 05 s``: short and exact enough for people."""
    total = seconds(value)
    if total < 1:
        return f"{total * 1000:.0f} ms"
    if total < 60:
        return f"{total:.1f} s"
    minutes, rest = divmod(round(total), 60)
    return f"{minutes} min {rest:02d} s"
