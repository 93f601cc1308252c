"""railiance01 as the workplan finds it: the state that exists before its first task.

Created once at `up` and left alone afterwards (every step checks before it acts, so a
second `up` changes nothing):

* namespace `databases`: the cnpg Cluster `gitea-db` (one instance, managed role `gitea`,
  a backup configuration), the Database `gitea-db-gitea`, the ScheduledBackup
  `gitea-db-daily` and its first completed Backup;
* the ClusterIssuer `letsencrypt-prod` (ACME, pointing at the sandbox's pebble);
* namespace `gitea`: Gitea deployed the way production deploys it, by `make gitea` in
  `railiance-apps` (SOPS-decrypted values piped into `helm upgrade --install`), with its
  Ingress and the certificate `gitea-tls`.  Gitea itself is a STAND-IN: a tiny HTTP server
  (sandbox/fixtures/gitea-standin) built on the look-alike Python image;
* the git repositories `.sandbox/repos/railiance-apps` (from sandbox/fixtures) and
  `.sandbox/repos/vergabe-teilnahme` (the reference app, without a Dockerfile);
* the sandbox's age identity `.sandbox/secrets/age.key`, which SOPS finds through
  SOPS_AGE_KEY_FILE in sandbox commands only (nothing is written to the user's home).
"""

from __future__ import annotations

import base64
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from sandbox import layout, proc
from sandbox.components import containerd, images, operators
from sandbox.components.base import Component
from sandbox.errors import SandboxError
from sandbox.operators import host
from sandbox.operators.kube import Kube, Obj

log = logging.getLogger("sandbox.railiance01")

FIXTURES = layout.ROOT / "sandbox" / "fixtures"
APPS_FIXTURE = FIXTURES / "railiance-apps"
GITEA_STANDIN = FIXTURES / "gitea-standin"
REFERENCE_APP = layout.ROOT / "reference_app" / "vergabe-teilnahme"
APPS_REPO = layout.REPOS / "railiance-apps"
APP_REPO = layout.REPOS / "vergabe-teilnahme"
AGE_KEY = "age.key"
GITEA_DB_PASSWORD = "gitea-db.password"  # noqa: S105 - a file name
GITEA_IMAGE = "localhost/sandbox/gitea-standin:1"
CNPG = "postgresql.cnpg.io/v1"
LEFT_OUT_OF_APP_REPO = ("Dockerfile", ".dockerignore", "node_modules", ".venv", "__pycache__",
                        "static/dist", ".git", ".ruff_cache", ".pytest_cache", ".mypy_cache")
_GIT_IDENTITY = ["-c", "user.name=railiance operator", "-c", "user.email=ops@coulomb.test",
                 "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"]


def age_key_file() -> Path:
    return host.secret_path(AGE_KEY)


def sops_environment() -> dict[str, str]:
    """What sandbox commands need to decrypt: the age identity, no version lookup."""
    return {"SOPS_AGE_KEY_FILE": str(age_key_file()), "SOPS_DISABLE_VERSION_CHECK": "1"}


def ensure_age_identity() -> str:
    """The sandbox's age identity (created once); return its public recipient."""
    path = age_key_file()
    if not path.exists():
        layout.SECRETS.mkdir(parents=True, exist_ok=True)
        proc.run("railiance01", ["age-keygen", "-o", str(path)],
                 hint="Install Debian's age package (scripts/bootstrap.sh).")
        path.chmod(0o600)
    return proc.run("railiance01", ["age-keygen", "-y", str(path)]).stdout.strip()


def _tools_environment() -> dict[str, str]:
    path = os.pathsep.join([str(layout.BIN), os.environ.get("PATH", "")])
    return {"PATH": path, "KUBECONFIG": str(layout.STATE / "kubeconfig" / "admin.yaml"),
            **sops_environment()}


def _git(repo: Path, *args: str) -> str:
    return proc.run("railiance01", ["git", *_GIT_IDENTITY, "-C", str(repo), *args]).stdout


def _commit_all(repo: Path, message: str) -> None:
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", message)


def _basic_auth_secret(name: str, namespace: str, username: str, password: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/basic-auth",
            "metadata": {"name": name, "namespace": namespace,
                         "labels": {"cnpg.io/reload": "true"}},
            "data": {"username": base64.b64encode(username.encode()).decode(),
                     "password": base64.b64encode(password.encode()).decode()}}


