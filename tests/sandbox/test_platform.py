"""The sandbox's platform layer, checked against the running sandbox as the platform operator.

Aspects:
- the cnpg Cluster `gitea-db` is healthy, with its Services pointing at the real server;
- a managed role and a Database for a new app become a real role and database (psql as
  that role), and status.applied turns true;
- a Database without owner, or with a reserved name, is refused as cnpg refuses it;
- the ScheduledBackup `gitea-db-daily` has a completed Backup with a real dump behind it;
- a Certificate for a new host stays pending while its name does not resolve (Order and
  Challenge say why), becomes Ready once the A record exists, and its chain validates
  against the sandbox web CA;
- https://gitea.coulomb.test answers 200 through Traefik with the `gitea-tls` certificate;
- the sandbox DNS answers the zones, accepts TSIG-signed updates and refuses unsigned ones;
  Service names resolve in `cluster.local` for pods;
- `sops -d` of the gitea values works with the sandbox age key and fails clearly without;
- the repositories `railiance-apps` and `vergabe-teilnahme` are where the workplan expects.

Every test uses names of its own and removes what it made.  The tests act with the admin
kubeconfig (they change the platform, which the suite's identity may not).  Run
`python -m sandbox up` first.
"""

from __future__ import annotations

import base64
import json
import secrets
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store

from sandbox import layout
from sandbox.components import dns as sandbox_dns

pytestmark = pytest.mark.sandbox

ADMIN = layout.STATE / "kubeconfig" / "admin.yaml"
KUBECTL = layout.BIN / "kubectl"
WEB_CA = layout.PKI / "web-ca.crt"
TSIG_KEY = layout.SECRETS / "tsig.key"
AGE_KEY = layout.SECRETS / "age.key"
APPS_REPO = layout.REPOS / "railiance-apps"
APP_REPO = layout.REPOS / "vergabe-teilnahme"
UP = "run `.venv/bin/python -m sandbox up` and look at `python -m sandbox status`"
OPERATORS_LOG = layout.LOGS / "operators.log"


