"""``gate.md``: the gate written for the operator who opens the CI artifact first.

Same content as ``gate.json``, read top down: the verdict in one line, the run's
metadata, every task with its status and the status it should now carry in the
workplan's table, the completion criteria, who must act, and what provisioning changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from suite.reports import record as rec
from suite.reports.gate import DONE, NOT_COVERED, NOT_REQUESTED, status_label


def text(value: object) -> str:
    """One line of markdown-safe text: no table breaks, no raw HTML tags."""
    flat = " ".join(str(value if value is not None else "").split())
    return flat.replace("|", "\\|").replace("<", "&lt;")


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(text(cell) for cell in row) + " |" for row in rows]
    return lines


def status_word(status: str) -> str:
    shown = status_label(status)
    return shown if status in (NOT_REQUESTED, NOT_COVERED) else f"**{shown}**"


def render(gate: Mapping[str, Any]) -> str:
    """The whole gate as markdown."""
    lines = [f"# Gate {text(gate['workplan']['id'])}: {gate['verdict']}", "",
             f"> {text(gate['summary'])}", ""]
    lines += _metadata(gate)
    lines += _tasks(gate)
    lines += _criteria(gate)
    lines += _blocked(gate)
    lines += _changes(gate)
    lines += _planned(gate)
    return "\n".join(lines).rstrip() + "\n"


def scope_text(scope: Mapping[str, Any]) -> str:
    if scope["kind"] == "subset":
        return "subset " + ", ".join(scope["subset"] or [])
    if scope["kind"] == "marker":
        return f"scenarios marked `{scope['markexpr']}`"
    return "the whole workplan"


def mode_text(run: Mapping[str, Any]) -> str:
    if run["plan"]:
        return "plan (shows what provisioning would change, changes nothing)"
    if run["provision"]:
        return "provision (creates what is missing, then proves it)"
    return "check only (changes nothing)"


def target_text(target: Mapping[str, Any]) -> str:
    kind = "production" if target.get("production") else "not production"
    description = f" — {target['description']}" if target.get("description") else ""
    return f"{target.get('name', '?')}{description} ({kind})"


def _metadata(gate: Mapping[str, Any]) -> list[str]:
    run, target = gate["run"], gate["target"]
    repos = "; ".join(f"{r['name']} {r['commit'] or '(no commit)'}"
                      + (f" on {r['branch']}" if r["branch"] else "")
                      for r in gate["repositories"]) or "(none recorded)"
    counts = ", ".join(f"{n} {rec.label(o)}" for o, n in gate["counts"].items() if n)
    rows = [
        ("Target", target_text(target)),
        ("Cluster", f"{target.get('cluster') or '(address not recorded)'} "
                    f"(context {target.get('context') or '?'})"),
        ("App host", target.get("host", "")),
        ("Run", f"{run['started']} → {run['finished']} ({rec.duration_text(run['duration_s'])})"),
        ("Suite version", run["suite_version"]),
        ("Scope", scope_text(gate["scope"])),
        ("Mode", mode_text(run)),
        ("Repositories", repos),
        ("Scenarios", counts or "none"),
    ]
    return table(("", ""), rows) + [""]


def _tasks(gate: Mapping[str, Any]) -> list[str]:
    rows = []
    for task in gate["tasks"]:
        wp = task["workplan_status"]
        move = wp["suggested"] if wp["current"] == wp["suggested"] else \
            f"{wp['current']} → {wp['suggested']}"
        rows.append((task["id"], task["text"], status_label(task["status"]), move))
    lines = ["## Tasks", ""]
    lines += table(("Task", "Title", "Gate", "Workplan table: now → should be"), rows)
    lines += [""]
    for task in gate["tasks"]:
        if task["status"] not in (DONE, NOT_REQUESTED):
            lines += _open_item(task, f"{task['id']} — {task['text']}")
    return lines


def _open_item(item: Mapping[str, Any], heading: str) -> list[str]:
    lines = [f"### {text(heading)}: {status_word(item['status'])}", "",
             f"- Reason: {text(item['reason'])}"]
    if item.get("done_when"):
        lines.append(f"- Done when: {text(item['done_when'])}")
    if item["next_action"]:
        lines.append(f"- Next: {text(item['next_action'])}")
    if item["who"] and item["status"] == rec.BLOCKED:
        lines.append(f"- Who must act: {text(item['who'])}")
    if item.get("workplan_status"):
        lines.append(f"- Workplan status: {text(item['workplan_status']['why'])}")
    others = item["problems"][1:]
    if others:
        lines.append(f"- Also not done ({len(others)}):")
        lines += [f"  - {text(p['scenario'])}: {rec.label(p['outcome'])} — {text(p['reason'])}"
                  for p in others]
    return lines + [""]


def _criteria(gate: Mapping[str, Any]) -> list[str]:
    lines = ["## Completion criteria", ""]
    lines += table(("Criterion", "Text", "Gate", "Reason"),
                   [(c["id"], c["text"], status_label(c["status"]),
                     "" if c["status"] == DONE else c["reason"])
                    for c in gate["completion_criteria"]])
    lines += [""]
    for name, title in (("safety_contract", "Safety contract"), ("target_state", "Target state")):
        entries = gate[name]
        if entries:
            lines += [f"## {title}", ""]
            lines += table(("Item", "Text", "Gate"),
                           [(e["id"], e["text"], status_label(e["status"])) for e in entries])
            lines += [""]
    return lines


def _blocked(gate: Mapping[str, Any]) -> list[str]:
    if not gate["blocked"]:
        return []
    lines = ["## Who must act", ""]
    for entry in gate["blocked"]:
        items = ", ".join(entry["items"]) or "no item"
        lines.append(f"- **{text(entry['who'])}**: {text(entry['next_action'] or entry['reason'])}"
                     f" (waiting: {text(items)})")
    return lines + [""]


def _changes(gate: Mapping[str, Any]) -> list[str]:
    changed = [c for c in gate["changes"] if c["action"] != "nothing"]
    unchanged = len(gate["changes"]) - len(changed)
    lines = ["## Provisioning changes in this run", ""]
    if not gate["changes"]:
        return lines + ["Provisioning touched nothing in this run.", ""]
    if changed:
        lines += table(("Provisioner", "Object", "Action", "Applied", "For"),
                       [(c["provisioner"], c["object"], c["action"],
                         "yes" if c["applied"] else "no (plan)", ", ".join(c["tasks"]))
                        for c in changed])
        lines += [""]
    if unchanged:
        lines += [f"{unchanged} object(s) were already as wanted (no change).", ""]
    return lines


def _planned(gate: Mapping[str, Any]) -> list[str]:
    planned = [c for c in gate["planned"] if c["action"] != "nothing"]
    if not gate["planned"]:
        return []
    lines = ["## Provisioning plan (nothing was changed)", ""]
    if not planned:
        return lines + ["Provisioning would change nothing: everything is as wanted.", ""]
    lines += table(("Provisioner", "Object", "Would", "For"),
                   [(c["provisioner"], c["object"], c["action"], ", ".join(c["tasks"]))
                    for c in planned])
    return lines + [""]
