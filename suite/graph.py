"""Which workplan task needs which: the one place the dependency graph is written down.

A scenario of task X is NOT EVALUATED when a task X depends on ran in the same session
and did not end done.  Only the direct prerequisites are listed; the closure follows.
"""

from __future__ import annotations

DEPENDS_ON: dict[str, tuple[str, ...]] = {
    "T01": (),
    "T02": (),
    "T03": ("T02",),
    "T04": ("T01",),
    "T05": ("T03", "T04"),
    "T06": ("T05",),
    "T07": ("T06",),
    "T08": ("T05", "T06"),
}

TASK_ORDER = tuple(DEPENDS_ON)

#: completion criteria and the tasks that make them true
CRITERIA_DEPEND_ON: dict[str, tuple[str, ...]] = {
    "C1": ("T03",), "C2": ("T04", "T05"), "C3": ("T05", "T06"), "C4": ("T06",),
    "C5": ("T07",), "C6": ("T08",),
}

#: who acts when a task is blocked, by task
OWNERS: dict[str, str] = {
    "T01": "the operator of railiance01",
    "T02": "the maintainers of the vergabe-teilnahme repository",
    "T03": "the operator (a Gitea package token with package:write)",
    "T04": "railiance-platform (the shared cnpg cluster)",
    "T05": "the operator (railiance-apps)",
    "T06": "the DNS owner of the app zone",
    "T07": "the operator (railiance-apps)",
    "T08": "the operator (railiance-apps)",
}


def prerequisites(task: str) -> list[str]:
    """Every task that TASK needs, nearest first."""
    seen: list[str] = []
    queue = list(DEPENDS_ON.get(task, ()))
    while queue:
        dep = queue.pop(0)
        if dep not in seen:
            seen.append(dep)
            queue.extend(DEPENDS_ON.get(dep, ()))
    return seen
