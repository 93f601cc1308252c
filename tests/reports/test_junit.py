"""junit.xml against the project's JUnit XSD, and what CI reads from it.

Aspects:
- junit.xsd is a valid XML Schema; junit.xml of every kind of run validates against it
  (loaded with access to nothing outside its own folder)
- the XSD rejects a testcase without a name and a failure in the wrong place
- one testcase per scenario; classname is the feature, name the scenario
- testcase properties: workplan id, task id(s), other items, outcome, tags
- missing, blocked and not evaluated are failures whose type names the outcome; skipped
  is <skipped>; the counts on testsuite and testsuites add up
- characters XML cannot carry are replaced, so an odd message never breaks the file
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import xmlschema

from suite.reports import junit, write_all

Record = dict[str, Any]


@pytest.fixture(scope="module")
def xsd() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(junit.XSD_FILE), allow="sandbox")


def written(record: Record, tmp_path: Path) -> Path:
    write_all(record, tmp_path, [])
    return tmp_path / "junit.xml"


def parsed(record: Record, tmp_path: Path) -> ET.Element:
    """The JUnit root this run wrote (our own output, so the stdlib parser is fine)."""
    return ET.parse(written(record, tmp_path)).getroot()  # noqa: S314 - written just now by us


@pytest.mark.parametrize("kind", ["fresh", "converged", "failing", "smoke", "subset"])
def test_junit_validates_against_the_xsd(kind: str, records: dict[str, Callable[..., Record]],
                                         xsd: xmlschema.XMLSchema, tmp_path: Path) -> None:
    path = written(records[kind](), tmp_path)

    xsd.validate(str(path))


@pytest.mark.parametrize("broken", [
    '<testsuites><testsuite name="f" tests="1" failures="0" errors="0">'
    '<testcase classname="f"/></testsuite></testsuites>',
    '<testsuites><testsuite name="f" tests="1" failures="1" errors="0">'
    '<testcase name="n" classname="f"><system-out>x</system-out><failure/></testcase>'
    "</testsuite></testsuites>",
])
def test_xsd_rejects_malformed_junit(broken: str, xsd: xmlschema.XMLSchema,
                                     tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(broken, encoding="utf-8")

    assert not xsd.is_valid(str(path))


def test_one_testcase_per_scenario(failing: Record, tmp_path: Path) -> None:
    root = parsed(failing, tmp_path)
    cases = root.findall("./testsuite/testcase")

    assert len(cases) == len(failing["scenarios"])
    for case, scenario in zip(cases, failing["scenarios"], strict=True):
        assert case.get("classname") == scenario["feature"]
        assert case.get("name") == scenario["name"]
        assert case.get("file") == scenario["feature_file"]


def test_testcase_properties(failing: Record, tmp_path: Path) -> None:
    root = parsed(failing, tmp_path)
    case = next(c for c in root.iter("testcase") if c.get("name") == "Login at /admin/ succeeds")
    properties = [(p.get("name"), p.get("value")) for p in case.iter("property")]

    assert ("workplan", "RAILIANCE-WP-0002") in properties
    assert ("task", "T07") in properties
    assert ("wp_task", "RAILIANCE-WP-0002-T07") in properties
    assert ("item", "C5") in properties
    assert ("outcome", "failed") in properties
    assert ("tag", "browser") in properties


def test_workplan_outcomes_are_failures_named_by_type(fresh: Record, tmp_path: Path) -> None:
    fresh["scenarios"][0].update(outcome="skipped", reason="not on this target")
    root = parsed(fresh, tmp_path)

    types: dict[str | None, str | None] = {}
    for case in root.iter("testcase"):
        failure = case.find("failure")
        types[case.get("name")] = failure.get("type") if failure is not None else None
    skipped = [c.get("name") for c in root.iter("testcase") if c.find("skipped") is not None]

    assert types["The image builds and answers a smoke request locally"] == "missing"
    assert types["An A record points the app host at the node's public address"] == "blocked"
    assert types["Login at /admin/ succeeds"] == "not_evaluated"
    assert types["The registry answers with an OCI auth challenge"] is None
    assert skipped == [fresh["scenarios"][0]["name"]]
    blocked = next(c for c in root.iter("testcase") if types[c.get("name")] == "blocked")
    failure = blocked.find("failure")
    assert failure is not None
    assert "Who must act: DNS owner of whywhynot.de" in (failure.text or "")
    assert "Next: add the A record" in (failure.text or "")
    assert failure.get("message", "").startswith("blocked: expected an A record")


def test_counts_add_up(fresh: Record, tmp_path: Path) -> None:
    root = parsed(fresh, tmp_path)

    assert root.get("tests") == str(len(fresh["scenarios"]))
    assert root.get("failures") == "10"
    assert root.get("errors") == "0"
    per_suite = [int(s.get("tests", "0")) for s in root.findall("testsuite")]
    assert sum(per_suite) == len(fresh["scenarios"])


def test_characters_xml_cannot_carry_are_replaced(failing: Record, xsd: xmlschema.XMLSchema,
                                                  tmp_path: Path) -> None:
    failing["scenarios"][0].update(outcome="failed", reason="bell \x07 and escape \x1b[31m")

    path = written(failing, tmp_path)

    xsd.validate(str(path))
    assert "bell \ufffd and escape \ufffd[31m" in path.read_text(encoding="utf-8")
