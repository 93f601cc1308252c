"""Synthetic run records for the report tests: fresh sandbox, converged, failing, subsets.

The records follow the shape the suite's plugin writes (``vergabe-acceptance/run/1``);
they are built here from a small table of scenarios so that each test can bend one thing
(an outcome, the subset, a change) and see what the reports make of it.
"""

from __future__ import annotations

import copy
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Record = dict[str, Any]

TASKS: tuple[tuple[str, str, str, list[str]], ...] = (
    ("T01", "Inventory the deployment substrate",
     "the workplan records the cnpg cluster, the token path, the DNS change path and gaps", []),
    ("T02", "Add Dockerfile and asset build to vergabe-teilnahme",
     "docker build produces a runnable image that responds to a smoke request locally", []),
    ("T03", "Build and publish image to Gitea container registry",
     "the image is fetchable from a disposable Kubernetes pod on the cluster", ["T01", "T02"]),
    ("T04", "Provision PostgreSQL role and database",
     "the new role can connect to vergabe_db from inside the cluster", ["T01"]),
    ("T05", "Author Helm release for vergabe-teilnahme",
     "make vergabe-deploy renders cleanly with --dry-run, no plaintext secrets", ["T03", "T04"]),
    ("T06", "DNS, ingress, and TLS for vergabe-teilnahme.whywhynot.de",
     "the public hostname serves the app over HTTPS with a validating chain", ["T01", "T05"]),
    ("T07", "Initial migration, seed, and smoke test",
     "the smoke checklist passes and kubectl logs shows no unexpected errors", ["T05", "T06"]),
    ("T08", "Document handoff, runbook, and backup posture",
     "a new operator can deploy a new tag and recover from a pod crash", ["T07"]),
)

CRITERIA = (
    ("C1", "The vergabe-teilnahme image is published to the registry."),
    ("C2", "A dedicated PostgreSQL role and database serve the app from the shared cluster."),
    ("C3", "The values and the ingress manifest are committed; make vergabe-deploy deploys."),
    ("C4", "https://vergabe-teilnahme.whywhynot.de serves the app with a valid certificate."),
    ("C5", "Migrations + seed have run; the smoke checklist passes."),
    ("C6", "Runbook is in docs/vergabe-teilnahme.md."),
)
SAFETY = (("S1", "Do not commit decrypted values or secret material."),
          ("S2", "A dedicated role scoped to one database; never superuser."))
TARGET_STATE = (("TS1", "The image is pushed to gitea.coulomb.social/coulomb/vergabe-teilnahme."),)

#: (feature file stem, scenario name, items, tags beyond the task's)
SCENARIOS: tuple[tuple[str, str, list[str], list[str]], ...] = (
    ("t01_inventory", "The shared cnpg cluster for app databases is identified", ["T01"],
     ["smoke"]),
    ("t01_inventory", "The registry answers with an OCI auth challenge", ["T01"], ["smoke"]),
    ("t02_image", "The image builds and answers a smoke request locally", ["T02"], []),
    ("t03_registry", "The image is fetchable from a disposable pod on the cluster",
     ["T03", "C1", "TS1"], ["smoke"]),
    ("t04_database", "The app role connects to its database from inside the cluster",
     ["T04", "C2"], ["smoke", "provisioning"]),
    ("t04_database", "The app role has no SUPERUSER privilege", ["T04", "S2", "C2"], ["safety"]),
    ("t05_release", "make vergabe-deploy renders cleanly with --dry-run", ["T05", "S1", "C3"],
     ["provisioning"]),
    ("t06_ingress", "An A record points the app host at the node's public address", ["T06"],
     ["smoke"]),
    ("t06_ingress", "The app host serves the app over HTTPS with a valid chain", ["T06", "C4"],
     ["smoke"]),
    ("t07_smoke", "Login at /admin/ succeeds", ["T07", "C5"], ["smoke", "browser"]),
    ("t07_smoke", "The seed has run and is idempotent", ["T07", "C5"], []),
    ("t08_runbook", "The runbook covers rollback", ["T08", "C6"], []),
)

FEATURE_TITLES = {task_id: f"{task_id} — {title}" for task_id, title, _, _ in TASKS}


