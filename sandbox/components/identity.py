"""The suite's least-privilege identity on the sandbox cluster, and its kubeconfig.

The suite talks to the cluster as the user `vergabe-suite` (a client certificate from
`cluster-ca`), never as an administrator.  Its rights are those the workplan needs and
no more:

* cluster-wide: create and read namespaces; read nodes, ingress classes, storage
  classes, CRDs, cert-manager issuers, certificates, requests, orders and challenges;
* in the app namespace `vergabe-teilnahme`: what a Helm release of the app needs
  (workloads, services, ingresses, secrets incl. Helm's release secrets, config maps,
  jobs, pods with logs/exec/port-forward, volume claims, events, service accounts,
  leases);
* in `databases`: read and patch cnpg Clusters (managed roles), create, read and patch
  cnpg Databases, and create Secrets (a role's password) without reading any other.

Role bindings live in a namespace, so both namespaces are created here if missing, the
way railiance01's administrators prepared them.  The manifests are applied with
`kubectl apply --server-side` as the administrator; applying them twice changes nothing.
The kubeconfig is .sandbox/kubeconfig/suite.yaml with the context `sandbox`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from sandbox import kube, proc
from sandbox.components.base import Component

USER = "vergabe-suite"
APP_NAMESPACE = "vergabe-teilnahme"
DATABASE_NAMESPACE = "databases"
FIELD_MANAGER = "wp-sandbox-identity"
READ = ["get", "list", "watch"]
ALL = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]
#: (verb, resource, namespace, expected answer of `kubectl auth can-i`) as the suite user
CHECKS = (
    ("create", "deployments", APP_NAMESPACE, "yes"),
    ("get", "secrets", "kube-system", "no"),
)


def _rule(groups: list[str], resources: list[str], verbs: list[str]) -> dict[str, object]:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs}


def cluster_rules() -> list[dict[str, object]]:
    return [
        _rule([""], ["namespaces"], [*READ, "create"]),
        _rule([""], ["nodes"], READ),
        _rule(["networking.k8s.io"], ["ingressclasses"], READ),
        # every Ingress, read-only: the app host must not collide with another one
        _rule(["networking.k8s.io"], ["ingresses"], READ),
        _rule(["storage.k8s.io"], ["storageclasses"], READ),
        _rule(["apiextensions.k8s.io"], ["customresourcedefinitions"], READ),
        _rule(["cert-manager.io"], ["clusterissuers", "issuers", "certificates",
                                    "certificaterequests"], READ),
        _rule(["acme.cert-manager.io"], ["orders", "challenges"], READ),
    ]


def app_rules() -> list[dict[str, object]]:
    return [
        _rule([""], ["pods", "services", "endpoints", "secrets", "configmaps",
                     "persistentvolumeclaims", "serviceaccounts", "events"], ALL),
        _rule([""], ["pods/log", "pods/status"], READ),
        _rule([""], ["pods/exec", "pods/attach", "pods/portforward"], ["get", "create"]),
        _rule(["apps"], ["deployments", "deployments/scale", "replicasets", "statefulsets"],
              ALL),
        _rule(["apps"], ["deployments/status"], READ),
        _rule(["batch"], ["jobs", "cronjobs"], ALL),
        _rule(["networking.k8s.io"], ["ingresses", "networkpolicies"], ALL),
        _rule(["policy"], ["poddisruptionbudgets"], ALL),
        _rule(["autoscaling"], ["horizontalpodautoscalers"], ALL),
        _rule(["coordination.k8s.io"], ["leases"], ALL),
        _rule(["discovery.k8s.io"], ["endpointslices"], READ),
        _rule(["events.k8s.io"], ["events"], READ),
        _rule(["cert-manager.io"], ["certificates"], ALL),
    ]


APP_ROLE_SECRET = "gitea-db-vergabe"  # noqa: S105 - the name of the role's Secret


def database_rules() -> list[dict[str, object]]:
    return [
        _rule(["postgresql.cnpg.io"], ["clusters"], ["get", "list", "watch", "patch"]),
        _rule(["postgresql.cnpg.io"], ["databases"], ["get", "list", "watch", "create",
                                                      "patch"]),
        _rule(["postgresql.cnpg.io"], ["scheduledbackups", "backups"], READ),
        _rule([""], ["secrets"], ["create"]),
        # the app role's password Secret, by name only: the DSN is built from it
        {**_rule([""], ["secrets"], ["get", "update", "patch"]),
         "resourceNames": [APP_ROLE_SECRET]},
        # the disposable psql pod that proves the role connects from inside the cluster
        _rule([""], ["pods"], ["get", "list", "create", "delete"]),
        _rule([""], ["pods/log"], ["get"]),
    ]


def _meta(name: str, namespace: str | None = None) -> dict[str, object]:
    meta: dict[str, object] = {"name": name, "labels": {
        "app.kubernetes.io/managed-by": "wp-sandbox", "app.kubernetes.io/part-of":
        "vergabe-suite-identity"}}
    if namespace:
        meta["namespace"] = namespace
    return meta


def _binding(kind: str, name: str, role_kind: str, namespace: str | None = None
             ) -> dict[str, object]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
            "metadata": _meta(name, namespace),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind,
                        "name": name},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                          "name": USER}]}


def manifests() -> list[dict[str, object]]:
    rbac = "rbac.authorization.k8s.io/v1"
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(APP_NAMESPACE)},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(DATABASE_NAMESPACE)},
        {"apiVersion": rbac, "kind": "ClusterRole", "metadata": _meta(USER),
         "rules": cluster_rules()},
        _binding("ClusterRoleBinding", USER, "ClusterRole"),
        {"apiVersion": rbac, "kind": "Role", "metadata": _meta(USER, APP_NAMESPACE),
         "rules": app_rules()},
        _binding("RoleBinding", USER, "Role", APP_NAMESPACE),
        {"apiVersion": rbac, "kind": "Role", "metadata": _meta(USER, DATABASE_NAMESPACE),
         "rules": database_rules()},
        _binding("RoleBinding", USER, "Role", DATABASE_NAMESPACE),
    ]


def kubectl() -> str:
    return str(Path(sys.executable).parent / "kubectl")


def can_i(kubeconfig: Path, verb: str, resource: str, namespace: str) -> str:
    answer = proc.run("identity", [kubectl(), "--kubeconfig", str(kubeconfig), "auth",
                                   "can-i", verb, resource, "-n", namespace], check=False,
                      timeout=30)
    return answer.stdout.strip() or answer.stderr.strip()[-160:]


class SuiteIdentity(Component):
    name = "identity"
    start_deadline = 30.0

    def address(self) -> str:
        return str(kube.kubeconfig_path("suite"))

    def version(self) -> str:
        return f"user {USER}"

    def start(self) -> None:
        kube.write_kubeconfig("suite", USER)
        documents = yaml.safe_dump_all(manifests(), sort_keys=False)
        proc.run(self.name, [kubectl(), "--kubeconfig", str(kube.kubeconfig_path("admin")),
                             "apply", "--server-side", "--force-conflicts",
                             f"--field-manager={FIELD_MANAGER}", "-f", "-"],
                 input=documents, timeout=60,
                 hint="Is the apiserver up? `python -m sandbox status` shows it.")

    def healthy(self) -> bool | str:
        config = kube.kubeconfig_path("suite")
        if not config.exists():
            return f"{config} is missing"
        for verb, resource, namespace, expected in CHECKS:
            found = can_i(config, verb, resource, namespace)
            if found != expected:
                return (f"`kubectl auth can-i {verb} {resource} -n {namespace}` as {USER} "
                        f"answered {found!r}, expected {expected!r}")
        return True