def database_objects() -> list[Obj]:
    """The cnpg objects of namespace `databases` (the Secret is made separately)."""
    backups = f"file://{layout.DATA / 'backups' / 'databases' / 'gitea-db'}"
    return [
        {"apiVersion": CNPG, "kind": "Cluster",
         "metadata": {"name": "gitea-db", "namespace": "databases"},
         "spec": {
             "instances": 1,
             # the sandbox runs Debian's PostgreSQL 15; nothing pulls this image
             "imageName": "ghcr.io/cloudnative-pg/postgresql:15",
             "storage": {"size": "10Gi"},
             "bootstrap": {"initdb": {"database": "gitea", "owner": "gitea",
                                      "secret": {"name": "gitea-db-gitea"}}},
             "managed": {"roles": [{
                 "name": "gitea", "ensure": "present", "login": True,
                 "comment": "Gitea's application role",
                 "passwordSecret": {"name": "gitea-db-gitea"}}]},
             "backup": {"retentionPolicy": "30d",
                        "barmanObjectStore": {"destinationPath": backups}}}},
        {"apiVersion": CNPG, "kind": "Database",
         "metadata": {"name": "gitea-db-gitea", "namespace": "databases"},
         "spec": {"cluster": {"name": "gitea-db"}, "name": "gitea", "owner": "gitea",
                  "ensure": "present", "databaseReclaimPolicy": "retain"}},
        {"apiVersion": CNPG, "kind": "ScheduledBackup",
         "metadata": {"name": "gitea-db-daily", "namespace": "databases"},
         "spec": {"cluster": {"name": "gitea-db"}, "schedule": "0 0 3 * * *",
                  "immediate": True, "backupOwnerReference": "self",
                  "method": "barmanObjectStore"}},
    ]


def cluster_issuer() -> Obj:
    return {"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
            "metadata": {"name": "letsencrypt-prod"},
            "spec": {"acme": {
                # production: https://acme-v02.api.letsencrypt.org/directory
                "server": operators.PEBBLE_DIRECTORY, "email": "ops@coulomb.test",
                "privateKeySecretRef": {"name": "letsencrypt-prod-account-key"},
                "solvers": [{"http01": {"ingress": {"ingressClassName": "traefik"}}}]}}}


