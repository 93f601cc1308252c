"""The gate: per workplan item done or not, the overall verdict, and the workplan's statuses.

The gate answers one question for the operator and for CI: is what this run was asked to
prove done?  An item (task, completion criterion, safety rule, target state) takes the
worst outcome of the scenarios that prove it.  Items outside the requested subset are
"not requested", never failures.  The verdict is PASS only when every requested item is
done; anything missing, blocked, failed or not evaluated makes it FAIL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from suite.reports import record as rec

GATE_SCHEMA = "vergabe-acceptance/gate/1"

DONE = "done"
NOT_REQUESTED = "not_requested"
NOT_COVERED = "not_covered"

#: Worst first: the status an item takes when its scenarios disagree.
SEVERITY: tuple[str, ...] = (rec.FAILED, rec.BLOCKED, rec.MISSING, rec.NOT_EVALUATED)

STATUS_LABELS: dict[str, str] = {
    DONE: "done",
    NOT_REQUESTED: "not requested",
    NOT_COVERED: "not covered",
}

#: The four statuses of the workplan's own table.
TODO, IN_PROGRESS, WP_DONE, WP_BLOCKED = "todo", "in progress", "done", "blocked"

#: Which task a provisioner works for, when a change does not say so itself.
PROVISIONER_TASKS: dict[str, str] = {
    "inventory": "T01",
    "dockerfile": "T02",
    "image": "T03",
    "registry": "T03",
    "database": "T04",
    "helm": "T05",
    "release": "T05",
    "values": "T05",
    "sops": "T05",
    "dns": "T06",
    "ingress": "T06",
    "tls": "T06",
    "certificate": "T06",
    "migration": "T07",
    "seed": "T07",
    "superuser": "T07",
    "app": "T07",
    "docs": "T08",
    "runbook": "T08",
}

CHANGED = ("create", "update", "delete")


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, rec.label(status))


def gate_passed(record: Mapping[str, Any]) -> bool:
    """True only if every item the run was asked to prove is done (the exit code's source)."""
    return build_gate(record)["verdict"] == "PASS"


def build_gate(record: Mapping[str, Any]) -> dict[str, Any]:
    """The gate as a JSON-ready dict, shaped by ``gate.schema.json``."""
    rec.require_record(record)
    scope = requested_scope(record)
    changes = [_change(c, record) for c in record.get("changes") or [] if isinstance(c, Mapping)]
    planned = [_change(c, record, applied=False)
               for c in record.get("planned") or [] if isinstance(c, Mapping)]

    sections: dict[str, list[dict[str, Any]]] = {}
    for name, _ in rec.SECTIONS:
        sections[name] = [_item(record, item, name, scope) for item in rec.section(record, name)]
    for task in sections["tasks"]:
        task["workplan_status"] = workplan_status(record, task, changes)

    requested = [item for entries in sections.values() for item in entries if item["requested"]]
    verdict = "PASS" if requested and all(i["status"] == DONE for i in requested) else "FAIL"
    return {
        "schema": GATE_SCHEMA,
        "verdict": verdict,
        "summary": _summary(verdict, requested),
        "scope": scope,
        "target": dict(record.get("target") or {}),
        "run": _run(record),
        "workplan": {"id": rec.workplan(record).get("id", ""),
                     "title": rec.workplan(record).get("title", "")},
        "repositories": _repositories(record),
        "counts": _counts(record),
        "tasks": sections["tasks"],
        "completion_criteria": sections["completion_criteria"],
        "safety_contract": sections["safety_contract"],
        "target_state": sections["target_state"],
        "blocked": _blocked(record),
        "changes": changes,
        "planned": planned,
    }


def requested_scope(record: Mapping[str, Any]) -> dict[str, Any]:
    """What the run was asked to prove: all of it, a list of items, or a marker's share."""
    options = record.get("options") or {}
    subset = [str(part) for part in options.get("subset") or []]
    markexpr = str(options.get("markexpr") or "").strip()
    ran = [s for s in rec.scenarios(record) if rec.outcome(s) != rec.SKIPPED]

    if subset:
        ids = {part for part in subset if rec.is_item_id(part)}
        words = {part for part in subset if not rec.is_item_id(part)}
        for scenario in ran:
            if words & set(rec.tags(scenario)):
                ids.update(rec.item_ids(scenario))
        return {"kind": "subset", "subset": subset, "markexpr": markexpr,
                "requested": _ordered(ids)}
    if markexpr:
        ids = {item for scenario in ran for item in rec.item_ids(scenario)}
        return {"kind": "marker", "subset": None, "markexpr": markexpr,
                "requested": _ordered(ids)}

    ids = {str(item.get("id")) for name in ("tasks", "completion_criteria")
           for item in rec.section(record, name)}
    ids.update(item for scenario in ran for item in rec.item_ids(scenario))
    return {"kind": "full", "subset": None, "markexpr": "", "requested": _ordered(ids)}


def _ordered(ids: set[str]) -> list[str]:
    """Workplan item ids in the workplan's order (T, C, S, TS); anything else is dropped."""
    return sorted((i for i in ids if rec.is_item_id(i)), key=_item_order)


def _item_order(item: str) -> tuple[int, int, str]:
    prefixes = [prefix for _, prefix in rec.SECTIONS]
    for rank, prefix in sorted(enumerate(prefixes), key=lambda p: -len(p[1])):
        if item.startswith(prefix) and item[len(prefix):].isdigit():
            return rank, int(item[len(prefix):]), item
    return len(prefixes), 0, item


def _item(record: Mapping[str, Any], item: Mapping[str, Any], section: str,
          scope: Mapping[str, Any]) -> dict[str, Any]:
    item_id = str(item.get("id", ""))
    found = rec.scenarios_for(record, item_id)
    counts = {outcome: 0 for outcome in rec.OUTCOMES}
    for scenario in found:
        counts[rec.outcome(scenario)] += 1
    entry: dict[str, Any] = {
        "id": item_id,
        "text": str(item.get("title") or item.get("text") or ""),
        "requested": item_id in scope["requested"],
        "scenarios": counts,
        "problems": [_problem(s) for s in found if rec.outcome(s) in rec.NOT_DONE],
    }
    if section == "tasks":
        entry["wp_id"] = str(item.get("wp_id") or "")
        entry["done_when"] = str(item.get("done_when") or "")
        entry["owner"] = str(item.get("owner") or "")
    entry.update(_judge(entry, found, section, str(scope["kind"])))
    return entry


def _judge(entry: Mapping[str, Any], found: Sequence[Mapping[str, Any]], section: str,
           scope_kind: str) -> dict[str, str]:
    """Status, reason, next action and who must act, for one item."""
    ran = [s for s in found if rec.outcome(s) != rec.SKIPPED]
    if not entry["requested"]:
        if not ran and scope_kind == "full" and section in ("safety_contract", "target_state"):
            return {"status": NOT_COVERED, "reason": "No scenario of this suite proves it.",
                    "next_action": "", "who": ""}
        return {"status": NOT_REQUESTED, "reason": "Outside the subset this run was asked for.",
                "next_action": "", "who": ""}
    if not ran:
        return {"status": rec.NOT_EVALUATED,
                "reason": "No scenario in this run evaluated it.",
                "next_action": "Run the suite without a subset, or add a scenario tagged "
                               f"@{entry['id']}.",
                "who": "operator"}
    for status in SEVERITY:
        worst = [s for s in ran if rec.outcome(s) == status]
        if worst:
            owner = str(entry.get("owner") or "") if status == rec.BLOCKED else ""
            return {"status": status,
                    "reason": str(worst[0].get("reason") or "(no reason recorded)"),
                    "next_action": str(worst[0].get("next_action") or ""),
                    "who": str(worst[0].get("who") or owner)}
    return {"status": DONE, "reason": f"All {len(ran)} scenario(s) passed.",
            "next_action": "", "who": ""}


def _problem(scenario: Mapping[str, Any]) -> dict[str, str]:
    return {"scenario": str(scenario.get("name", "")),
            "feature": str(scenario.get("feature", "")),
            "outcome": rec.outcome(scenario),
            "reason": str(scenario.get("reason") or ""),
            "next_action": str(scenario.get("next_action") or ""),
            "who": str(scenario.get("who") or "")}


def workplan_status(record: Mapping[str, Any], task: Mapping[str, Any],
                    changes: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The status the task should now carry in the workplan's own table, and why."""
    current = _current_status(record, str(task["id"]))
    ran = [s for s in rec.scenarios_for(record, str(task["id"]))
           if rec.outcome(s) != rec.SKIPPED]
    outcomes = [rec.outcome(s) for s in ran]
    changed = [c for c in changes if task["id"] in c["tasks"] and c["applied"]
               and c["action"] in CHANGED]

    if not task["requested"] and not ran and not changed:
        keep = current.lower().replace("-", " ").replace("_", " ")
        return {"current": current,
                "suggested": keep if keep in (TODO, IN_PROGRESS, WP_DONE, WP_BLOCKED) else TODO,
                "why": "Not requested in this run: keep what the workplan says."}
    if outcomes and all(outcome == rec.PASSED for outcome in outcomes):
        return {"current": current, "suggested": WP_DONE,
                "why": f"All {len(outcomes)} scenario(s) passed."}
    if rec.BLOCKED in outcomes:
        return {"current": current, "suggested": WP_BLOCKED,
                "why": f"{outcomes.count(rec.BLOCKED)} scenario(s) wait for someone to act."}
    if rec.PASSED in outcomes or changed:
        why = [f"{outcomes.count(rec.PASSED)} of {len(outcomes)} scenario(s) passed"]
        if changed:
            why.append(f"provisioning changed {len(changed)} object(s)")
        return {"current": current, "suggested": IN_PROGRESS, "why": "; ".join(why) + "."}
    return {"current": current, "suggested": TODO,
            "why": "Nothing of it is proven yet and this run changed nothing for it."}


def _current_status(record: Mapping[str, Any], task_id: str) -> str:
    for task in rec.section(record, "tasks"):
        if task.get("id") == task_id:
            return str(task.get("workplan_status") or TODO)
    return TODO


def change_tasks(change: Mapping[str, Any]) -> list[str]:
    """The tasks a provisioning change serves: its own ``tasks``/``task``, else by provisioner."""
    if change.get("tasks"):
        return [str(task) for task in change["tasks"]]
    if change.get("task"):
        return [str(change["task"])]
    provisioner = str(change.get("provisioner", "")).lower()
    task = PROVISIONER_TASKS.get(provisioner)
    return [task] if task else []


def _change(change: Mapping[str, Any], record: Mapping[str, Any],
            applied: bool | None = None) -> dict[str, Any]:
    planning = bool((record.get("options") or {}).get("plan"))
    if applied is None:
        applied = bool(change.get("applied", not planning))
    return {"provisioner": str(change.get("provisioner", "")),
            "object": str(change.get("object", "")),
            "action": str(change.get("action", "nothing")),
            "applied": applied,
            "tasks": change_tasks(change)}


def _blocked(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Who must act, once per (who, next action), with every item waiting for it."""
    waiting: dict[tuple[str, str], dict[str, Any]] = {}
    for scenario in rec.scenarios(record):
        if rec.outcome(scenario) != rec.BLOCKED:
            continue
        who = str(scenario.get("who") or _owner(record, rec.item_ids(scenario)) or "operator")
        action = str(scenario.get("next_action") or "")
        entry = waiting.setdefault((who, action), {
            "who": who, "next_action": action,
            "reason": str(scenario.get("reason") or ""), "items": [], "scenarios": []})
        entry["scenarios"].append(str(scenario.get("name", "")))
        for item in rec.item_ids(scenario):
            if item not in entry["items"]:
                entry["items"].append(item)
    return list(waiting.values())


def _owner(record: Mapping[str, Any], items: Sequence[str]) -> str:
    """Who owns the first task among ``items``, as the workplan record names it."""
    owners = {str(t.get("id")): str(t.get("owner") or "") for t in rec.section(record, "tasks")}
    return next((owners[item] for item in items if owners.get(item)), "")


def _run(record: Mapping[str, Any]) -> dict[str, Any]:
    options = record.get("options") or {}
    return {"suite_version": str(record.get("suite_version") or ""),
            "started": str(record.get("started") or ""),
            "finished": str(record.get("finished") or ""),
            "duration_s": rec.seconds(record.get("duration_s")),
            "provision": bool(options.get("provision")),
            "plan": bool(options.get("plan"))}


def _repositories(record: Mapping[str, Any]) -> list[dict[str, str]]:
    repos = record.get("repositories") or {}
    return [{"name": str(name), "commit": str((info or {}).get("commit") or ""),
             "branch": str((info or {}).get("branch") or "")}
            for name, info in sorted(repos.items())]


def _counts(record: Mapping[str, Any]) -> dict[str, int]:
    counts = {outcome: 0 for outcome in rec.OUTCOMES}
    for scenario in rec.scenarios(record):
        counts[rec.outcome(scenario)] += 1
    return counts


def _summary(verdict: str, requested: Sequence[Mapping[str, Any]]) -> str:
    if not requested:
        return "FAIL: the run was asked to prove nothing, so nothing is proven."
    tasks = [item for item in requested if "wp_id" in item]
    done = [item for item in tasks if item["status"] == DONE]
    open_items = [item for item in requested if item["status"] != DONE]
    head = f"{verdict}: {len(done)} of {len(tasks)} requested task(s) done"
    if not open_items:
        return f"{head}, and every requested criterion holds."
    parts = [f"{item['id']} {status_label(item['status'])}" for item in open_items
             if "wp_id" in item]
    others = len(open_items) - len(parts)
    if others:
        parts.append(f"{others} criterion/rule item(s)")
    return f"{head}; not done: {', '.join(parts)}."
