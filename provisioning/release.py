"""The Helm release: namespace, pull credential, SOPS values, and `make vergabe-deploy`.

Values are built in memory from live facts (image tag, the role's DSN, the app host) and
encrypted with SOPS for the recipients of the deployment repository's `.sops.yaml`;
secrets already in the file (SECRET_KEY, the superuser's password) are kept, keys the
suite does not manage are left as they are.  The release is deployed only through
`make vergabe-deploy` — the same single command the operator uses — after a preflight
that stops on a locked release.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from fixtures import tools
from fixtures.cluster import Kube
from fixtures.database import Database
from fixtures.helm import Helm
from fixtures.registry import Registry
from fixtures.run import Result, run_command
from fixtures.sops import Sops
from provisioning.base import Provisioner, labels, text_diff
from provisioning.image import tag_for
from provisioning.repository import git
from suite import redact, state
from suite.errors import ReleaseLocked
from suite.state import Change
from suite.targets import Target

PULL_SECRET = "registry-pull"  # noqa: S105 - a Secret's name
CHART_DIR = "charts/vergabe-teilnahme"


def masked(values: dict[str, Any]) -> str:
    """The values as YAML with every secret leaf shown as ***."""
    from fixtures.sops import secret_leaves

    text = yaml.safe_dump(values, sort_keys=True)
    for leaf in secret_leaves(values):
        text = text.replace(leaf, "***")
    return redact.redact(text)


class Namespace(Provisioner):
    name = "namespace"
    task = "T05"

    def __init__(self, kube: Kube, namespace: str) -> None:
        self.kube = kube
        self.namespace = namespace

    def plan(self) -> list[Change]:
        try:
            self.kube.core.read_namespace(self.namespace)
            return []
        except ApiException as exc:
            if exc.status != 404:
                raise
        return [self.change(f"Namespace {self.namespace}", "create")]

    def apply(self, changes: list[Change]) -> None:
        self.kube.core.create_namespace(client.V1Namespace(
            metadata=client.V1ObjectMeta(name=self.namespace, labels=labels())))


class PullSecret(Provisioner):
    """A dockerconfigjson Secret with the cluster's read-only registry credential."""

    name = "pull-secret"
    task = "T03"

    def __init__(self, kube: Kube, namespace: str, registry: Registry) -> None:
        self.kube = kube
        self.namespace = namespace
        self.registry = registry

    def _config(self) -> str:
        user, password = self.registry.credentials("pull")
        auth = base64.b64encode(f"{user}:{password}".encode()).decode()
        redact.register(auth)
        return json.dumps({"auths": {self.registry.host: {"username": user,
                                                          "password": password,
                                                          "auth": auth}}})

    def plan(self) -> list[Change]:
        try:
            current = self.kube.core.read_namespaced_secret(PULL_SECRET, self.namespace)
        except ApiException as exc:
            if exc.status != 404:
                raise
            return [self.change(f"Secret {self.namespace}/{PULL_SECRET}", "create",
                                f"dockerconfigjson for {self.registry.host} (pull only)")]
        have = base64.b64decode((current.data or {}).get(".dockerconfigjson", "")).decode()
        if json.loads(have or "{}") != json.loads(self._config()):
            return [self.change(f"Secret {self.namespace}/{PULL_SECRET}", "update",
                                "pull credential changed (values not shown)")]
        return []

    def apply(self, changes: list[Change]) -> None:
        body = client.V1Secret(metadata=client.V1ObjectMeta(name=PULL_SECRET,
                                                            labels=labels()),
                               type="kubernetes.io/dockerconfigjson",
                               string_data={".dockerconfigjson": self._config()})
        try:
            self.kube.core.create_namespaced_secret(self.namespace, body)
        except ApiException as exc:
            if exc.status != 409:
                raise
            self.kube.core.replace_namespaced_secret(PULL_SECRET, self.namespace, body)


def database_url(db: Database, *, planning: bool = False) -> str:
    """The DSN from the role's Secret; while only planning, a placeholder if it is absent."""
    try:
        password = db.role_password()
    except ApiException as exc:
        if exc.status != 404 or not planning:
            raise
        return (f"postgres://{db.role}:<password from Secret {db.namespace}/"
                f"{db.role_secret_name()}>@{db.cluster_name}-rw.{db.namespace}.svc:5432/{db.name}")
    host = f"{db.cluster_name}-rw.{db.namespace}.svc.cluster.local"
    url = f"postgres://{db.role}:{quote(password, safe='')}@{host}:5432/{db.name}"
    redact.register(url, quote(password, safe=""))
    return url


def wanted_values(target: Target, app_repo: Path, db: Database,
                  current: dict[str, Any] | None, *, planning: bool = False) -> dict[str, Any]:
    host = str(target.require("app.host"))
    values: dict[str, Any] = json.loads(json.dumps(current or {}))
    secret_env = values.setdefault("secretEnv", {})
    secret_env.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    secret_env["DATABASE_URL"] = database_url(db, planning=planning)
    superuser = values.setdefault("superuser", {})
    superuser["username"] = str(target.require("app.superuser"))
    superuser.setdefault("email", f"{superuser['username']}@{host}")
    superuser.setdefault("password", secrets.token_urlsafe(24))
    redact.register(secret_env["SECRET_KEY"], superuser["password"])
    values["image"] = {"repository": target.image_repository(), "tag": tag_for(app_repo),
                       "pullPolicy": "IfNotPresent"}
    values["imagePullSecrets"] = [{"name": PULL_SECRET}]
    values["replicaCount"] = 1
    values["host"] = host
    values.setdefault("csrfTrustedOrigins", f"https://{host}")
    env = values.setdefault("env", {})
    env["DJANGO_SETTINGS_MODULE"] = "vergabe_teilnahme.settings.prod"
    values.setdefault("resources", {"requests": {"cpu": "100m", "memory": "256Mi"},
                                    "limits": {"cpu": "1", "memory": "512Mi"}})
    values.setdefault("probes", {"path": "/healthz"})
    return values