class ExistingState(Component):
    """The objects, releases and repositories railiance01 has before the workplan."""

    name = "railiance01"
    real = False
    start_deadline = 300.0

    def version(self) -> str:
        return "WP-0002 start"

    def address(self) -> str:
        return f"https://{layout.GITEA_HOST}"

    def start(self) -> None:
        kube = Kube()
        recipient = ensure_age_identity()
        password = host.ensure_password(GITEA_DB_PASSWORD)
        for namespace in ("databases", "gitea"):
            kube.apply({"apiVersion": "v1", "kind": "Namespace",
                        "metadata": {"name": namespace}})
        if kube.get("v1", "Secret", "gitea-db-gitea", "databases") is None:
            kube.apply(_basic_auth_secret("gitea-db-gitea", "databases", "gitea", password))
        for obj in [*database_objects(), cluster_issuer()]:
            meta = obj["metadata"]
            if kube.get(obj["apiVersion"], obj["kind"], meta["name"],
                        meta.get("namespace")) is None:
                log.info("creating %s %s", obj["kind"], meta["name"])
                kube.apply(obj)
        self._gitea_image()
        self._apps_repo(recipient, password)
        self._app_repo()
        proc.wait_for(self.name, "the gitea database and role", self._database_ready,
                      deadline=60)
        self._deploy_gitea()

    # -- steps ----------------------------------------------------------------------------
    def _gitea_image(self) -> None:
        ctr = ["ctr", "--address", str(containerd.SOCKET), "--namespace", "k8s.io"]
        listed = proc.run(self.name, [*ctr, "images", "ls", "-q", f"name=={GITEA_IMAGE}"],
                          check=False)
        if GITEA_IMAGE in listed.stdout.split():
            return
        images.podman("build", "--tag", GITEA_IMAGE, "--file",
                      str(GITEA_STANDIN / "Containerfile"), str(GITEA_STANDIN))
        with tempfile.TemporaryDirectory(dir=layout.DATA) as scratch:
            archive = Path(scratch) / "gitea-standin.tar"
            images.podman("save", "--format", "docker-archive", "--output", str(archive),
                          GITEA_IMAGE)
            proc.run(self.name, [*ctr, "images", "import", str(archive)],
                     hint="Is the sandbox's containerd healthy? See `python -m sandbox status`.")
        log.info("imported %s into containerd", GITEA_IMAGE)

    def _apps_repo(self, recipient: str, password: str) -> None:
        if (APPS_REPO / ".git").exists():
            return
        partial = APPS_REPO.with_name("railiance-apps.partial")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(APPS_FIXTURE / "repo", partial)
        rules = partial / ".sops.yaml"
        rules.write_text(rules.read_text().replace("@AGE_RECIPIENT@", recipient))
        plain = (APPS_FIXTURE / "values" / "gitea-values.yaml").read_text()
        encrypted = self._encrypt(partial, "helm/gitea-values.sops.yaml",
                                  plain.replace("@GITEA_DB_PASSWORD@", password))
        (partial / "helm").mkdir(parents=True, exist_ok=True)  # git keeps no empty folder
        (partial / "helm" / "gitea-values.sops.yaml").write_text(encrypted)
        _commit_all(partial, "Gitea on railiance01: Helm release, SOPS values, ingress")
        partial.rename(APPS_REPO)
        log.info("created %s", APPS_REPO)

    def _encrypt(self, repo: Path, name: str, plaintext: str) -> str:
        """SOPS-encrypt PLAINTEXT under the repository's rules for NAME (never on disk)."""
        done = subprocess.run(  # noqa: S603 - fixed argv; plaintext goes through stdin
            [str(layout.BIN / "sops"), "--encrypt", "--filename-override", name,
             "--input-type", "yaml", "--output-type", "yaml", "/dev/stdin"],
            input=plaintext, capture_output=True, text=True, cwd=repo, timeout=60,
            env={**os.environ, **sops_environment()}, check=False)
        if done.returncode != 0:
            raise SandboxError(self.name, f"sops could not encrypt {name}: "
                               f"{done.stderr.strip()[-300:]}", hint="Check that the tools "
                               "component wrote .sandbox/bin/sops.")
        return done.stdout

    def _app_repo(self) -> None:
        if (APP_REPO / ".git").exists():
            return
        if not REFERENCE_APP.is_dir():
            raise SandboxError(self.name, f"the reference app {REFERENCE_APP} is missing",
                               hint="It is part of this repository; check out the whole tree.")
        partial = APP_REPO.with_name("vergabe-teilnahme.partial")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(REFERENCE_APP, partial, ignore=_ignore_for_app_repo)
        _commit_all(partial, "vergabe-teilnahme: Django app (no container image yet)")
        partial.rename(APP_REPO)
        log.info("created %s", APP_REPO)

    def _database_ready(self) -> bool | str:
        kube = Kube()
        database = kube.get(CNPG, "Database", "gitea-db-gitea", "databases") or {}
        status = database.get("status") or {}
        if status.get("applied") is not True:
            return f"Database gitea-db-gitea not applied yet ({status.get('message') or '-'})"
        return True

    def _deploy_gitea(self) -> None:
        released = proc.run(self.name, [str(layout.BIN / "helm"), "status", "gitea",
                                        "--namespace", "gitea"], env=_tools_environment(),
                            check=False)
        if released.returncode == 0:
            return
        log.info("deploying gitea with `make gitea` in %s (helm --wait)", APPS_REPO)
        proc.run(self.name, ["make", "gitea"], cwd=APPS_REPO, env=_tools_environment(),
                 timeout=400, hint="See `kubectl -n gitea get pods` and the gitea pod's "
                 "events; the release waits for the pod's health check, which needs the "
                 "database Service gitea-db-rw.databases.svc.cluster.local.")

    # -- health ---------------------------------------------------------------------------
    def healthy(self) -> bool | str:
        kube = Kube()
        cluster = kube.get(CNPG, "Cluster", "gitea-db", "databases") or {}
        phase = (cluster.get("status") or {}).get("phase")
        if phase != "Cluster in healthy state":
            return f"Cluster databases/gitea-db is {phase or 'without status'}"
        backups = [b for b in kube.list(CNPG, "Backup", "databases")
                   if (b.get("status") or {}).get("phase") == "completed"]
        if not backups:
            return "no completed Backup of gitea-db yet"
        cert = kube.get("cert-manager.io/v1", "Certificate", "gitea-tls", "gitea") or {}
        ready = [c for c in (cert.get("status") or {}).get("conditions") or []
                 if c.get("type") == "Ready"]
        if not ready or ready[0].get("status") != "True":
            reason = ready[0].get("message") if ready else "no status yet"
            return f"Certificate gitea/gitea-tls not Ready ({reason})"
        for repo in (APPS_REPO, APP_REPO):
            if not (repo / ".git").exists():
                return f"repository {repo} missing"
        return True


def _ignore_for_app_repo(folder: str, names: list[str]) -> set[str]:
    base = Path(folder).relative_to(REFERENCE_APP)
    return {name for name in names
            if name in LEFT_OUT_OF_APP_REPO or str(base / name) in LEFT_OUT_OF_APP_REPO}