def run(argv: list[str | Path], *, stdin: str | None = None, timeout: float = 120,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {"KUBECONFIG": str(ADMIN), "PATH": f"{layout.BIN}:/usr/bin:/bin"}
    return subprocess.run([str(part) for part in argv], input=stdin, capture_output=True,
                          text=True, timeout=timeout, check=False, env={**base, **(env or {})})


def expect(ok: bool, expected: str, found: str, next_step: str) -> None:
    """Fail with what was expected, what was found, and what to do next."""
    __tracebackhide__ = True
    if not ok:
        pytest.fail(f"expected {expected}; found {found[-1500:]}; next: {next_step}",
                    pytrace=False)


def kubectl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run([KUBECTL, *args], stdin=stdin)


def get(kind: str, name: str, namespace: str) -> dict[str, Any]:
    done = kubectl("-n", namespace, "get", kind, name, "-o", "json")
    expect(done.returncode == 0, f"{kind} {namespace}/{name} to exist",
           done.stderr.strip(), UP)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def apply(manifest: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    return kubectl("apply", "-f", "-", stdin=json.dumps(manifest))


def wait_until(what: str, probe: Callable[[], Any], *, deadline: float = 60,
               interval: float = 1.0, next_step: str = UP) -> Any:
    """Poll PROBE until it returns something truthy; fail with the last observation."""
    __tracebackhide__ = True
    end = time.monotonic() + deadline
    last: Any = None
    while time.monotonic() < end:
        last = probe()
        if last and not isinstance(last, str):
            return last
        time.sleep(interval)
    expect(False, f"{what} within {deadline:.0f}s", str(last), next_step)


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def nsupdate(script: str, *, signed: bool = True) -> subprocess.CompletedProcess[str]:
    argv: list[str | Path] = ["nsupdate", *(["-k", str(TSIG_KEY)] if signed else [])]
    return run(argv, stdin=f"server 127.0.0.1 {layout.DNS_PORT}\n{script}send\n")


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    for entry in (obj.get("status") or {}).get("conditions") or []:
        if entry.get("type") == kind:
            return dict(entry)
    return {}


@pytest.fixture
def namespace() -> Iterator[str]:
    name = unique("platform-test")
    try:
        done = kubectl("create", "namespace", name)
        expect(done.returncode == 0, f"namespace {name} to be created", done.stderr, UP)
        yield name
    finally:
        kubectl("delete", "namespace", name, "--ignore-not-found", "--wait=false")


# -- cnpg -------------------------------------------------------------------------------------
def test_gitea_db_cluster_is_healthy() -> None:
    done = kubectl("get", "clusters.postgresql.cnpg.io", "-A", "-o", "json")
    expect(done.returncode == 0, "the cnpg Cluster API to answer", done.stderr, UP)
    clusters = {(c["metadata"]["namespace"], c["metadata"]["name"]): c
                for c in json.loads(done.stdout)["items"]}
    cluster = clusters.get(("databases", "gitea-db"))
    expect(cluster is not None, "Cluster databases/gitea-db", str(sorted(clusters)), UP)
    assert cluster is not None
    status = cluster.get("status") or {}
    expect(status.get("phase") == "Cluster in healthy state"
           and status.get("readyInstances") == 1
           and condition(cluster, "Ready").get("status") == "True",
           "gitea-db in healthy state with 1 ready instance and Ready=True",
           json.dumps({k: status.get(k) for k in ("phase", "readyInstances", "conditions")}),
           f"look at {OPERATORS_LOG} (the cnpg stand-in) and the postgres log")
    slices = json.loads(kubectl("-n", "databases", "get", "endpointslices", "-l",
                                "kubernetes.io/service-name=gitea-db-rw", "-o",
                                "json").stdout)["items"]
    addresses = [a for s in slices for e in s.get("endpoints") or [] for a in e["addresses"]]
    expect(addresses == [layout.BRIDGE_IP], f"Service gitea-db-rw to point at "
           f"{layout.BRIDGE_IP}:5432", str(addresses), f"look at {OPERATORS_LOG}")


def _role_secret(secret: str, role: str, password: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/basic-auth",
            "metadata": {"name": secret, "namespace": "databases"},
            "stringData": {"username": role, "password": password}}


def _patch_roles(change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> None:
    cluster = get("clusters.postgresql.cnpg.io", "gitea-db", "databases")
    roles = change(list(cluster["spec"].get("managed", {}).get("roles") or []))
    patch = json.dumps({"spec": {"managed": {"roles": roles}}})
    done = kubectl("-n", "databases", "patch", "clusters.postgresql.cnpg.io", "gitea-db",
                   "--type", "merge", "-p", patch)
    expect(done.returncode == 0, "the Cluster's managed roles to be patched", done.stderr, UP)


def test_managed_role_and_database_for_a_new_app() -> None:
    role = unique("t_app").replace("-", "_")
    database_name = f"{role}_db"
    object_name = f"gitea-db-{role.replace('_', '-')}"
    password = secrets.token_urlsafe(18)
    manifest: dict[str, Any] = {
        "apiVersion": "postgresql.cnpg.io/v1", "kind": "Database",
        "metadata": {"name": object_name, "namespace": "databases"},
        "spec": {"cluster": {"name": "gitea-db"}, "name": database_name, "owner": role,
                 "databaseReclaimPolicy": "delete"}}
    try:
        done = apply(_role_secret(object_name, role, password))
        expect(done.returncode == 0, "the role's Secret to be created", done.stderr, UP)
        _patch_roles(lambda roles: [*roles, {"name": role, "ensure": "present", "login": True,
                                             "passwordSecret": {"name": object_name}}])
        done = apply(manifest)
        expect(done.returncode == 0, "the Database to be accepted", done.stderr, UP)

        def applied() -> Any:
            status = get("databases.postgresql.cnpg.io", manifest["metadata"]["name"],
                         "databases").get("status") or {}
            return True if status.get("applied") is True else json.dumps(status)

        wait_until("Database status.applied = true", applied,
                   next_step=f"look at {OPERATORS_LOG} for the cnpg stand-in's errors")
        cluster = get("clusters.postgresql.cnpg.io", "gitea-db", "databases")
        reconciled = cluster["status"]["managedRolesStatus"]["byStatus"].get("reconciled", [])
        expect(role in reconciled, f"role {role} listed as reconciled", str(reconciled),
               f"look at {OPERATORS_LOG}")
        with psycopg.connect(host="127.0.0.1", port=layout.POSTGRES_PORT, user=role,
                             password=password, dbname=database_name,
                             connect_timeout=5) as conn:
            row = conn.execute("select current_user, current_database(), "
                               "(select rolsuper or rolcreatedb from pg_roles "
                               "where rolname = current_user)").fetchone()
        expect(row == (role, database_name, False),
               f"a login as {role} into {database_name}, without superuser or createdb",
               str(row), "check the role's attributes in the Cluster spec")
    finally:
        kubectl("-n", "databases", "delete", "databases.postgresql.cnpg.io",
                manifest["metadata"]["name"], "--ignore-not-found", "--timeout=60s")
        _patch_roles(lambda roles: [r if r["name"] != role else
                                    {"name": role, "ensure": "absent"} for r in roles])
        time.sleep(3)
        _patch_roles(lambda roles: [r for r in roles if r["name"] != role])
        kubectl("-n", "databases", "delete", "secret", object_name, "--ignore-not-found")


@pytest.mark.parametrize(("spec", "message"), [
    ({"name": "no_owner_db"}, "spec.owner: Required value"),
    ({"name": "postgres", "owner": "gitea"}, "the name postgres is reserved"),
    ({"name": "template1", "owner": "gitea"}, "the name template1 is reserved"),
])
def test_database_refused_like_cnpg_refuses_it(spec: dict[str, str], message: str) -> None:
    name = unique("refused")
    manifest = {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Database",
                "metadata": {"name": name, "namespace": "databases"},
                "spec": {"cluster": {"name": "gitea-db"}, **spec}}
    try:
        done = apply(manifest)
        expect(done.returncode != 0 and message in done.stderr,
               f"the apiserver to refuse the Database with {message!r} (cnpg's CRD schema)",
               f"exit {done.returncode}: {done.stderr.strip() or done.stdout.strip()}",
               "check that the cnpg CRDs installed are the module's own")
    finally:
        kubectl("-n", "databases", "delete", "databases.postgresql.cnpg.io", name,
                "--ignore-not-found", "--wait=false")


def test_scheduled_backup_has_a_completed_backup() -> None:
    scheduled = get("scheduledbackups.postgresql.cnpg.io", "gitea-db-daily", "databases")
    expect(len(scheduled["spec"]["schedule"].split()) == 6, "a six-field cron schedule",
           scheduled["spec"]["schedule"], "fix the ScheduledBackup in railiance01.py")
    backups = json.loads(kubectl("-n", "databases", "get", "backups.postgresql.cnpg.io", "-o",
                                 "json").stdout)["items"]
    done = [b for b in backups if (b.get("status") or {}).get("phase") == "completed"
            and b["metadata"].get("labels", {}).get("cnpg.io/scheduled-backup")
            == "gitea-db-daily"]
    expect(bool(done), "a completed Backup made by gitea-db-daily",
           str([(b["metadata"]["name"], (b.get("status") or {}).get("phase"))
                for b in backups]), f"look at {OPERATORS_LOG}")
    dump = layout.DATA / "backups" / "databases" / "gitea-db" / \
        f"{done[-1]['metadata']['name']}.sql.gz"
    expect(dump.exists() and dump.stat().st_size > 0, f"the dump {dump}", "missing or empty",
           f"look at {OPERATORS_LOG}")


# -- cert-manager -----------------------------------------------------------------------------
def _certificate(namespace: str, name: str, host: str) -> dict[str, Any]:
    return {"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"secretName": name, "dnsNames": [host], "issuerRef": {
                "name": "letsencrypt-prod", "kind": "ClusterIssuer",
                "group": "cert-manager.io"}}}


def _acme_objects(namespace: str, kind: str) -> list[dict[str, Any]]:
    done = kubectl("-n", namespace, "get", kind, "-o", "json")
    return list(json.loads(done.stdout)["items"]) if done.returncode == 0 else []


def test_certificate_waits_for_dns_and_then_validates(namespace: str) -> None:
    host = f"{unique('t')}.whywhynot.test"
    try:
        done = apply(_certificate(namespace, "probe-tls", host))
        expect(done.returncode == 0, "the Certificate to be accepted", done.stderr, UP)

        def pending_with_reason() -> Any:
            orders = _acme_objects(namespace, "orders.acme.cert-manager.io")
            challenges = _acme_objects(namespace, "challenges.acme.cert-manager.io")
            reasons = [(o.get("status") or {}).get("reason", "") for o in orders + challenges]
            if orders and challenges and all("no such host" in r for r in reasons):
                return True
            return json.dumps(reasons)

        wait_until("an Order and a Challenge saying the name does not resolve",
                   pending_with_reason, next_step=f"look at {OPERATORS_LOG}")
        cert = get("certificates.cert-manager.io", "probe-tls", namespace)
        expect(condition(cert, "Ready").get("status") == "False"
               and condition(cert, "Issuing").get("status") == "True",
               "Ready=False and Issuing=True while the challenge is pending",
               json.dumps(cert.get("status")), f"look at {OPERATORS_LOG}")

        added = nsupdate(f"zone whywhynot.test\nupdate add {host} 60 A "
                         f"{layout.NODE_PUBLIC_IP}\n")
        expect(added.returncode == 0, "the signed DNS update to succeed", added.stderr, UP)

        def ready() -> Any:
            found = get("certificates.cert-manager.io", "probe-tls", namespace)
            return True if condition(found, "Ready").get("status") == "True" else \
                json.dumps(found.get("status"))

        wait_until("the Certificate to become Ready", ready, deadline=120,
                   next_step=f"look at {OPERATORS_LOG}, the pebble log and Traefik's")
        cert = get("certificates.cert-manager.io", "probe-tls", namespace)
        expect(not condition(cert, "Issuing"), "the Issuing condition removed",
               json.dumps(cert["status"]), f"look at {OPERATORS_LOG}")
        states = [(o.get("status") or {}).get("state") for o in
                  _acme_objects(namespace, "orders.acme.cert-manager.io")
                  + _acme_objects(namespace, "challenges.acme.cert-manager.io")]
        expect(bool(states) and all(s == "valid" for s in states),
               "Order and Challenge in state valid", str(states), f"look at {OPERATORS_LOG}")

        secret = get("secret", "probe-tls", namespace)
        chain = x509.load_pem_x509_certificates(base64.b64decode(secret["data"]["tls.crt"]))
        root = x509.load_pem_x509_certificate(WEB_CA.read_bytes())
        verifier = PolicyBuilder().store(Store([root])).build_server_verifier(
            x509.DNSName(host))
        try:
            verifier.verify(chain[0], chain[1:])
            problem = ""
        except Exception as exc:  # noqa: BLE001 - reported below
            problem = f"{type(exc).__name__}: {exc}"
        expect(not problem, f"the chain for {host} to validate against {WEB_CA}", problem,
               "look at the cross-signing in sandbox/operators/certmanager.py")
    finally:
        nsupdate(f"zone whywhynot.test\nupdate delete {host} A\n")


def test_gitea_answers_over_https_with_gitea_tls() -> None:
    done = run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", WEB_CA,
                "--resolve", f"{layout.GITEA_HOST}:443:{layout.NODE_PUBLIC_IP}",
                f"https://{layout.GITEA_HOST}/"], timeout=30)
    expect(done.stdout.strip() == "200", f"https://{layout.GITEA_HOST}/ to answer 200",
           f"{done.stdout.strip()} {done.stderr.strip()}",
           "look at `kubectl -n gitea get pods,ingress,certificate` and Traefik's log")
    context = ssl.create_default_context(cafile=str(WEB_CA))
    with socket.create_connection((layout.NODE_PUBLIC_IP, 443), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname=layout.GITEA_HOST) as tls:
        served = tls.getpeercert(binary_form=True)
    secret = get("secret", "gitea-tls", "gitea")
    leaf = x509.load_pem_x509_certificates(base64.b64decode(secret["data"]["tls.crt"]))[0]
    expect(served is not None and x509.load_der_x509_certificate(served) == leaf,
           "Traefik to serve the certificate in Secret gitea/gitea-tls",
           "a different certificate", "check the Ingress's tls.secretName and Traefik's log")


