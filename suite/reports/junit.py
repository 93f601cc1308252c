"""``junit.xml``: one testcase per scenario, in the JUnit dialect CI servers read.

One testsuite per feature; a testcase's classname is the feature and its name the
scenario.  Missing, blocked and not evaluated scenarios are failures for CI, their
``type`` attribute naming the outcome, so a red build says why without opening the gate.
The file validates against ``junit.xsd`` beside this module.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from suite.reports import record as rec

XSD_FILE = Path(__file__).with_name("junit.xsd")

#: XML 1.0 cannot carry these characters at all, not even escaped.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(value: object) -> str:
    """Text XML 1.0 accepts: forbidden control characters become U+FFFD."""
    return _NOT_XML.sub("\ufffd", str(value if value is not None else ""))


def message_line(value: object, limit: int = 300) -> str:
    """The first line of a reason, bounded: attribute values stay readable in CI lists."""
    first = clean(value).strip().splitlines()[0] if clean(value).strip() else ""
    return first if len(first) <= limit else first[: limit - 1] + "…"


def render(record: Mapping[str, Any]) -> bytes:
    """The JUnit document for a run record, as UTF-8 bytes with an XML declaration."""
    rec.require_record(record)
    features: dict[str, list[Mapping[str, Any]]] = {}
    for scenario in rec.scenarios(record):
        features.setdefault(str(scenario.get("feature") or "(no feature)"), []).append(scenario)

    root = ET.Element("testsuites", name=f"vergabe-acceptance {_workplan_id(record)}")
    for index, (feature, members) in enumerate(features.items()):
        root.append(_suite(record, index, feature, members))
    _count(root, list(root))
    root.set("time", _seconds(record.get("duration_s")))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _workplan_id(record: Mapping[str, Any]) -> str:
    return str(rec.workplan(record).get("id") or "")


def _timestamp(value: object) -> str:
    """ISO 8601 to the second, or nothing when the record's time cannot be read."""
    try:
        return datetime.fromisoformat(str(value)).isoformat(timespec="seconds")
    except ValueError:
        return ""


def _seconds(value: object) -> str:
    return f"{rec.seconds(value):.3f}"


def _suite(record: Mapping[str, Any], index: int, feature: str,
           members: Sequence[Mapping[str, Any]]) -> ET.Element:
    target = record.get("target") or {}
    suite = ET.Element("testsuite", name=clean(feature), id=str(index),
                       package=clean(members[0].get("feature_file") or ""),
                       hostname=clean(target.get("name") or "unknown"))
    started = _timestamp(record.get("started"))
    if started:
        suite.set("timestamp", started)
    properties = ET.SubElement(suite, "properties")
    for name, value in (("workplan", _workplan_id(record)),
                        ("target", target.get("name", "")),
                        ("production", str(bool(target.get("production"))).lower()),
                        ("suite_version", record.get("suite_version", ""))):
        ET.SubElement(properties, "property", name=name, value=clean(value))
    cases = [_case(record, feature, scenario) for scenario in members]
    suite.extend(cases)
    _count(suite, cases)
    suite.set("time", _seconds(sum(rec.seconds(s.get("duration_s")) for s in members)))
    return suite


def _count(element: ET.Element, children: Sequence[ET.Element]) -> None:
    """Set tests/failures/errors/skipped from testcases or from nested testsuites."""
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for child in children:
        if child.tag == "testsuite":
            for key in totals:
                totals[key] += int(child.get(key, "0"))
            continue
        totals["tests"] += 1
        totals["failures"] += child.find("failure") is not None
        totals["errors"] += child.find("error") is not None
        totals["skipped"] += child.find("skipped") is not None
    for key, value in totals.items():
        element.set(key, str(value))


def _case(record: Mapping[str, Any], feature: str, scenario: Mapping[str, Any]) -> ET.Element:
    case = ET.Element("testcase", classname=clean(feature), name=clean(scenario.get("name", "")),
                      time=_seconds(scenario.get("duration_s")))
    if scenario.get("feature_file"):
        case.set("file", clean(scenario["feature_file"]))
    if isinstance(scenario.get("line"), int):
        case.set("line", str(scenario["line"]))

    outcome = rec.outcome(scenario)
    properties = ET.SubElement(case, "properties")
    wp_id = _workplan_id(record)
    ET.SubElement(properties, "property", name="workplan", value=clean(wp_id))
    for item in rec.item_ids(scenario):
        name = "task" if item.startswith("T") and item[1:].isdigit() else "item"
        ET.SubElement(properties, "property", name=name, value=clean(item))
        if name == "task" and wp_id:
            ET.SubElement(properties, "property", name="wp_task", value=clean(f"{wp_id}-{item}"))
    ET.SubElement(properties, "property", name="outcome", value=outcome)
    for tag in rec.tags(scenario):
        ET.SubElement(properties, "property", name="tag", value=clean(tag))

    body = _explanation(scenario)
    if outcome in rec.NOT_DONE:
        failure = ET.SubElement(case, "failure", type=outcome,
                                message=message_line(f"{rec.label(outcome)}: "
                                                     f"{scenario.get('reason') or ''}"))
        failure.text = body
    elif outcome == rec.SKIPPED:
        skipped = ET.SubElement(case, "skipped", message=message_line(scenario.get("reason")))
        skipped.text = body
    ET.SubElement(case, "system-out").text = _steps(scenario)
    return case


def _explanation(scenario: Mapping[str, Any]) -> str:
    lines = [clean(scenario.get("reason") or "(no reason recorded)")]
    if scenario.get("next_action"):
        lines.append(f"Next: {clean(scenario['next_action'])}")
    if scenario.get("who"):
        lines.append(f"Who must act: {clean(scenario['who'])}")
    where = scenario.get("feature_file")
    if where:
        lines.append(f"Where: {clean(where)}:{scenario.get('line', '?')}")
    return "\n".join(lines)


def _steps(scenario: Mapping[str, Any]) -> str:
    lines = [f"{rec.label(rec.outcome(scenario)).upper()}: {clean(scenario.get('name', ''))}"]
    for step in scenario.get("steps") or []:
        lines.append(f"  [{clean(step.get('outcome', '?')):>7}] {clean(step.get('keyword', ''))} "
                     f"{clean(step.get('text', ''))} ({rec.duration_text(step.get('duration_s'))})")
    return "\n".join(lines)