class ValuesFile(Provisioner):
    """helm/vergabe-teilnahme-values.sops.yaml, encrypted, committed on the suite's branch."""

    name = "sops-values"
    task = "T05"

    def __init__(self, target: Target, sops: Sops, db: Database) -> None:
        self.target = target
        self.sops = sops
        self.db = db
        self.repo = target.path("deploy.repo")
        self.relpath = str(target.require("deploy.values"))
        self.app_repo = target.path("app.repo")

    @property
    def path(self) -> Path:
        return self.repo / self.relpath

    def current(self) -> dict[str, Any] | None:
        return self.sops.decrypt(self.path) if self.path.exists() else None

    def plan(self) -> list[Change]:
        current = self.current()
        want = wanted_values(self.target, self.app_repo, self.db, current,
                             planning=state.current().plan_only)
        if current is None:
            return [self.change(f"{self.repo.name}/{self.relpath}", "create",
                                "encrypted for the recipients in .sops.yaml; values:\n"
                                + masked(want))]
        if current != want:
            return [self.change(f"{self.repo.name}/{self.relpath}", "update",
                                text_diff(masked(current), masked(want), self.relpath))]
        return []

    def apply(self, changes: list[Change]) -> None:
        want = wanted_values(self.target, self.app_repo, self.db, self.current())
        encrypted = self.sops.encrypt(yaml.safe_dump(want, sort_keys=True), self.path,
                                      cwd=self.repo)
        from provisioning.repository import RepoFiles, Wanted

        files = RepoFiles(self.repo, [Wanted(self.relpath, encrypted)], name=self.name,
                          task=self.task, branch=str(self.target.require("deploy.branch")),
                          message="vergabe-teilnahme: SOPS values (image, DSN, settings)")
        files._checkout_branch()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(encrypted)
        tmp.replace(self.path)
        git(self.repo, "add", "--", self.relpath)
        if git(self.repo, "diff", "--cached", "--name-only"):
            git(self.repo, "commit", "-q", "-m", "vergabe-teilnahme: SOPS values")


def make(target: Target, sops: Sops, *args: str, check: bool = True) -> Result:
    """Run a Makefile target of the deployment repository with the target's tools."""
    context = str(target.require("cluster.context"))
    env = {"KUBECONFIG": str(target.path("cluster.kubeconfig")), "HELM_KUBECONTEXT": context,
           **sops.env()}
    variables = [f"HELM={tools.find('helm')}", f"SOPS={tools.find('sops')}",
                 f"KUBECTL={tools.find('kubectl')} --context {context}",
                 "SHELL=/bin/bash"]
    return run_command(["make", "-C", target.path("deploy.repo"), *variables, *args],
                       env=env, check=check, timeout=600, what=f"make {args[0]}")


def fingerprint(repo: Path, values: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(values, sort_keys=True).encode())
    for path in sorted((repo / CHART_DIR).rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(repo).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def preflight(helm: Helm) -> dict[str, Any] | None:
    """The release's status; ReleaseLocked when an upgrade would be unsafe."""
    status = helm.status()
    if status is None:
        return None
    info = status.get("info", {})
    phase = str(info.get("status", ""))
    revision = int(status.get("version", 0))
    if phase.startswith("pending-"):
        back = max(revision - 1, 1)
        raise ReleaseLocked(
            f"the Helm release {helm.release} in {helm.namespace} is locked in {phase} at "
            f"revision {revision} (an interrupted operation). The suite changes nothing. "
            f"Recover with `helm rollback {helm.release} {back} -n {helm.namespace}` (or "
            f"`helm history {helm.release} -n {helm.namespace}` to choose a revision), then "
            "run --provision again.")
    if phase == "failed" and revision == 1:
        raise ReleaseLocked(
            f"the first install of {helm.release} in {helm.namespace} failed (revision 1). "
            f"Look at `helm status {helm.release} -n {helm.namespace}` and the pod events, "
            f"then `helm uninstall {helm.release} -n {helm.namespace}` and run --provision "
            "again.")
    return status


class Release(Provisioner):
    name = "helm-release"
    task = "T05"

    def __init__(self, target: Target, helm: Helm, values: ValuesFile) -> None:
        self.target = target
        self.helm = helm
        self.values = values

    def wanted_description(self) -> str:
        current = self.values.current() or {}
        return f"vergabe-acceptance {fingerprint(self.values.repo, current)}"

    def plan(self) -> list[Change]:
        status = preflight(self.helm)
        want = self.wanted_description()
        if status is None:
            return [self.change(f"Helm release {self.helm.namespace}/{self.helm.release}",
                                "create", "make vergabe-deploy")]
        have = str(status.get("info", {}).get("description", ""))
        phase = status.get("info", {}).get("status")
        if have != want or phase != "deployed":
            return [self.change(f"Helm release {self.helm.namespace}/{self.helm.release}",
                                "update", f"revision {status.get('version')} ({phase}, "
                                f"{have or 'no fingerprint'}) -> {want}")]
        return []

    def apply(self, changes: list[Change]) -> None:
        make(self.target, self.values.sops, "vergabe-deploy",
             f"VERGABE_HELM_FLAGS=--description '{self.wanted_description()}'")