# -- DNS --------------------------------------------------------------------------------------
def test_dns_answers_and_takes_only_signed_updates() -> None:
    expect(sandbox_dns.query_a(layout.GITEA_HOST) == [layout.NODE_PUBLIC_IP],
           f"{layout.GITEA_HOST} A {layout.NODE_PUBLIC_IP}",
           str(sandbox_dns.query_a(layout.GITEA_HOST)), "look at .sandbox/logs/named.log")
    initial = sandbox_dns.INITIAL_RECORDS["whywhynot.test"]
    expect(layout.APP_HOST.split(".")[0] not in initial,
           f"no record for {layout.APP_HOST} in the zone the sandbox starts with",
           str(initial), "the workplan adds it through the DNS change path; remove it from "
           "INITIAL_RECORDS in sandbox/components/dns.py")
    name = f"{unique('probe')}.coulomb.test"
    try:
        unsigned = nsupdate(f"zone coulomb.test\nupdate add {name} 60 A 127.0.0.9\n",
                            signed=False)
        expect(unsigned.returncode != 0 and "REFUSED" in unsigned.stderr + unsigned.stdout,
               "an unsigned update to be REFUSED", unsigned.stderr + unsigned.stdout,
               "check allow-update in .sandbox/etc/named/named.conf")
        expect(sandbox_dns.query_a(name) == [], "no record after the refused update",
               str(sandbox_dns.query_a(name)), "check allow-update in named.conf")
        signed = nsupdate(f"zone coulomb.test\nupdate add {name} 60 A 127.0.0.9\n")
        expect(signed.returncode == 0 and sandbox_dns.query_a(name) == ["127.0.0.9"],
               "a TSIG-signed update to add the record", signed.stderr,
               "look at .sandbox/logs/named.log")
    finally:
        nsupdate(f"zone coulomb.test\nupdate delete {name} A\n")


