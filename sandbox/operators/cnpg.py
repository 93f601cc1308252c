"""Stand-in for the CloudNativePG operator: reconciles the real cnpg API onto real PostgreSQL.

A STAND-IN.  The real operator runs PostgreSQL in pods built from images pulled from the
internet; the sandbox instead runs one Debian PostgreSQL 15 server on the host (see
sandbox.components.postgres) and this loop plays operator and instance manager for it:

* `Cluster`: the Services `<name>-rw`, `-ro`, `-r` (selectorless, with an EndpointSlice
  pointing at the bridge gateway 10.213.0.1:5432, where the server listens for pods);
  `spec.managed.roles` applied as real roles; `status` with phase, instances, conditions
  and `managedRolesStatus` in cnpg's shape.  Every Cluster object maps to the same server.
* `Database`: created, altered or dropped (`ensure`, `databaseReclaimPolicy` and the
  `cnpg.io/deleteDatabase` finalizer), `status.applied/message/observedGeneration`.
* `ScheduledBackup` -> `Backup` objects on the six-field cron schedule; a `Backup` is a
  real `pg_dumpall` of the server into `.sandbox/data/backups/` (cnpg backups are
  physical and cover every database of the cluster; so does this dump).
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import logging
import os
import subprocess
from pathlib import Path

import psycopg
from kubernetes.client.exceptions import ApiException

from sandbox import layout
from sandbox.components import postgres
from sandbox.operators import cron, pgsql
from sandbox.operators.kube import Kube, Obj, condition, now, owner_reference

log = logging.getLogger("sandbox.operators.cnpg")

API = "postgresql.cnpg.io/v1"
FINALIZER = "cnpg.io/deleteDatabase"
BACKUPS = layout.DATA / "backups"
SERVICE_SUFFIXES = ("rw", "ro", "r")
HEALTHY = "Cluster in healthy state"


def _parse_time(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


def _error_text(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class CnpgStandIn:
    """One reconcile pass over Clusters, Databases, ScheduledBackups and Backups."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube

    def reconcile(self) -> None:
        clusters = self.kube.list(API, "Cluster")
        try:
            conn: psycopg.Connection | None = postgres.connect(timeout=3)
            problem = ""
        except psycopg.Error as exc:
            conn, problem = None, _error_text(exc)
        try:
            by_name = {(c["metadata"]["namespace"], c["metadata"]["name"]): c for c in clusters}
            for cluster in clusters:
                self._cluster(cluster, conn, problem)
            if conn is not None:
                self._databases(by_name, conn)
            self._scheduled_backups(by_name)
            self._backups(by_name)
        finally:
            if conn is not None:
                conn.close()

    # -- Cluster ------------------------------------------------------------------------
    def _cluster(self, cluster: Obj, conn: psycopg.Connection | None, problem: str) -> None:
        self._services(cluster)
        status: Obj = {}
        if conn is not None:
            status["managedRolesStatus"] = self._roles(cluster, conn)
        status.update(self._cluster_health(cluster, problem))
        self.kube.set_status(cluster, status)

    def _services(self, cluster: Obj) -> None:
        meta = cluster["metadata"]
        for suffix in SERVICE_SUFFIXES:
            name = f"{meta['name']}-{suffix}"
            labels = {"cnpg.io/cluster": meta["name"], "cnpg.io/isManaged": "true"}
            owner = [owner_reference(cluster)]
            if self.kube.get("v1", "Service", name, meta["namespace"]) is None:
                log.info("creating Service %s/%s -> %s:%s", meta["namespace"], name,
                         layout.BRIDGE_IP, layout.POSTGRES_PORT)
            self.kube.apply({
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": name, "namespace": meta["namespace"], "labels": labels,
                             "ownerReferences": owner},
                "spec": {"type": "ClusterIP", "ports": [{
                    "name": "postgres", "port": layout.POSTGRES_PORT, "protocol": "TCP",
                    "targetPort": layout.POSTGRES_PORT}]}})
            self.kube.apply({
                "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"name": f"{name}-host", "namespace": meta["namespace"],
                             "ownerReferences": owner, "labels": {
                                 **labels, "kubernetes.io/service-name": name,
                                 "endpointslice.kubernetes.io/managed-by":
                                     "sandbox-operators"}},
                "addressType": "IPv4",
                "endpoints": [{"addresses": [layout.BRIDGE_IP],
                               "conditions": {"ready": True}}],
                "ports": [{"name": "postgres", "port": layout.POSTGRES_PORT,
                           "protocol": "TCP"}]})

    def _cluster_health(self, cluster: Obj, problem: str) -> Obj:
        spec, name = cluster.get("spec") or {}, cluster["metadata"]["name"]
        wanted = int(spec.get("instances", 1))
        previous = (cluster.get("status") or {}).get("conditions") or []
        if problem:
            ready = (False, "ClusterIsNotReady", f"PostgreSQL does not answer: {problem}")
            phase, ready_instances = "Setting up primary", 0
        elif wanted != 1:
            ready = (False, "ClusterIsNotReady", f"the sandbox stand-in runs one PostgreSQL "
                     f"instance; spec.instances asks for {wanted}")
            phase, ready_instances = "Waiting for the instances to become active", 1
        else:
            ready = (True, "ClusterIsReady", "Cluster is Ready")
            phase, ready_instances = HEALTHY, 1
        primary = f"{name}-1"
        conditions = [condition("Ready", ready[0], ready[1], ready[2], previous)]
        if spec.get("backup"):
            conditions.append(condition("ContinuousArchiving", True,
                                        "ContinuousArchivingSuccess",
                                        "Continuous archiving is working", previous))
        status: Obj = {
            "phase": phase, "phaseReason": "", "instances": wanted,
            "readyInstances": ready_instances, "currentPrimary": primary,
            "targetPrimary": primary, "instanceNames": [primary],
            "instancesStatus": {"healthy": [primary]} if ready_instances else {},
            "writeService": f"{name}-rw", "readService": f"{name}-r",
            "image": spec.get("imageName", ""), "latestGeneratedNode": 1,
            "conditions": conditions,
        }
        backups = self._completed_backups(cluster)
        if backups:
            status["lastSuccessfulBackup"] = backups[-1]["status"]["stoppedAt"]
            status["firstRecoverabilityPoint"] = backups[0]["status"]["stoppedAt"]
            conditions.append(condition("LastBackupSucceeded", True, "LastBackupSucceeded",
                                        "", previous))
        return status

    # -- managed roles --------------------------------------------------------------------
    def _roles(self, cluster: Obj, conn: psycopg.Connection) -> Obj:
        meta = cluster["metadata"]
        specs = ((cluster.get("spec") or {}).get("managed") or {}).get("roles") or []
        old_status = (cluster.get("status") or {}).get("managedRolesStatus") or {}
        password_status: Obj = dict(old_status.get("passwordStatus") or {})
        self._ensure_reserved(conn)
        in_db = pgsql.roles_in_database(conn)
        reconciled: list[str] = []
        pending: list[str] = []
        errors: dict[str, list[str]] = {}
        for spec in specs:
            name = spec["name"]
            if pgsql.role_is_reserved(name):
                errors[name] = [f"role {name} is reserved for PostgreSQL or the operator"]
                continue
            try:
                outcome = self._role(conn, meta["namespace"], spec, in_db.get(name),
                                     password_status)
            except (psycopg.Error, ApiException) as exc:
                errors[name] = [_error_text(exc)]
                continue
            if outcome:
                pending.append(name)
                errors[name] = [outcome]
            elif spec.get("ensure", "present") == "present":
                reconciled.append(name)
        managed = {spec["name"] for spec in specs}
        in_db = pgsql.roles_in_database(conn)
        not_managed = sorted(role for role in in_db if role not in managed
                             and not pgsql.role_is_reserved(role))
        by_status: Obj = {"reconciled": sorted(reconciled), "not-managed": not_managed,
                          "reserved": sorted(pgsql.RESERVED_ROLES)}
        by_status["pending-reconciliation"] = sorted(pending) or None
        for name in list(password_status):  # forget roles that left the spec
            if name not in managed:
                password_status[name] = None
        old_errors = old_status.get("cannotReconcile") or {}
        cannot: Obj = {**{name: None for name in old_errors}, **errors}
        status: Obj = {"byStatus": by_status, "cannotReconcile": cannot or None,
                       "passwordStatus": password_status or None}
        return status

    def _ensure_reserved(self, conn: psycopg.Connection) -> None:
        """cnpg's own replication role exists in every cluster it manages."""
        if "streaming_replica" not in pgsql.roles_in_database(conn):
            pgsql.apply_role(conn, {"name": "streaming_replica", "login": True,
                                    "replication": True}, exists=False, password=None)

    def _role(self, conn: psycopg.Connection, namespace: str, spec: Obj, current: Obj | None,
              password_status: Obj) -> str:
        """Apply one managed role; return "" when done, else why it is still pending."""
        name = spec["name"]
        if spec.get("ensure", "present") == "absent":
            if current is not None:
                log.info("dropping role %s", name)
                pgsql.drop_role(conn, name)
            password_status.pop(name, None)
            return ""
        password, version = None, None
        secret_name = (spec.get("passwordSecret") or {}).get("name")
        if secret_name:
            secret = self.kube.get("v1", "Secret", secret_name, namespace)
            if secret is None:
                return f"passwordSecret {secret_name} not found in namespace {namespace}"
            data = secret.get("data") or {}
            username = _decode(data.get("username"))
            if username and username != name:
                return (f"passwordSecret {secret_name} has username {username!r}, but the "
                        f"role is {name!r}")
            password = _decode(data.get("password"))
            if not password:
                return f"passwordSecret {secret_name} has no 'password' key"
            version = secret["metadata"]["resourceVersion"]
        known = (password_status.get(name) or {}).get("resourceVersion")
        set_password = current is None or (version is not None and version != known)
        if current is None or set_password or pgsql.role_differs(spec, current) or \
                spec.get("disablePassword"):
            log.info("%s role %s", "creating" if current is None else "updating", name)
            pgsql.apply_role(conn, spec, exists=current is not None,
                             password=password if set_password else None,
                             disable_password=bool(spec.get("disablePassword")))
        if version is not None:
            password_status[name] = {"resourceVersion": version, "transactionID": 0}
        return ""

    # -- Database -----------------------------------------------------------------------
    def _databases(self, clusters: dict[tuple[str, str], Obj],
                   conn: psycopg.Connection) -> None:
        databases = self.kube.list(API, "Database")
        for database in sorted(databases, key=lambda d: d["metadata"]["creationTimestamp"]):
            meta, spec = database["metadata"], database.get("spec") or {}
            cluster_name = str((spec.get("cluster") or {}).get("name"))
            cluster = clusters.get((meta["namespace"], cluster_name))
            if meta.get("deletionTimestamp"):
                self._database_deleted(database, conn)
                continue
            if FINALIZER not in (meta.get("finalizers") or []):
                self.kube.merge_patch(database, {"metadata": {
                    "finalizers": [*(meta.get("finalizers") or []), FINALIZER]}})
            message = self._database_problem(database, databases, cluster)
            if not message:
                try:
                    self._apply_database(spec, conn)
                except psycopg.Error as exc:
                    message = _error_text(exc)
            self.kube.set_status(database, {"applied": not message, "message": message,
                                            "observedGeneration": meta["generation"]})

    def _database_problem(self, database: Obj, everyone: list[Obj],
                          cluster: Obj | None) -> str:
        meta, spec = database["metadata"], database.get("spec") or {}
        if cluster is None:
            return (f"while fetching the cluster: Cluster {meta['namespace']}/"
                    f"{(spec.get('cluster') or {}).get('name')} not found")
        if spec.get("name") in pgsql.RESERVED_DATABASES:
            return f"the name {spec['name']} is reserved"
        for other in everyone:
            other_spec = other.get("spec") or {}
            if other is database or other["metadata"]["namespace"] != meta["namespace"]:
                continue
            if (other_spec.get("cluster") or {}).get("name") != spec["cluster"]["name"]:
                continue
            older = other["metadata"]["creationTimestamp"] < meta["creationTimestamp"]
            if other_spec.get("name") == spec.get("name") and older:
                return (f"database {spec['name']!r} is already managed by object "
                        f"{other['metadata']['name']!r}")
        return ""

    def _apply_database(self, spec: Obj, conn: psycopg.Connection) -> None:
        exists = pgsql.database_owner(conn, spec["name"]) is not None
        if spec.get("ensure", "present") == "absent":
            if exists:
                log.info("dropping database %s (ensure: absent)", spec["name"])
                pgsql.drop_database(conn, spec["name"])
            return
        if not exists:
            log.info("creating database %s owned by %s", spec["name"], spec["owner"])
            pgsql.create_database(conn, spec)
        else:
            pgsql.alter_database(conn, spec)

    def _database_deleted(self, database: Obj, conn: psycopg.Connection) -> None:
        meta, spec = database["metadata"], database.get("spec") or {}
        if FINALIZER not in (meta.get("finalizers") or []):
            return
        if spec.get("databaseReclaimPolicy", "retain") == "delete":
            log.info("dropping database %s (reclaim policy delete)", spec.get("name"))
            pgsql.drop_database(conn, spec["name"])
        rest = [f for f in meta.get("finalizers") or [] if f != FINALIZER]
        self.kube.merge_patch(database, {"metadata": {"finalizers": rest or None}})

    # -- backups ------------------------------------------------------------------------
    def _scheduled_backups(self, clusters: dict[tuple[str, str], Obj]) -> None:
        for scheduled in self.kube.list(API, "ScheduledBackup"):
            meta, spec = scheduled["metadata"], scheduled.get("spec") or {}
            status = scheduled.get("status") or {}
            if spec.get("suspend"):
                continue
            moment = dt.datetime.now(dt.UTC)
            try:
                following = cron.next_time(spec["schedule"], moment)
            except cron.CronError as exc:
                log.warning("ScheduledBackup %s/%s: %s", meta["namespace"], meta["name"], exc)
                continue
            due_at = status.get("nextScheduleTime")
            first = not status.get("lastCheckTime")
            due = (first and spec.get("immediate")) or (
                due_at is not None and _parse_time(due_at) <= moment)
            update: Obj = {"lastCheckTime": now(),
                           "nextScheduleTime": following.strftime("%Y-%m-%dT%H:%M:%SZ")}
            if due:
                self._create_backup(scheduled, moment)
                update["lastScheduleTime"] = now()
            if first or due or due_at is None:
                self.kube.set_status(scheduled, update)

    def _create_backup(self, scheduled: Obj, moment: dt.datetime) -> None:
        meta, spec = scheduled["metadata"], scheduled.get("spec") or {}
        name = f"{meta['name']}-{moment.strftime('%Y%m%d%H%M%S')}"
        owner = spec.get("backupOwnerReference", "none")
        references = [owner_reference(scheduled, controller=False)] if owner == "self" else []
        body: Obj = {"apiVersion": API, "kind": "Backup", "metadata": {
            "name": name, "namespace": meta["namespace"], "ownerReferences": references,
            "labels": {"cnpg.io/scheduled-backup": meta["name"],
                       "cnpg.io/cluster": spec["cluster"]["name"]}},
            "spec": {"cluster": spec["cluster"],
                     "method": spec.get("method", "barmanObjectStore"),
                     "target": spec.get("target", "prefer-standby"), "online": True}}
        if spec.get("pluginConfiguration"):
            body["spec"]["pluginConfiguration"] = spec["pluginConfiguration"]
        log.info("ScheduledBackup %s/%s: creating Backup %s", meta["namespace"], meta["name"],
                 name)
        self.kube.apply(body)

    def _backups(self, clusters: dict[tuple[str, str], Obj]) -> None:
        for backup in self.kube.list(API, "Backup"):
            meta, spec = backup["metadata"], backup.get("spec") or {}
            if (backup.get("status") or {}).get("phase") in ("completed", "failed"):
                continue
            cluster = clusters.get((meta["namespace"], spec["cluster"]["name"]))
            if cluster is None:
                self.kube.set_status(backup, {"phase": "failed", "error": "unknown cluster "
                                              f"{spec['cluster']['name']}"})
                continue
            self._run_backup(backup, cluster)

    def _run_backup(self, backup: Obj, cluster: Obj) -> None:
        meta = backup["metadata"]
        folder = BACKUPS / meta["namespace"] / cluster["metadata"]["name"]
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{meta['name']}.sql.gz"
        started = now()
        self.kube.set_status(backup, {"phase": "running", "startedAt": started})
        error = _pg_dumpall(target)
        barman = ((cluster.get("spec") or {}).get("backup") or {}).get("barmanObjectStore") or {}
        status: Obj = {
            "phase": "failed" if error else "completed", "startedAt": started,
            "stoppedAt": now(), "method": (backup.get("spec") or {}).get("method",
                                                                         "barmanObjectStore"),
            "backupId": dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S"),
            "backupName": meta["name"], "serverName": cluster["metadata"]["name"],
            "destinationPath": barman.get("destinationPath", str(folder)),
            "instanceID": {"podName": f"{cluster['metadata']['name']}-1"}, "online": True,
        }
        if error:
            status["error"] = error
        log.info("Backup %s/%s %s: %s", meta["namespace"], meta["name"], status["phase"],
                 error or target)
        self.kube.set_status(backup, status)

    def _completed_backups(self, cluster: Obj) -> list[Obj]:
        meta = cluster["metadata"]
        done = [b for b in self.kube.list(API, "Backup", meta["namespace"])
                if (b.get("spec") or {}).get("cluster", {}).get("name") == meta["name"]
                and (b.get("status") or {}).get("phase") == "completed"]
        return sorted(done, key=lambda b: b["status"]["stoppedAt"])


def _decode(value: str | None) -> str:
    return base64.b64decode(value).decode() if value else ""


def _pg_dumpall(target: Path) -> str:
    """Dump the whole server into TARGET (gzip, mode 600); return an error text or ""."""
    env = {**os.environ, "PGPASSWORD": postgres.superuser_password()}
    argv = ["pg_dumpall", "-h", "127.0.0.1", "-p", str(layout.POSTGRES_PORT), "-U",
            postgres.SUPERUSER]
    done = subprocess.run(argv, env=env, capture_output=True, timeout=600, check=False)
    if done.returncode != 0:
        return f"pg_dumpall exited {done.returncode}: " + done.stderr.decode(
            errors="replace").strip()[-300:]
    partial = target.with_name(target.name + ".partial")
    handle = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(handle, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb") as out:
        out.write(done.stdout)
    partial.rename(target)
    return ""
