"""Documents written from live facts: the runbook and the workplan log.

`docs/vergabe-teilnahme.md` is what a new operator reads: names, commands, the image
scheme, where secrets live and how to rotate them, restart, rollback, migrations, the
backup posture, and which repository owns what.  `workplans/RAILIANCE-WP-0002-log.md`
holds what the workplan asks to be recorded.  Both carry the GENERATED marker, hold no
timestamps (so a second run with the same facts changes nothing), and never a secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fixtures.cluster import Kube
from fixtures.database import Database
from fixtures.registry import Registry
from provisioning.image import tag_for
from provisioning.ingress import MANIFEST, TLS_SECRET
from provisioning.release import CHART_DIR, PULL_SECRET
from provisioning.repository import GENERATED
from suite.targets import Target
from suite.workplan import WORKPLAN_ID

RUNBOOK = "docs/vergabe-teilnahme.md"
LOG = f"workplans/{WORKPLAN_ID}-log.md"

CHART_RATIONALE = (
    "A thin in-repo chart under `charts/vergabe-teilnahme/` rather than the Bitnami common "
    "templates or raw manifests: one Deployment, one Service, two Secrets and two suspended "
    "CronJobs (migrate, superuser) are all the app needs; the chart has no external "
    "dependency to vendor or trust, it reviews in one sitting, and `helm rollback` still "
    "works, which raw manifests would not give.")
MIGRATION_CHOICE = (
    "Migrations and the seed run as a Kubernetes Job created from the chart's suspended "
    "CronJob `<release>-migrate` (`make vergabe-migrate`), not with `kubectl exec`: the Job "
    "runs with the release's image and environment, leaves its log, and does not depend on "
    "a running web pod.")


@dataclass
class Facts:
    namespace: str
    release: str
    host: str
    image_repository: str
    tag: str
    digest: str
    db_cluster: str
    db_namespace: str
    db_role: str
    db_name: str
    db_secret: str
    issuer: str
    ingress_class: str
    node_ip: str
    backup: str
    scheduled: str
    dns_path: str
    token_path: str
    values: str
    recipients: str


def gather(target: Target, kube: Kube, registry: Registry | None, db: Database) -> Facts:
    app_repo = target.path("app.repo")
    tag = tag_for(app_repo)
    digest = ""
    if registry is not None:
        digest = registry.digest(registry.repository(), tag) or ""
    cluster: dict[str, Any] = db.cluster() or {}
    backup_spec = cluster.get("spec", {}).get("backup") or {}
    backup = ("configured (" + ", ".join(sorted(backup_spec)) + ")") if backup_spec else \
        "NOT configured"
    scheduled = ", ".join(
        f"{s['metadata']['name']} ({s.get('spec', {}).get('schedule', '?')})"
        for s in kube.list_custom("postgresql.cnpg.io", "v1", "scheduledbackups",
                                  db.namespace)
        if s.get("spec", {}).get("cluster", {}).get("name") == db.cluster_name) or "none"
    sops_file = target.path("deploy.repo") / ".sops.yaml"
    recipients = "see .sops.yaml"
    if sops_file.exists():
        import re

        found = sorted(set(re.findall(r"age1[0-9a-z]{20,}", sops_file.read_text())))
        recipients = ", ".join(f"`{r[:12]}…`" for r in found) or recipients
    update = target.get("dns.update")
    dns_path = (f"RFC 2136 dynamic update to {target.get('dns.server')}:{target.get('dns.port')}"
                f" with the TSIG key in `{target.get('dns.tsig_key_file')}`"
                if update == "rfc2136" else f"manual: {target.get('dns.owner')} adds the record")
    return Facts(
        namespace=str(target.require("cluster.namespace")),
        release=str(target.require("app.release")), host=str(target.require("app.host")),
        image_repository=target.image_repository(), tag=tag, digest=digest,
        db_cluster=db.cluster_name, db_namespace=db.namespace, db_role=db.role,
        db_name=db.name, db_secret=db.role_secret_name(),
        issuer=str(target.require("tls.issuer")),
        ingress_class=str(target.require("cluster.ingress_class")),
        node_ip=str(target.require("cluster.node_public_ip")), backup=backup,
        scheduled=scheduled, dns_path=dns_path,
        token_path=str(target.get("registry.token_path", "")),
        values=str(target.require("deploy.values")), recipients=recipients)


def runbook(f: Facts) -> str:
    return f"""# vergabe-teilnahme — operator runbook

<!-- {GENERATED} from the live state; edit the facts, not this file -->

vergabe-teilnahme is a Django application served at https://{f.host}. It runs as the Helm
release `{f.release}` in the namespace `{f.namespace}`, its data lives in the shared cnpg
cluster `{f.db_namespace}/{f.db_cluster}`.

## Image name and tag scheme