def test_service_names_resolve_for_pods() -> None:
    service = get("service", "gitea-db-rw", "databases")
    name = "gitea-db-rw.databases.svc.cluster.local"

    def resolved() -> Any:
        found = sandbox_dns.query_a(name, server=layout.BRIDGE_IP, port=53)
        return True if found == [service["spec"]["clusterIP"]] else str(found)

    wait_until(f"{name} -> {service['spec']['clusterIP']} on {layout.BRIDGE_IP}:53",
               resolved, deadline=20, next_step=f"look at {OPERATORS_LOG} (service-dns)")


# -- SOPS and the repositories ----------------------------------------------------------------
def test_sops_decrypts_only_with_the_sandbox_age_key(tmp_path: Path) -> None:
    values = APPS_REPO / "helm" / "gitea-values.sops.yaml"
    home = {"HOME": str(tmp_path), "SOPS_DISABLE_VERSION_CHECK": "1"}
    done = run([layout.BIN / "sops", "-d", values],
               env={**home, "SOPS_AGE_KEY_FILE": str(AGE_KEY)})
    plain = yaml.safe_load(done.stdout) if done.returncode == 0 else {}
    database = ((plain or {}).get("gitea") or {}).get("config", {}).get("database", {})
    expect(done.returncode == 0 and bool(database.get("PASSWD")),
           "the values to decrypt to YAML with a database password",
           f"exit {done.returncode}: {done.stderr.strip()[-300:]}",
           "check .sandbox/secrets/age.key and the recipient in the repo's .sops.yaml")
    refused = run([layout.BIN / "sops", "-d", values], env=home)
    expect(refused.returncode != 0 and "age" in refused.stderr and not refused.stdout,
           "decryption without the age key to fail, naming the missing age identity",
           f"exit {refused.returncode}: {refused.stderr.strip()[-300:]}",
           "make sure no age key is found outside SOPS_AGE_KEY_FILE")


