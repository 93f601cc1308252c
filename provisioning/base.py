"""The provisioning contract and its one entry point, :func:`ensure`.

A provisioner observes the live state, plans a list of changes (create / update, each
with a redacted diff), applies them, and verifies that a second plan is empty.  Steps
call ``ensure(provisioner)``:

* without ``--provision`` a non-empty plan ends the scenario as MISSING, naming what
  would be created;
* with ``--plan`` the plan is collected for the summary and nothing changes; the
  scenario goes on through its Given steps (so the whole plan is seen) and stops as
  MISSING before its first When or Then;
* with ``--provision`` the changes are applied under the provisioning lease, recorded in
  the run, and the plan must then be empty (idempotence is proven, not claimed).
"""

from __future__ import annotations

import difflib
import logging
from abc import ABC, abstractmethod
from typing import Any

from suite import redact, state
from suite.errors import Missing, SuiteError
from suite.state import Change

log = logging.getLogger("suite.provisioning")

#: the label every object the suite creates carries
OWNER_LABEL = "railiance.io/provisioned-by"
OWNER = "vergabe-acceptance"
FIELD_MANAGER = "vergabe-acceptance"


class NotConverged(SuiteError):
    """A provisioner applied its plan, but planning again still finds changes."""


class Provisioner(ABC):
    """One kind of state.  Subclasses set `name` and `task` and implement the four verbs."""

    name = "provisioner"
    task = ""

    @abstractmethod
    def plan(self) -> list[Change]:
        """Observe the live state and return what must change (empty when converged)."""

    @abstractmethod
    def apply(self, changes: list[Change]) -> None:
        """Carry out CHANGES (as returned by plan)."""

    def change(self, obj: str, action: str, diff: str = "") -> Change:
        return Change(provisioner=self.name, object=obj, action=action,
                      diff=redact.redact(diff), task=self.task)


def text_diff(old: str, new: str, name: str) -> str:
    """A unified diff, redacted, at most 60 lines."""
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), f"{name} (now)",
                                      f"{name} (wanted)", lineterm="", n=1))
    text = "\n".join(lines[:60]) + ("\n…" if len(lines) > 60 else "")
    return redact.redact(text)


def _summary(changes: list[Change]) -> str:
    return "; ".join(f"{c.action} {c.object}" for c in changes)


def ensure(*provisioners: Provisioner) -> list[Change]:
    """Plan every provisioner; apply (with --provision), collect (--plan) or report MISSING."""
    run = state.current()
    planned: list[tuple[Provisioner, list[Change]]] = []
    for prov in provisioners:
        changes = [c for c in prov.plan() if c.action != "nothing"]
        if changes:
            planned.append((prov, changes))
    if not planned:
        return []
    every = [c for _, changes in planned for c in changes]
    if run.plan_only:
        for change in every:
            if all(change.object != seen.object for seen in run.planned):
                run.planned.append(change)
        run.cache.setdefault("scenario_planned", []).extend(every)
        return every
    if not run.provision:
        drift = [c for c in every if c.action == "update" and c.diff]
        detail = ""
        if drift:
            lines = drift[0].diff.splitlines()[:12]
            detail = f" What differs in {drift[0].object}:\n" + "\n".join(lines)
        raise Missing(f"not there yet: --provision would {_summary(every)}.{detail}",
                      next_action="run `pytest features/ --provision` (or --plan to see "
                      "every change first).")
    from provisioning import lease

    lease.acquire(run)
    for prov, changes in planned:
        log.info("APPLY %s: %s", prov.name, _summary(changes))
        prov.apply(changes)
        for change in changes:
            change.applied = True
            run.changes.append(change)
        again = [c for c in prov.plan() if c.action != "nothing"]
        if again:
            raise NotConverged(f"{prov.name}: after applying, the plan still wants "
                               f"{_summary(again)}. Diff:\n{again[0].diff}")
    return every


def labels(extra: dict[str, str] | None = None) -> dict[str, str]:
    out = {OWNER_LABEL: OWNER}
    out.update(extra or {})
    return out


def owned(obj: Any) -> bool:
    meta = obj.get("metadata", {}) if isinstance(obj, dict) else obj.metadata
    found = (meta.get("labels") if isinstance(meta, dict) else meta.labels) or {}
    return bool(found.get(OWNER_LABEL) == OWNER)