def png_bytes(width: int = 24, height: int = 12) -> bytes:
    """A small valid PNG (a blue gradient) without any imaging library."""
    raw = b"".join(b"\0" + b"".join(bytes((30 + 4 * x, 90, 180)) for x in range(width))
                   for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def _scenario(index: int, stem: str, name: str, items: list[str], extra: list[str]
              ) -> dict[str, Any]:
    task = items[0]
    return {
        "nodeid": f"features/{stem}.feature::test_{index}",
        "feature": FEATURE_TITLES[task],
        "feature_file": f"features/{stem}.feature",
        "line": 6 + 7 * index,
        "name": name,
        "tags": sorted({task, *extra}),
        "tasks": [task],
        "items": items,
        "outcome": "passed",
        "reason": "",
        "next_action": "",
        "who": "",
        "duration_s": 0.4 + index / 10,
        "steps": [
            {"keyword": "Given", "text": "the target railiance01", "line": 7 + 7 * index,
             "outcome": "passed", "duration_s": 0.01},
            {"keyword": "When", "text": f"the suite checks: {name.lower()}",
             "line": 8 + 7 * index, "outcome": "passed", "duration_s": 0.3},
            {"keyword": "Then", "text": "it holds", "line": 9 + 7 * index, "outcome": "passed",
             "duration_s": 0.05},
        ],
        "evidence": [],
    }


def converged_record() -> Record:
    """Every scenario passed; the run changed nothing; a previous green run is known."""
    return {
        "schema": "vergabe-acceptance/run/1",
        "suite_version": "0.1.0",
        "target": {"name": "sandbox", "production": False, "cluster": "https://127.0.0.1:6443",
                   "context": "sandbox", "host": "vergabe-teilnahme.whywhynot.test",
                   "description": "railiance01 in a box on this machine"},
        "started": "2026-12-04T15:00:00+00:00",
        "finished": "2026-12-04T15:00:42+00:00",
        "duration_s": 42.0,
        "options": {"provision": True, "plan": False, "markexpr": "", "subset": None,
                    "args": ["--provision"]},
        "repositories": {
            "railiance-apps": {"path": ".sandbox/repos/railiance-apps", "commit": "abc1234",
                               "branch": "vergabe-acceptance"},
            "vergabe-teilnahme": {"path": ".sandbox/repos/vergabe-teilnahme",
                                  "commit": "def5678", "branch": "main"},
        },
        "workplan": {
            "id": "RAILIANCE-WP-0002",
            "title": "Establish vergabe-teilnahme as an Application on railiance01",
            "goal": "Deploy the vergabe-teilnahme Django application as a governed Helm release "
                    "on the production cluster node railiance01, reachable at "
                    "https://vergabe-teilnahme.whywhynot.de.\n\nThis establishes it as the "
                    "second application on the S5 layer.",
            "tasks": [{"id": tid, "wp_id": f"RAILIANCE-WP-0002-{tid}", "title": title,
                       "done_when": done, "depends_on": deps, "owner": "the operator",
                       "workplan_status": "todo"} for tid, title, done, deps in TASKS],
            "completion_criteria": [{"id": i, "text": t} for i, t in CRITERIA],
            "safety_contract": [{"id": i, "text": t} for i, t in SAFETY],
            "target_state": [{"id": i, "text": t} for i, t in TARGET_STATE],
        },
        "scenarios": [_scenario(i, *spec) for i, spec in enumerate(SCENARIOS)],
        "changes": [{"provisioner": "database", "object": "Database databases/vergabe-db",
                     "action": "nothing", "diff": "", "applied": False, "task": "T04"}],
        "planned": [],
        "previous_green": {"finished": "2026-12-03T09:00:00+00:00",
                           "facts": {"image_digest": "sha256:" + "1" * 64,
                                     "certificate_serial": "0a:11:22"}},
        "facts": {"image_reference": "gitea.coulomb.test/coulomb/vergabe-teilnahme:def5678",
                  "image_digest": "sha256:" + "2" * 64, "certificate_serial": "0a:11:22",
                  "certificate_not_after": "2027-03-04T15:00:00+00:00"},
    }


def set_outcome(record: Record, name: str, outcome: str, reason: str = "",
                next_action: str = "", who: str = "") -> None:
    """Give one scenario (by name) an outcome; the last step carries it."""
    scenario = next(s for s in record["scenarios"] if s["name"] == name)
    scenario.update(outcome=outcome, reason=reason, next_action=next_action, who=who)
    if outcome == "not_evaluated":
        for step in scenario["steps"]:
            step["outcome"] = "skipped"
    elif outcome != "passed":
        scenario["steps"][-1]["outcome"] = "failed" if outcome == "failed" else outcome


def fresh_record() -> Record:
    """A fresh sandbox checked without --provision: inventory passes, the rest is open."""
    record = converged_record()
    record["options"].update(provision=False, args=[])
    record["previous_green"] = None
    record["changes"] = []
    for name in ("The image builds and answers a smoke request locally",):
        set_outcome(record, name, "missing",
                    "expected a Dockerfile at the root of vergabe-teilnahme, found none.",
                    "run with --provision to add the Dockerfile and .dockerignore")
    for name in ("The app role connects to its database from inside the cluster",
                 "The app role has no SUPERUSER privilege",
                 "make vergabe-deploy renders cleanly with --dry-run",
                 "The runbook covers rollback"):
        set_outcome(record, name, "missing", f"expected: {name}; found: nothing yet.",
                    "run with --provision")
    set_outcome(record, "An A record points the app host at the node's public address",
                "blocked", "expected an A record for vergabe-teilnahme.whywhynot.de -> "
                "127.0.0.2; found NXDOMAIN.", "add the A record in the zone whywhynot.de",
                "DNS owner of whywhynot.de")
    for name in ("The image is fetchable from a disposable pod on the cluster",
                 "The app host serves the app over HTTPS with a valid chain",
                 "Login at /admin/ succeeds", "The seed has run and is idempotent"):
        set_outcome(record, name, "not_evaluated",
                    "depends on a task that is not done in this run.", "make it pass first")
    return record


def failing_record() -> Record:
    """Converged, except two failures whose messages the plugin already redacted."""
    record = converged_record()
    set_outcome(record, "Login at /admin/ succeeds", "failed",
                "CSRF origin check failed: origin sent 'https://vergabe-teilnahme.whywhynot.test'"
                ", trusted list ['vergabe-teilnahme.whywhynot.test']; session cookie ***.",
                "put https:// in front of the host in CSRF_TRUSTED_ORIGINS and redeploy")
    set_outcome(record, "The app role has no SUPERUSER privilege", "failed",
                "expected role vergabe without SUPERUSER, found SUPERUSER; password ***.",
                "ALTER ROLE vergabe NOSUPERUSER")
    return record


def smoke_record() -> Record:
    """A production smoke run: only the smoke scenarios, all passed."""
    record = converged_record()
    record["target"].update(name="production", production=True, context="railiance01",
                            cluster="https://92.205.130.254:6443",
                            host="vergabe-teilnahme.whywhynot.de")
    record["options"].update(provision=False, markexpr="smoke", subset=["smoke"],
                             args=["-m", "smoke", "--target", "production"])
    record["scenarios"] = [s for s in record["scenarios"] if "smoke" in s["tags"]]
    record["changes"] = []
    return record


def subset_record(task: str = "T04") -> Record:
    """A run of one task's scenarios only (``--gate T04``)."""
    record = converged_record()
    record["options"].update(subset=[task], args=["--gate", task])
    record["scenarios"] = [s for s in record["scenarios"] if task in s["items"]]
    return record


@pytest.fixture
def records() -> dict[str, Callable[[], Record]]:
    """Builders by name; each call returns a fresh record a test may change."""
    return {"converged": converged_record, "fresh": fresh_record, "failing": failing_record,
            "smoke": smoke_record, "subset": subset_record}


@pytest.fixture
def converged() -> Record:
    return converged_record()


@pytest.fixture
def fresh() -> Record:
    return fresh_record()


@pytest.fixture
def failing() -> Record:
    return failing_record()


@pytest.fixture
def rich(tmp_path: Path) -> tuple[Record, Path]:
    """A fresh record with evidence of every kind, a screenshot, changes and a plan."""
    record = fresh_record()
    reports = tmp_path / "reports"
    (reports / "screenshots").mkdir(parents=True)
    (reports / "screenshots" / "login.png").write_bytes(png_bytes())
    record["previous_green"] = copy.deepcopy(converged_record()["previous_green"])
    first = record["scenarios"][0]
    first["evidence"] = [
        {"title": "cnpg clusters", "kind": "table",
         "data": [{"name": "gitea-db", "namespace": "databases", "instances": 1,
                   "version": "16.4"}]},
        {"title": "inventory", "kind": "json",
         "data": {"cluster": "gitea-db", "token_path": "user settings → Applications"}},
    ]
    login = next(s for s in record["scenarios"] if s["name"] == "Login at /admin/ succeeds")
    login["evidence"] = [{"title": "login page", "kind": "image",
                          "data": "screenshots/login.png"}]
    release = next(s for s in record["scenarios"] if "--dry-run" in s["name"])
    release["evidence"] = [{"title": "rendered Secret (redacted)", "kind": "text",
                            "data": "apiVersion: v1\nkind: Secret\nstringData:\n"
                                    "  SECRET_KEY: '***'\n"}]
    record["changes"] = [
        {"provisioner": "database", "object": "Database databases/vergabe-db",
         "action": "create", "diff": "+ spec.owner: vergabe\n+ spec.name: vergabe_db",
         "applied": True, "task": "T04"},
        {"provisioner": "dns", "object": "A vergabe-teilnahme.whywhynot.test", "action": "nothing",
         "diff": "", "applied": False, "task": "T06"},
    ]
    return record, reports