def test_repositories_are_in_place() -> None:
    makefile = (APPS_REPO / "Makefile").read_text()
    expect("sops -d helm/gitea-values.sops.yaml | $(HELM) upgrade --install" in
           makefile.replace("$(SOPS)", "sops"),
           "a gitea target piping sops -d into helm upgrade --install", makefile[:400],
           "fix sandbox/fixtures/railiance-apps/repo/Makefile")
    for path in (".sops.yaml", "manifests/gitea-ingress.yaml", "README.md", "docs"):
        expect((APPS_REPO / path).exists(), f"{APPS_REPO / path}", "missing",
               "fix sandbox/fixtures/railiance-apps/repo")
    first = run(["git", "-C", APP_REPO, "rev-list", "--max-parents=0", "HEAD"]).stdout.split()
    files = run(["git", "-C", APP_REPO, "ls-tree", "-r", "--name-only", first[0]]).stdout \
        .split() if first else []
    expect("manage.py" in files and "Dockerfile" not in files,
           f"{APP_REPO}'s first commit: the Django app without a Dockerfile",
           str(files[:40]) or "no commit",
           "remove .sandbox/repos/vergabe-teilnahme and run `python -m sandbox up`")
    for repo in (APPS_REPO, APP_REPO):
        status = run(["git", "-C", repo, "status", "--porcelain"])
        log = run(["git", "-C", repo, "log", "--oneline"])
        expect(status.returncode == 0 and log.stdout.strip() != "",
               f"{repo} with at least one commit", status.stderr + log.stderr, UP)
