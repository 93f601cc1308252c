"""Steps about the documents: the runbook and the workplan log in the deployment repo."""

from __future__ import annotations

import re

from pytest_bdd import given, parsers, then

from fixtures.cluster import Kube
from fixtures.database import Database
from fixtures.http import Resolver
from fixtures.registry import Registry
from provisioning import base
from provisioning.docs import LOG, RUNBOOK, gather, runbook, workplan_log
from provisioning.ingress import issuer_ready
from provisioning.repository import RepoFiles, Wanted
from suite.check import expect
from suite.targets import Target

#: what each runbook topic must mention, as regular expressions over the text
TOPICS = {
    "the image name and tag scheme": (r"## Image name and tag scheme", r"git rev-parse HEAD"),
    "the Kubernetes objects": (r"Namespace \| `", r"Deployment \| `", r"Service \| `",
                               r"Ingress \| `"),
    "database credentials": (r"DATABASE_URL", r"Rotate:"),
    "restart and recovery": (r"rollout restart deployment/",),
    "rollback": (r"helm rollback ",),
    "migrations": (r"make vergabe-migrate",),
    "backup posture": (r"## Backup posture", r"backup"),
    "ownership": (r"`vergabe-teilnahme` repository", r"`railiance-apps`"),
}


def gaps(target: Target, kube: Kube, resolver: Resolver) -> list[str]:
    """Pre-condition gaps: stable facts about the platform, not the workplan's own work."""
    found = []
    if not issuer_ready(kube, str(target.require("tls.issuer"))):
        found.append(f"ClusterIssuer {target.get('tls.issuer')} is not Ready")
    if target.get("dns.update") != "rfc2136":
        found.append(f"DNS of {target.get('dns.zone')} is owned by {target.get('dns.owner')}: "
                     "T06 waits for them to add the A record")
    database = Database(target, kube)
    if not (database.cluster() or {}).get("spec", {}).get("backup"):
        found.append(f"the cnpg cluster {database.cluster_name} has no backup configuration")
    return found


def ensure_workplan_log(target: Target, kube: Kube, registry: Registry | None) -> str:
    database = Database(target, kube)
    from fixtures.http import Resolver

    facts = gather(target, kube, registry, database)
    text = workplan_log(facts, gaps(target, kube, Resolver(target)))
    base.ensure(RepoFiles(target.path("deploy.repo"), [Wanted(LOG, text)], name="workplan-log",
                          task="T03", branch=str(target.require("deploy.branch")),
                          message=f"{LOG}: record what the workplan asks"))
    path = target.path("deploy.repo") / LOG
    return path.read_text() if path.exists() else ""  # --plan: planned, not written


@given("the runbook exists in the deployment repository")
def runbook_exists(target: Target, kube: Kube, registry: Registry) -> None:
    database = Database(target, kube)
    facts = gather(target, kube, registry, database)
    base.ensure(RepoFiles(target.path("deploy.repo"), [Wanted(RUNBOOK, runbook(facts))],
                          name="runbook", task="T08",
                          branch=str(target.require("deploy.branch")),
                          message=f"{RUNBOOK}: runbook from live facts"))
    ensure_workplan_log(target, kube, registry)


@then(parsers.parse("the runbook has a section on {topic} naming {facts}"))
def runbook_topic(target: Target, topic: str, facts: str) -> None:
    text = (target.path("deploy.repo") / RUNBOOK).read_text()
    missing = [pattern for pattern in TOPICS[topic] if not re.search(pattern, text)]
    expect(not missing, f"the runbook to cover {topic} ({facts})",
           f"no match for {missing}", "regenerate it with --provision or add the section.")


@then("every Kubernetes object the runbook names exists in the cluster")
def runbook_names_exist(target: Target, kube: Kube) -> None:
    text = (target.path("deploy.repo") / RUNBOOK).read_text()
    namespace = str(target.require("cluster.namespace"))
    release = str(target.require("app.release"))
    checks = {
        f"Deployment {release}": lambda: kube.apps.read_namespaced_deployment(release, namespace),
        f"Service {release}": lambda: kube.core.read_namespaced_service(release, namespace),
        "Ingress vergabe-teilnahme": lambda: kube.net.read_namespaced_ingress(
            "vergabe-teilnahme", namespace),
        f"Secret {release}-env": lambda: kube.core.read_namespaced_secret(f"{release}-env",
                                                                          namespace),
    }
    missing = []
    for name, read in checks.items():
        if name.split(" ", 1)[1] not in text:
            missing.append(f"{name} (not in the runbook)")
            continue
        try:
            read()
        except Exception:  # noqa: BLE001 - absent is what we report
            missing.append(f"{name} (not in the cluster)")
    expect(not missing, "every object the runbook names to exist", ", ".join(missing),
           "regenerate the runbook with --provision after deploying.")


@then("the chart approach and its rationale are recorded in the workplan log")
def chart_rationale(target: Target, kube: Kube, registry: Registry) -> None:
    text = ensure_workplan_log(target, kube, registry)
    expect("## T05 — Chart approach" in text and "in-repo chart" in text,
           "the chart decision and rationale in the workplan log", "no T05 record",
           "run with --provision.")
