"""Steps about the shared cnpg cluster, the app's role and database, migrations and seed."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from psycopg import sql
from pytest_bdd import given, parsers, then, when

from fixtures import tools
from fixtures.cluster import Kube
from fixtures.database import Database
from fixtures.hosts import app_pod, container_facts
from fixtures.run import Evidence, run_command
from provisioning import base
from provisioning.app import OneShotJob
from provisioning.database import DatabaseObject, ManagedRole, RoleSecret
from suite import redact
from suite.check import eventually, expect
from suite.errors import CommandFailed, Missing
from suite.state import Run
from suite.targets import Target

PRIVILEGES = {"SUPERUSER": ("superuser", "rolsuper"), "CREATEDB": ("createdb", "rolcreatedb"),
              "CREATEROLE": ("createrole", "rolcreaterole"),
              "REPLICATION": ("replication", "rolreplication"),
              "BYPASSRLS": ("bypassrls", "rolbypassrls")}


def _conditions(obj: dict[str, Any]) -> str:
    return ", ".join(f"{c.get('type')}={c.get('status')}"
                     for c in obj.get("status", {}).get("conditions", [])) or "no conditions"


@when("I look up the shared database cluster named by the target")
def lookup_cluster(database: Database, ctx: dict[str, Any]) -> None:
    cluster = database.cluster()
    expect(cluster is not None, f"the cnpg Cluster {database.namespace}/"
           f"{database.cluster_name}", "it does not exist", "ask railiance-platform which "
           "cnpg cluster serves app databases and set [database] cluster in the target.")
    ctx["cluster"] = cluster


@then("the database cluster reports a healthy state")
def cluster_healthy(ctx: dict[str, Any], database: Database) -> None:
    status = ctx["cluster"].get("status", {})
    phase = str(status.get("phase", ""))
    ready = status.get("readyInstances", 0)
    instances = status.get("instances", 0)
    expect("healthy" in phase.lower() and ready == instances and instances > 0,
           f"Cluster {database.cluster_name} in a healthy state with all instances ready",
           f"phase {phase!r}, {ready}/{instances} ready, {_conditions(ctx['cluster'])}",
           f"`kubectl -n {database.namespace} describe cluster {database.cluster_name}`; "
           "railiance-platform owns the cluster.")


@then("its databases, managed roles and capacity are recorded in the inventory")
def cluster_inventory(ctx: dict[str, Any], database: Database, run: Run,
                      evidence: Evidence) -> None:
    cluster = ctx["cluster"]
    spec = cluster.get("spec", {})
    rows = [{"database": d["spec"].get("name"), "owner": d["spec"].get("owner"),
             "applied": d.get("status", {}).get("applied")} for d in database.database_objects()]
    roles = [{"role": r.get("name"), "login": r.get("login"), "ensure": r.get("ensure")}
             for r in database.managed_roles()]
    capacity = {"instances": spec.get("instances"),
                "storage": (spec.get("storage") or {}).get("size"),
                "resources": json.dumps(spec.get("resources") or {}),
                "version": spec.get("imageName", "")}
    run.cache.setdefault("inventory", {})["database"] = {
        "cluster": f"{database.namespace}/{database.cluster_name}", **capacity}
    evidence.table("cnpg cluster", [{"cluster": f"{database.namespace}/"
                                     f"{database.cluster_name}", **capacity}])
    evidence.table("databases", rows)
    evidence.table("managed roles", roles)
    expect(bool(rows) or bool(roles), "the cluster's databases and roles to be readable",
           "no Database objects and no managed roles", "check the suite's read access to "
           f"postgresql.cnpg.io in {database.namespace}.")


def ensure_role_and_database(database: Database) -> None:
    base.ensure(RoleSecret(database), ManagedRole(database), DatabaseObject(database))


@given("the app role is declared as a managed role of the shared cluster")
def role_declared(database: Database) -> None:
    base.ensure(RoleSecret(database), ManagedRole(database))


@given("the app database is declared as a cnpg Database owned by the app role")
def database_declared(database: Database) -> None:
    base.ensure(DatabaseObject(database))


@given("the app role and database are declared")
def role_and_database(database: Database) -> None:
    ensure_role_and_database(database)


@then("cnpg reports the app role reconciled")
def role_reconciled(database: Database, target: Target) -> None:
    def probe() -> tuple[bool, str]:
        status = (database.cluster() or {}).get("status", {}).get("managedRolesStatus", {})
        by_status = status.get("byStatus", {})
        if database.role in by_status.get("reconciled", []):
            return True, "reconciled"
        blocked = status.get("cannotReconcile", {}).get(database.role)
        where = [k for k, v in by_status.items() if database.role in v]
        return False, (f"cannotReconcile: {blocked}" if blocked else
                       f"status {where or 'absent from managedRolesStatus'}")

    if database.managed_role() is None:
        raise Missing(f"the managed role {database.role} is not declared on Cluster "
                      f"{database.namespace}/{database.cluster_name}.",
                      next_action="run with --provision.")
    eventually(probe, f"role {database.role} reconciled by cnpg",
               deadline=target.timeout("default"), interval=target.interval,
               next_step=f"`kubectl -n {database.namespace} get cluster {database.cluster_name}"
               " -o jsonpath='{.status.managedRolesStatus}'`")


@then("cnpg reports the app database applied")
def database_applied(database: Database, target: Target) -> None:
    obj = database.database_object()
    if obj is None:
        raise Missing(f"no cnpg Database for {database.name} on Cluster "
                      f"{database.cluster_name}.", next_action="run with --provision.")
    name = obj["metadata"]["name"]
    owner = obj["spec"].get("owner")
    expect(owner == database.role, f"Database {database.namespace}/{name} owned by the app "
           f"role {database.role}", f"it names the owner {owner!r}; cnpg reports "
           f"{_database_status(obj)}", f"set spec.owner: {database.role} on the Database (the "
           "role must exist as a managed role first) and apply it again.")

    def probe() -> tuple[bool, str]:
        current = database.database_object() or {}
        status = current.get("status", {})
        gen = current.get("metadata", {}).get("generation")
        done = status.get("applied") is True and status.get("observedGeneration") == gen
        return done, _database_status(current)

    eventually(probe, f"Database {database.namespace}/{name} applied by cnpg",
               deadline=target.timeout("default"), interval=target.interval,
               next_step=f"`kubectl -n {database.namespace} describe database {name}`: a "
               "message names what cnpg refused (an owner role that does not exist, a name "
               "another Database manages); an observedGeneration behind the generation means "
               "the cnpg operator has not reconciled it at all — check that it runs.")


def _database_status(obj: dict[str, Any]) -> str:
    status = obj.get("status") or {}
    generation = obj.get("metadata", {}).get("generation")
    return (f"applied={status.get('applied')}, message={status.get('message')!r}, "
            f"observedGeneration={status.get('observedGeneration')} of generation {generation}")


@then("a disposable psql pod connects to the app database as the app role")
def psql_pod(database: Database, kube: Kube, target: Target, evidence: Evidence) -> None:
    name = f"vergabe-psql-check-{secrets.token_hex(3)}"
    host = f"{database.cluster_name}-rw.{database.namespace}.svc.cluster.local"
    secret = database.role_secret_name()
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=base.labels()),
        spec=client.V1PodSpec(restart_policy="Never", containers=[client.V1Container(
            name="psql", image=str(target.require("database.psql_image")),
            image_pull_policy="IfNotPresent",
            command=["psql", "-h", host, "-U", database.role, "-d", database.name, "-tAc",
                     "select current_user || ' ' || current_database()"],
            env=[client.V1EnvVar(name="PGPASSWORD", value_from=client.V1EnvVarSource(
                secret_key_ref=client.V1SecretKeySelector(name=secret, key="password"))),
                 client.V1EnvVar(name="PGCONNECT_TIMEOUT", value="5")])]))
    kube.core.create_namespaced_pod(database.namespace, pod)
    try:
        def probe() -> tuple[bool, str]:
            phase = kube.core.read_namespaced_pod(name, database.namespace).status.phase
            return phase in ("Succeeded", "Failed"), f"phase {phase}"

        eventually(probe, f"psql pod {name} to finish", deadline=target.timeout("rollout"),
                   interval=target.interval, next_step=f"`kubectl -n {database.namespace} "
                   f"describe pod {name}`")
        phase = kube.core.read_namespaced_pod(name, database.namespace).status.phase
        output = redact.redact(kube.core.read_namespaced_pod_log(name, database.namespace)
                               .strip())
        evidence.text("psql from inside the cluster", f"{host}: {output}")
        expect(phase == "Succeeded" and output == f"{database.role} {database.name}",
               f"psql as {database.role} on {database.name} via {host}",
               f"{phase}: {output[:300]}", "check the role's password Secret, pg_hba and "
               "that the Database is applied.")
    finally:
        try:
            kube.core.delete_namespaced_pod(name, database.namespace, grace_period_seconds=0)
        except ApiException:
            pass


def live_role(database: Database) -> dict[str, Any] | None:
    try:
        conn = database.connect("postgres")
    except Exception:  # noqa: BLE001 - the cnpg view is still checked
        return None
    if conn is None:
        return None
    with conn:
        row = conn.execute("select rolsuper, rolcreatedb, rolcreaterole, rolreplication, "
                           "rolbypassrls from pg_roles where rolname = %s",
                           (database.role,)).fetchone()
    if row is None:
        return None
    return dict(zip(("rolsuper", "rolcreatedb", "rolcreaterole", "rolreplication",
                     "rolbypassrls"), row, strict=True))


@then(parsers.parse("the app role does not have the {privilege} attribute"))
def no_privilege(database: Database, privilege: str) -> None:
    spec_key, column = PRIVILEGES[privilege]
    role = database.managed_role()
    if role is None:
        raise Missing(f"the managed role {database.role} is not declared yet.",
                      next_action="run with --provision.")
    live = live_role(database) or {}
    where = []
    if role.get(spec_key):
        where.append(f"the managed role on Cluster {database.cluster_name} sets "
                     f"{spec_key}: true")
    if live.get(column):
        where.append(f"pg_roles.{column} is true in PostgreSQL")
    expect(not where, f"role {database.role} without {privilege}",
           "; ".join(where), f"set `{spec_key}: false` on the managed role (or run "
           f"`ALTER ROLE {database.role} NO{privilege};`) — the app role needs LOGIN only.")


@then("the app role owns only the app database and has no grants on other databases")
def role_scope(database: Database) -> None:
    owned = [d["spec"].get("name") for d in database.database_objects()
             if d["spec"].get("owner") == database.role]
    if not owned:
        raise Missing(f"no Database owned by {database.role} yet.",
                      next_action="run with --provision.")
    expect(owned == [database.name], f"{database.role} to own exactly {database.name}",
           f"it owns {owned}", "remove the extra Database objects or change their owner.")
    conn = database.connect(database.name)
    if conn is None:
        return
    with conn:
        rows = conn.execute(
            "select d.datname, pg_get_userbyid(d.datdba), "
            "exists(select 1 from aclexplode(d.datacl) a where a.grantee = r.oid) "
            "from pg_database d, pg_roles r where r.rolname = %s",
            (database.role,)).fetchall()
    extra = [f"{name} (owner)" for name, owner, _ in rows
             if owner == database.role and name != database.name]
    extra += [f"{name} (grant)" for name, _, granted in rows
              if granted and name != database.name]
    expect(not extra, f"no ownership or grant for {database.role} outside {database.name}",
           ", ".join(extra), f"REVOKE ALL ON DATABASE <name> FROM {database.role}; and "
           "move ownership back.")


@then("the app role is not the gitea role")
def not_gitea(database: Database) -> None:
    expect(database.role != "gitea", "a role of its own for the app", "the gitea role",
           "set [database] role to vergabe.")
    role = database.managed_role() or {}
    gitea = database.managed_role("gitea") or {}
    same_secret = (role.get("passwordSecret") or {}).get("name") == \
        (gitea.get("passwordSecret") or {}).get("name") and role
    expect(not same_secret, "separate password Secrets for gitea and the app role",
           "both name the same Secret", "give the app role its own Secret.")


def _exec(target: Target, kube: Kube, command: str) -> str:
    namespace = str(target.require("cluster.namespace"))
    pod = app_pod(kube, target)
    result = run_command([tools.find("kubectl"), "--kubeconfig",
                          target.path("cluster.kubeconfig"), "--context",
                          str(target.require("cluster.context")), "-n", namespace, "exec",
                          pod, "-c", "web", "--", "sh", "-c", command], timeout=120,
                         what="kubectl exec into the app pod")
    return result.stdout


@given("the migration Job for the deployed image has completed")
def migration_job(target: Target, kube: Kube) -> None:
    base.ensure(OneShotJob(target, kube, "migrate"))


@then("the database has no unapplied migrations")
def no_unapplied(target: Target, kube: Kube, run: Run, evidence: Evidence) -> None:
    facts = container_facts(kube, target, run)
    if facts.migrations_error:
        raise CommandFailed(f"`manage.py showmigrations --plan` in pod {facts.pod} failed: "
                            f"{facts.migrations_error}. Read the app pod's log; the database "
                            "may be unreachable from the app.")
    plan = facts.migrations
    pending = [line.strip() for line in plan.splitlines() if line.strip().startswith("[ ]")]
    evidence.text("migrations", f"{len(plan.splitlines())} migrations, {len(pending)} pending")
    expect(not pending, "every migration applied", f"{len(pending)} pending, first "
           f"{pending[0] if pending else ''}", "run `make vergabe-migrate`.")


COUNT_MODELS = ("python manage.py shell -c \"import json; from django.apps import apps; "
                "print(json.dumps({m._meta.db_table: m.objects.count() for m in "
                "apps.get_models() if not m.__module__.startswith('django.')}))\"")


@given("the seed has run")
def seed_has_run(target: Target, kube: Kube, ctx: dict[str, Any]) -> None:
    base.ensure(OneShotJob(target, kube, "migrate"))
    ctx["counts_before"] = json.loads(_exec(target, kube, COUNT_MODELS).strip().splitlines()[-1])


@when("I run the seed again")
def seed_again(target: Target, kube: Kube) -> None:
    _exec(target, kube, "python manage.py seed")


@then("the reference tables have the same row counts as before")
def seed_idempotent(target: Target, kube: Kube, ctx: dict[str, Any],
                    evidence: Evidence) -> None:
    after = json.loads(_exec(target, kube, COUNT_MODELS).strip().splitlines()[-1])
    before = ctx["counts_before"]
    evidence.table("rows per table, before and after a second seed",
                   [{"table": t, "before": before.get(t), "after": after.get(t)}
                    for t in sorted(after)])
    changed = {t: (before.get(t), n) for t, n in after.items() if before.get(t) != n}
    expect(not changed, "the seed to change no row count when run again",
           ", ".join(f"{t}: {b} before, {a} after" for t, (b, a) in changed.items()),
           "make the seed idempotent (update_or_create on a natural key).")


@given("the first superuser exists")
def superuser(target: Target, kube: Kube) -> None:
    base.ensure(OneShotJob(target, kube, "superuser"))


@then("the superuser's credentials are kept in a Secret, not in any output")
def superuser_secret(target: Target, kube: Kube) -> None:
    namespace = str(target.require("cluster.namespace"))
    name = f"{target.require('app.release')}-superuser"
    secret = kube.core.read_namespaced_secret(name, namespace)
    keys = sorted((secret.data or {}).keys())
    expect("DJANGO_SUPERUSER_PASSWORD" in keys, f"Secret {namespace}/{name} with the "
           "superuser's password", f"keys {keys}", "set superuser.password in the values.")
    import base64

    password = base64.b64decode((secret.data or {})["DJANGO_SUPERUSER_PASSWORD"]).decode()
    redact.register(password)
    job = OneShotJob(target, kube, "superuser").job_name()
    from provisioning.app import job_logs

    logs = job_logs(kube, namespace, job, lines=200)
    expect(password not in logs, "the password in no Job log", f"it is in the log of {job}",
           "never echo credentials in the superuser Job; rotate the password.")


@then("the app answers its database health check")
def health_db(target: Target, http: Any) -> None:
    url = f"https://{target.require('app.host')}/healthz/db"
    response = http.get(url, allow_redirects=False)
    expect(response.status_code == 200, f"{url} to answer 200", f"HTTP {response.status_code}"
           f" {response.text[:200]}", "check the DSN in the values and the role's password.")


@then("the database cluster has a backup configuration and a scheduled backup")
def backup_configured(database: Database, kube: Kube, evidence: Evidence) -> None:
    cluster = database.cluster() or {}
    backup = cluster.get("spec", {}).get("backup")
    scheduled = [s for s in kube.list_custom("postgresql.cnpg.io", "v1", "scheduledbackups",
                                             database.namespace)
                 if s.get("spec", {}).get("cluster", {}).get("name") == database.cluster_name]
    evidence.table("backup posture", [{"backup configured": bool(backup),
                                       "scheduled backups": ", ".join(
                                           s["metadata"]["name"] for s in scheduled)}])
    expect(bool(backup) and bool(scheduled), f"a backup configuration and a ScheduledBackup "
           f"for {database.cluster_name} (physical backups cover {database.name} too)",
           f"backup {'set' if backup else 'missing'}, {len(scheduled)} ScheduledBackup(s)",
           "open a railiance-platform follow-up: the app database is not backed up.")


@then("the most recent backup completed within the last two days")
def recent_backup(database: Database, kube: Kube) -> None:
    backups = [b for b in kube.list_custom("postgresql.cnpg.io", "v1", "backups",
                                           database.namespace)
               if b.get("spec", {}).get("cluster", {}).get("name") == database.cluster_name
               and b.get("status", {}).get("phase") == "completed"]
    stamps = sorted(b["status"].get("stoppedAt", "") for b in backups)
    expect(bool(stamps), "a completed Backup", "none", "check the ScheduledBackup.")
    last = dt.datetime.fromisoformat(stamps[-1].replace("Z", "+00:00"))
    age = dt.datetime.now(dt.UTC) - last
    expect(age < dt.timedelta(days=2), "a backup younger than two days",
           f"the last completed at {stamps[-1]} ({age.days} days ago)",
           "railiance-platform: check the backup schedule.")


@then("the suite changed nothing on the shared database cluster but its managed roles")
def cluster_untouched(database: Database) -> None:
    cluster = database.cluster() or {}
    ours = [m for m in cluster.get("metadata", {}).get("managedFields", [])
            if m.get("manager") == base.FIELD_MANAGER]
    touched: list[str] = []

    def walk(node: dict[str, Any], path: str) -> None:
        for key, value in node.items():
            here = f"{path}.{key[2:]}" if key.startswith("f:") else path
            if here.startswith(".spec.managed.roles"):
                continue
            if key.startswith("f:") and not value:
                touched.append(here)
            elif isinstance(value, dict):
                walk(value, here)

    for entry in ours:
        walk(entry.get("fieldsV1", {}), "")
    expect(not touched, "the suite's field manager on spec.managed.roles only",
           f"it also owns {touched[:5]}", "a change to the shared cluster's resources needs "
           "a railiance-platform task: revert it there.")


@then("the app database was created empty by this workplan, not restored from another database")
def fresh_database(database: Database) -> None:
    obj = database.database_object()
    if obj is None:
        raise Missing(f"no cnpg Database for {database.name} yet.",
                      next_action="run with --provision.")
    expect(base.owned(obj), f"Database {obj['metadata']['name']} created by this workplan "
           f"(label {base.OWNER_LABEL})", "it was created by someone else",
           "confirm it was not restored from a dev database (the workplan starts fresh).")
    conn = database.connect(database.name)
    if conn is None:
        return
    created = dt.datetime.fromisoformat(obj["metadata"]["creationTimestamp"].replace("Z",
                                                                                   "+00:00"))
    older: list[str] = []
    with conn:
        columns = conn.execute(
            "select table_name, column_name from information_schema.columns where "
            "table_schema = 'public' and column_name in ('erstellt_am', 'created_at', "
            "'date_joined')").fetchall()
        for table, column in columns:
            query = sql.SQL("select min({}) from {}").format(sql.Identifier(column),
                                                            sql.Identifier(table))
            row = conn.execute(query).fetchone()
            oldest = row[0] if row else None
            if oldest is not None and oldest < created - dt.timedelta(minutes=1):
                older.append(f"{table}.{column} from {oldest:%Y-%m-%d}")
    stamp = created.strftime("%Y-%m-%d %H:%M")
    expect(not older, f"no row older than the database itself (created {stamp})",
           ", ".join(older), "the workplan starts fresh: drop the imported data.")
