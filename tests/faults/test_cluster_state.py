"""F08, F09, F12: live cluster state that drifts from the workplan's.

Aspects:
- F08 a Certificate whose dnsNames differ from the Ingress host (an operator's own
  Certificate, so cert-manager's ingress-shim leaves it alone), and an Ingress whose tls
  hosts name another host: the certificate scenario names the names against the host,
  and the exposure rule fails;
- F09 a Database whose owner is a role that does not exist (the API refuses one without an
  owner), and one the cnpg operator never applies (its controller stalled): the
  scenarios name the Database, its status and, when they waited, for how long;
- F12 the app role with each extra attribute (SUPERUSER, CREATEDB, CREATEROLE,
  REPLICATION, BYPASSRLS): the privilege scenario names it and the statement that
  removes it;
- each time: no other scenario of the selection changes, no secret in any output, and the
  scenarios pass again once the object is put back.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from sandbox import proc
from sandbox.components import postgres
from tests.faults.edits import HOST, NAMESPACE, Restore, get_json, kubectl, target_copy, wait_for
from tests.faults.harness import Bench, Probe, S

DB_NAMESPACE = "databases"
CLUSTER = "gitea-db"
ROLE = "vergabe"
DATABASE = "gitea-db-vergabe-db"
CERTIFICATE = "vergabe-teilnahme-tls"
INGRESS = "vergabe-teilnahme"
INGRESS_TEST = "test_the_app_ingress_is_modelled_on_giteas_and_conflicts_with_nothing"
WRONG_NAME = "vergabe.whywhynot.test"


# -- F08 ---------------------------------------------------------------------------------
def _certificate() -> dict:
    """The Certificate, or {} while it does not exist."""
    found = kubectl("-n", NAMESPACE, "get", "certificate", CERTIFICATE, "-o", "json",
                    "--ignore-not-found")
    return json.loads(found) if found.strip() else {}


def _ready_condition() -> str:
    conditions = _certificate().get("status", {}).get("conditions", [])
    return next((c["status"] for c in conditions if c["type"] == "Ready"), "absent")


def _certificate_ready() -> bool:
    return _ready_condition() == "True" and \
        _certificate().get("spec", {}).get("dnsNames") == [HOST]


def _put_certificate_back() -> None:
    """Delete the Certificate: the ingress-shim writes it again from the Ingress."""
    cert = _certificate()
    if cert and (not _certificate_ready() or not cert["metadata"].get("ownerReferences")):
        kubectl("-n", NAMESPACE, "delete", "certificate", CERTIFICATE, "--wait=true")
    wait_for(f"Certificate {CERTIFICATE} Ready for {HOST} again", _certificate_ready,
             deadline=180)


def _wrong_certificate() -> None:
    kubectl("-n", NAMESPACE, "patch", "certificate", CERTIFICATE, "--type", "json", "-p",
            json.dumps([{"op": "remove", "path": "/metadata/ownerReferences"},
                        {"op": "replace", "path": "/spec/dnsNames", "value": [WRONG_NAME]}]))


def _wrong_ingress_tls() -> None:
    kubectl("-n", NAMESPACE, "patch", "ingress", INGRESS, "--type", "json", "-p",
            json.dumps([{"op": "replace", "path": "/spec/tls/0/hosts", "value": [WRONG_NAME]}]))


def _ingress_back() -> None:
    ingress = get_json("-n", NAMESPACE, "ingress", INGRESS)
    if ingress["spec"]["tls"][0]["hosts"] != [HOST]:
        kubectl("-n", NAMESPACE, "patch", "ingress", INGRESS, "--type", "json", "-p",
                json.dumps([{"op": "replace", "path": "/spec/tls/0/hosts", "value": [HOST]}]))
    wait_for(f"Certificate {CERTIFICATE} Ready for {HOST} again", _certificate_ready,
             deadline=180)


F08_KINDS = {
    "certificate-dnsnames": (_wrong_certificate, _put_certificate_back, {
        S.CERTIFICATE: [rf"asks for the names \['{WRONG_NAME}'\], not {HOST}", r"dnsNames"],
        S.EXPOSURE: [r"certificate not Ready"]}, {}),
    "ingress-tls-hosts": (_wrong_ingress_tls, _ingress_back, {
        S.EXPOSURE: [rf"serves {HOST} without TLS"],
        INGRESS_TEST: [r"--provision would update Ingress"],
        S.CERTIFICATE: [r"--provision would update Ingress"]},
        {INGRESS_TEST: "missing", S.CERTIFICATE: "missing"}),
}


@pytest.mark.parametrize("kind", list(F08_KINDS))
def test_F08_certificate_names_differ_from_the_host(bench: Bench, restore: Restore,
                                                   tmp_path: Path, kind: str) -> None:
    inject, put_back, expect, outcome = F08_KINDS[kind]
    target = target_copy(tmp_path, timeouts={"certificate": 20})
    probe = Probe(tests=(S.CERTIFICATE, INGRESS_TEST, S.EXPOSURE), expect=expect,
                  outcome=outcome, args=("--target", str(target)))
    baselines = bench.before([probe])
    began = time.monotonic()
    restore.add(f"Certificate {CERTIFICATE} for {HOST}", put_back)

    inject()
    wait_for(f"cert-manager to take Certificate {CERTIFICATE} out of Ready",
             lambda: _ready_condition() == "False", deadline=60)
    bench.with_fault(f"F08/{kind}", [probe], baselines, began)

    restore()
    bench.after([probe], baselines)


# -- F09 ---------------------------------------------------------------------------------
def _database() -> dict:
    return get_json("-n", DB_NAMESPACE, "database.postgresql.cnpg.io", DATABASE)


def _applied() -> bool:
    db = _database()
    status = db.get("status", {})
    return status.get("applied") is True and \
        status.get("observedGeneration") == db["metadata"]["generation"]


def _patch_database(patch: list[dict]) -> None:
    kubectl("-n", DB_NAMESPACE, "patch", "database.postgresql.cnpg.io", DATABASE, "--type",
            "json", "-p", json.dumps(patch))


def _owner_back() -> None:
    if _database()["spec"].get("owner") != ROLE:
        _patch_database([{"op": "replace", "path": "/spec/owner", "value": ROLE}])
    wait_for(f"Database {DATABASE} applied again", _applied, deadline=60)


def _operators_pid() -> int:
    pid = proc.read_pid("operators")
    assert pid is not None and proc.pid_alive(pid), (
        "expected the sandbox's operators process to run (.sandbox/run/operators.pid); it "
        "does not. Next: `python -m sandbox up`.")
    return pid


def _resume_operators(pid: int) -> None:
    os.kill(pid, signal.SIGCONT)


@pytest.mark.parametrize("kind", ["owner-does-not-exist", "never-applied"])
def test_F09_database_not_applied(bench: Bench, restore: Restore, tmp_path: Path,
                                  kind: str) -> None:
    target = target_copy(tmp_path, timeouts={"default": 8})
    args = ("--target", str(target))
    if kind == "owner-does-not-exist":
        status = [DATABASE, r"names the owner 'vergabe_app'", r"applied=False",
                  r'role "vergabe_app" does not exist']
        probes = [Probe(tests=(S.DB_SERVES,), expect={S.DB_SERVES: status}, args=args),
                  Probe(tests=(S.DECLARED,), expect={S.DECLARED: [
                      rf"--provision would update Database {DB_NAMESPACE}/{DATABASE}"]},
                        outcome={S.DECLARED: "missing"}, args=args)]
    else:
        waited = [rf"Database {DB_NAMESPACE}/{DATABASE} applied by cnpg within 8s",
                  r"after \d+s: applied=True", r"observedGeneration=(\d+) of generation (?!\1)",
                  r"operator has not reconciled it"]
        probes = [Probe(tests=(S.DB_SERVES,), expect={S.DB_SERVES: waited}, args=args),
                  Probe(tests=(S.DECLARED,), expect={S.DECLARED: waited}, args=args)]
    baselines = bench.before(probes)
    began = time.monotonic()

    if kind == "owner-does-not-exist":
        restore.add(f"owner of Database {DATABASE}", _owner_back)
        _patch_database([{"op": "replace", "path": "/spec/owner", "value": "vergabe_app"}])
        wait_for("cnpg to report the missing owner", lambda: "does not exist" in str(
            _database().get("status", {}).get("message")), deadline=30)
    else:
        pid = _operators_pid()
        restore.add(f"Database {DATABASE} applied", lambda: wait_for(
            f"Database {DATABASE} applied again", _applied, deadline=60))
        restore.add("the operators process running", lambda: _resume_operators(pid))
        restore.add(f"Database {DATABASE} spec", lambda: _patch_database(
            [{"op": "remove", "path": "/spec/allowConnections"}])
            if "allowConnections" in _database()["spec"] else None)
        os.kill(pid, signal.SIGSTOP)
        _patch_database([{"op": "add", "path": "/spec/allowConnections", "value": True}])
    bench.with_fault(f"F09/{kind}", probes, baselines, began)

    restore()
    bench.after(probes, baselines)


# -- F12 ---------------------------------------------------------------------------------
PRIVILEGES = {"SUPERUSER": ("superuser", "rolsuper"), "CREATEDB": ("createdb", "rolcreatedb"),
              "CREATEROLE": ("createrole", "rolcreaterole"),
              "REPLICATION": ("replication", "rolreplication"),
              "BYPASSRLS": ("bypassrls", "rolbypassrls")}


def _role_index() -> int:
    cluster = get_json("-n", DB_NAMESPACE, "cluster.postgresql.cnpg.io", CLUSTER)
    roles = cluster["spec"]["managed"]["roles"]
    return next(i for i, r in enumerate(roles) if r["name"] == ROLE)


def _set_attribute(key: str, value: bool) -> None:
    index = _role_index()
    kubectl("-n", DB_NAMESPACE, "patch", "cluster.postgresql.cnpg.io", CLUSTER, "--type",
            "json", "-p", json.dumps([
                {"op": "test", "path": f"/spec/managed/roles/{index}/name", "value": ROLE},
                {"op": "add", "path": f"/spec/managed/roles/{index}/{key}", "value": value}]))


def _live(column: str) -> bool:
    with postgres.connect("postgres") as conn:
        row = conn.execute(f"select {column} from pg_roles where rolname = %s",  # noqa: S608
                           (ROLE,)).fetchone()
    return bool(row and row[0])


@pytest.mark.parametrize("privilege", list(PRIVILEGES))
def test_F12_app_role_has_an_extra_privilege(bench: Bench, restore: Restore,
                                             privilege: str) -> None:
    key, column = PRIVILEGES[privilege]
    failing = f"{S.PRIVILEGE}[{privilege}]"
    probe = Probe(tests=(S.PRIVILEGE, S.DECLARED, S.GRANTS, S.ROLE_SCOPE), expect={
        failing: [rf"sets {key}: true", rf"pg_roles\.{column} is true",
                  rf"ALTER ROLE {ROLE} NO{privilege};", r"LOGIN only"],
        S.DECLARED: [rf"--provision would update managed role {ROLE}"]},
        outcome={S.DECLARED: "missing"})
    baselines = bench.before([probe])
    began = time.monotonic()

    def back() -> None:
        _set_attribute(key, False)
        wait_for(f"{ROLE} without {privilege} in PostgreSQL", lambda: not _live(column),
                 deadline=60)

    restore.add(f"{ROLE} without {privilege}", back)
    _set_attribute(key, True)
    wait_for(f"cnpg to give {ROLE} {privilege}", lambda: _live(column), deadline=60)
    bench.with_fault(f"F12/{privilege}", [probe], baselines, began)

    restore()
    bench.after([probe], baselines)