- Repository: `{f.image_repository}`
- Tag: the first 12 characters of the app repository's git commit
  (`git rev-parse HEAD | cut -c1-12`)
- Deployed now: `{f.image_repository}:{f.tag}` (digest `{f.digest or 'not yet pushed'}`)
- Build and push: `docker build -t {f.image_repository}:<sha> <app checkout>` then
  `docker push {f.image_repository}:<sha>`; the cluster pulls with the Secret `{PULL_SECRET}`.

## Kubernetes objects

| kind | name |
|---|---|
| Namespace | `{f.namespace}` |
| Deployment | `{f.release}` (container `web`, port 8000, probes on `/healthz`) |
| Service | `{f.release}` (port 80 → 8000) |
| Ingress | `vergabe-teilnahme` (class `{f.ingress_class}`, `{MANIFEST}`) |
| Certificate / TLS Secret | `{TLS_SECRET}` (ClusterIssuer `{f.issuer}`) |
| Secrets | `{f.release}-env` (SECRET_KEY, DATABASE_URL), `{f.release}-superuser`, `{PULL_SECRET}` |
| Suspended CronJobs | `{f.release}-migrate`, `{f.release}-superuser` |

## Deploy a new image tag

1. Build and push the image for the new commit (above).
2. Set `image.tag` in the values: `sops {f.values}` (opens the decrypted file in your editor).
3. `make vergabe-deploy` — the single deploy command
   (`make vergabe-deploy DRY_RUN=1` renders it first).
4. `make vergabe-status`, then `make vergabe-migrate` if the release brings migrations.

## Database credentials

- Role `{f.db_role}` owns database `{f.db_name}` only (LOGIN, no other attribute); it is a
  managed role of the Cluster `{f.db_namespace}/{f.db_cluster}`; its password is in the Secret
  `{f.db_namespace}/{f.db_secret}`.
- The DSN (`DATABASE_URL`) lives only in `{f.values}`, encrypted with SOPS for the age
  recipients {f.recipients}; it reaches the pod through the Secret `{f.release}-env`.
- Rotate: write a new password into `{f.db_namespace}/{f.db_secret}` (cnpg applies it to the
  role), put the new DSN into the values with `sops {f.values}`, then `make vergabe-deploy`.
  Rotate SECRET_KEY the same way (all sessions end).

## Restart and recovery from a pod crash

- Restart: `kubectl -n {f.namespace} rollout restart deployment/{f.release}`
- Look first: `make vergabe-status`,
  `kubectl -n {f.namespace} logs deployment/{f.release} --previous`,
  `kubectl -n {f.namespace} describe pod -l app.kubernetes.io/instance={f.release}`.
- A crash loop after a deploy is usually the image or the values: roll back (below).

## Rollback

- `helm history {f.release} -n {f.namespace}` lists revisions;
  `helm rollback {f.release} <revision> -n {f.namespace}` returns to one.
- A release stuck in `pending-upgrade` is recovered the same way: roll back to the last
  deployed revision, then deploy again.

## Migrations

- `make vergabe-migrate` creates a Job from the suspended CronJob `{f.release}-migrate`
  (`manage.py migrate --noinput && manage.py seed`; the seed is idempotent) and waits for it.

## Backup posture

- The shared cluster `{f.db_namespace}/{f.db_cluster}` has its backup {f.backup}; scheduled
  backups: {f.scheduled}. cnpg backups are physical and cover the whole cluster, so
  `{f.db_name}` is included with no extra step. If the backup above says NOT configured, open a
  railiance-platform follow-up.

## Who owns what

- App code, the Dockerfile and the asset build: the `vergabe-teilnahme` repository.
- The chart (`{CHART_DIR}`), the values, the ingress manifest and the Makefile targets:
  `railiance-apps`.
- The shared cnpg cluster and the ClusterIssuer: railiance-platform; DNS of the app zone:
  {f.dns_path}.
"""


def workplan_log(f: Facts, gaps: list[str]) -> str:
    gap_lines = "\n".join(f"  - {gap}" for gap in gaps) or "  - none found"
    return f"""# {WORKPLAN_ID} — workplan log

<!-- {GENERATED}: what the workplan asks to be recorded -->

## T01 — Inventory
- (a) cnpg cluster for app databases: `{f.db_namespace}/{f.db_cluster}`
- (b) Gitea package token: {f.token_path}
- (c) DNS change path for the app zone: {f.dns_path}; the A record points at {f.node_ip}
- (d) pre-condition gaps:
{gap_lines}

## T03 — First image
- Reference: `{f.image_repository}:{f.tag}`
- Digest: `{f.digest or 'not yet pushed'}`

## T05 — Chart approach
- {CHART_RATIONALE}

## T07 — How migrations run
- {MIGRATION_CHOICE}
"""
