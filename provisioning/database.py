"""The app's PostgreSQL role and database, declared as cnpg resources.

* the password Secret (`kubernetes.io/basic-auth`, labelled as ours) in the cluster's
  namespace, generated once;
* the managed role on the shared Cluster: added with a JSON patch that tests the list
  first, so no other role of the Cluster is ever touched;
* the `Database` object owned by the role, through server-side apply with the suite's
  own field manager.
The role gets LOGIN and nothing else: no superuser, createdb, createrole, replication.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from fixtures.database import CNPG, Database
from provisioning.base import FIELD_MANAGER, OWNER_LABEL, Provisioner, labels, text_diff
from suite import redact
from suite.errors import Blocked
from suite.state import Change

ROLE_FLAGS = {"login": True, "superuser": False, "createdb": False, "createrole": False,
              "replication": False, "bypassrls": False, "inherit": True}


def database_object_name(db: Database) -> str:
    return f"{db.cluster_name}-{db.name.replace('_', '-')}"


def wanted_role(db: Database) -> dict[str, Any]:
    return {"name": db.role, "ensure": "present", "comment": "vergabe-teilnahme app role",
            **ROLE_FLAGS, "connectionLimit": -1,
            "passwordSecret": {"name": db.role_secret_name()}}


def wanted_database(db: Database) -> dict[str, Any]:
    return {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Database",
            "metadata": {"name": database_object_name(db), "namespace": db.namespace,
                         "labels": labels()},
            "spec": {"cluster": {"name": db.cluster_name}, "name": db.name, "owner": db.role,
                     "ensure": "present", "databaseReclaimPolicy": "retain"}}


class RoleSecret(Provisioner):
    name = "database-secret"
    task = "T04"

    def __init__(self, db: Database) -> None:
        self.db = db

    def plan(self) -> list[Change]:
        try:
            self.db.kube.core.read_namespaced_secret(self.db.role_secret_name(),
                                                     self.db.namespace)
            return []
        except ApiException as exc:
            if exc.status != 404:
                raise
        return [self.change(f"Secret {self.db.namespace}/{self.db.role_secret_name()}",
                            "create", "type kubernetes.io/basic-auth, username "
                            f"{self.db.role}, password generated (48 characters)")]

    def apply(self, changes: list[Change]) -> None:
        password = secrets.token_urlsafe(36)
        redact.register(password)
        self.db.kube.core.create_namespaced_secret(self.db.namespace, client.V1Secret(
            metadata=client.V1ObjectMeta(name=self.db.role_secret_name(),
                                         labels=labels({"cnpg.io/reload": "true"})),
            type="kubernetes.io/basic-auth",
            string_data={"username": self.db.role, "password": password}))


class ManagedRole(Provisioner):
    name = "database-role"
    task = "T04"

    def __init__(self, db: Database) -> None:
        self.db = db

    def plan(self) -> list[Change]:
        cluster = self.db.cluster()
        if cluster is None:
            raise Blocked(f"the shared database cluster {self.db.namespace}/"
                          f"{self.db.cluster_name} does not exist.",
                          next_action="railiance-platform designates the shared cnpg cluster "
                          "(T01), then the suite declares the role on it.",
                          who="railiance-platform")
        current = self.db.managed_role()
        want = wanted_role(self.db)
        if current is None:
            return [self.change(f"managed role {self.db.role} on Cluster "
                                f"{self.db.namespace}/{self.db.cluster_name}", "create",
                                json.dumps(want, indent=1))]
        drift = {k: v for k, v in want.items() if k != "comment" and current.get(k) != v}
        if drift:
            old = json.dumps({k: current.get(k) for k in drift}, indent=1, sort_keys=True)
            new = json.dumps(drift, indent=1, sort_keys=True)
            return [self.change(f"managed role {self.db.role} on Cluster "
                                f"{self.db.namespace}/{self.db.cluster_name}", "update",
                                text_diff(old, new, f"role {self.db.role}"))]
        return []

    def apply(self, changes: list[Change]) -> None:
        cluster = self.db.cluster() or {}
        roles = cluster.get("spec", {}).get("managed", {}).get("roles")
        want = wanted_role(self.db)
        if roles is None:
            ops = [{"op": "test", "path": "/metadata/resourceVersion",
                    "value": cluster["metadata"]["resourceVersion"]}]
            if "managed" not in cluster.get("spec", {}):
                ops.append({"op": "add", "path": "/spec/managed", "value": {"roles": [want]}})
            else:
                ops.append({"op": "add", "path": "/spec/managed/roles", "value": [want]})
        else:
            index = next((i for i, r in enumerate(roles) if r.get("name") == self.db.role),
                         None)
            if index is None:
                ops = [{"op": "test", "path": f"/spec/managed/roles/{len(roles) - 1}/name",
                        "value": roles[-1].get("name")} if roles else
                       {"op": "test", "path": "/spec/managed/roles", "value": []},
                       {"op": "add", "path": "/spec/managed/roles/-", "value": want}]
            else:
                ops = [{"op": "test", "path": f"/spec/managed/roles/{index}/name",
                        "value": self.db.role},
                       {"op": "replace", "path": f"/spec/managed/roles/{index}", "value": want}]
        self.db.kube.custom.patch_namespaced_custom_object(
            *CNPG, self.db.namespace, "clusters", self.db.cluster_name, ops,
            field_manager=FIELD_MANAGER, _content_type="application/json-patch+json")


class DatabaseObject(Provisioner):
    name = "database"
    task = "T04"

    def __init__(self, db: Database) -> None:
        self.db = db

    def plan(self) -> list[Change]:
        want = wanted_database(self.db)
        current = self.db.database_object()
        if current is None:
            return [self.change(f"Database {self.db.namespace}/{want['metadata']['name']}",
                                "create", json.dumps(want["spec"], indent=1))]
        drift = {k: v for k, v in want["spec"].items() if current.get("spec", {}).get(k) != v}
        if drift:
            return [self.change(f"Database {self.db.namespace}/{current['metadata']['name']}",
                                "update", text_diff(
                                    json.dumps(current.get("spec"), indent=1, sort_keys=True),
                                    json.dumps(want["spec"], indent=1, sort_keys=True),
                                    "Database spec"))]
        return []

    def apply(self, changes: list[Change]) -> None:
        want = wanted_database(self.db)
        current = self.db.database_object()
        name = current["metadata"]["name"] if current else want["metadata"]["name"]
        if current is not None and current["metadata"].get("labels", {}).get(OWNER_LABEL) is None:
            want["metadata"].pop("labels")
        want["metadata"]["name"] = name
        self.db.kube.custom.patch_namespaced_custom_object(
            *CNPG, self.db.namespace, "databases", name, want, field_manager=FIELD_MANAGER,
            force=True, _content_type="application/apply-patch+yaml")
