"""The workplan document, read into tasks, completion criteria, safety rules and targets.

The suite reads the workplan's own markdown so that reports quote its words; the ids
(T01…T08, C1…, S1…, TS1…) are what features and the traceability table refer to.
Parsing is deliberately plain: headings `### Tnn — title`, a `Done when:` line per task,
and the bullet lists under `## Safety Contract`, `## Target State`, `## Completion Criteria`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from suite.errors import TargetError

WORKPLAN_ID = "RAILIANCE-WP-0002"


@dataclass
class Task:
    id: str
    title: str
    done_when: str = ""
    body: str = ""

    @property
    def wp_id(self) -> str:
        return f"{WORKPLAN_ID}-{self.id}"


@dataclass
class Workplan:
    id: str
    title: str
    goal: str
    tasks: dict[str, Task] = field(default_factory=dict)
    completion_criteria: dict[str, str] = field(default_factory=dict)
    safety_contract: dict[str, str] = field(default_factory=dict)
    target_state: dict[str, str] = field(default_factory=dict)
    source: Path | None = None

    def items(self) -> dict[str, str]:
        """Every traceable item id with its text."""
        out = {tid: f"{t.title} — done when: {t.done_when}" for tid, t in self.tasks.items()}
        out.update(self.completion_criteria)
        out.update(self.safety_contract)
        out.update(self.target_state)
        return out


def _section(text: str, heading: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    return match.group(1) if match else ""


def _bullets(block: str, prefix: str) -> dict[str, str]:
    items: list[str] = []
    for line in block.splitlines():
        if line.startswith("- "):
            items.append(line[2:].strip())
        elif line.startswith("  ") and items:
            items[-1] += " " + line.strip()
    return {f"{prefix}{n}": item for n, item in enumerate(items, start=1)}


def parse(text: str, source: Path | None = None) -> Workplan:
    title_match = re.search(r"^# (.+)$", text, re.M)
    goal = " ".join(_section(text, "Goal").split())
    plan = Workplan(id=WORKPLAN_ID, title=title_match.group(1) if title_match else WORKPLAN_ID,
                    goal=goal, source=source)
    for match in re.finditer(r"^### (T\d\d) — (.+?)\n(.*?)(?=^### |^## |\Z)", text, re.M | re.S):
        body = match.group(3)
        done = re.search(r"^Done when: (.+?)(?:\n\n|\Z)", body, re.M | re.S)
        plan.tasks[match.group(1)] = Task(
            id=match.group(1), title=match.group(2).strip(),
            done_when=" ".join(done.group(1).split()) if done else "", body=body.strip())
    plan.completion_criteria = _bullets(_section(text, "Completion Criteria"), "C")
    plan.safety_contract = _bullets(_section(text, "Safety Contract"), "S")
    plan.target_state = _bullets(_section(text, "Target State"), "TS")
    return plan


def load(path: Path) -> Workplan:
    try:
        text = path.read_text()
    except OSError as exc:
        raise TargetError(f"the workplan {path} cannot be read ({exc.strerror}). Set "
                          "[target] workplan in the target file to the workplan's path.") from None
    plan = parse(text, path)
    if len(plan.tasks) < 1:
        raise TargetError(f"the workplan {path} has no task headings of the form "
                          "'### T01 — title'; is it the right file?")
    return plan
