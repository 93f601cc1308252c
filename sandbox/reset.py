"""`python -m sandbox reset`: put railiance01-in-a-box back to where the workplan starts.

Removes everything the workplan adds — the release and what its namespace holds (the
namespace itself comes back empty, with the suite's rights in it, as `up` makes it), the
app's role and
database (cnpg objects and the real PostgreSQL role), the app host's A record, the
suite's branch in both repositories, and the app image in the registry — and leaves
everything that existed before untouched.  The project's own tests use it to check a
fresh sandbox on a machine whose sandbox was already converged.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from typing import Any

import dns.name
import dns.query
import dns.update
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from sandbox import layout
from sandbox.components import postgres
from sandbox.components.dns import read_key

log = logging.getLogger("sandbox.reset")

NAMESPACE = "vergabe-teilnahme"
DB_NAMESPACE = "databases"
CLUSTER = "gitea-db"
ROLE = "vergabe"
DATABASE = "vergabe_db"
BRANCH = "vergabe-acceptance"
CNPG = ("postgresql.cnpg.io", "v1")


def _api() -> client.ApiClient:
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(layout.STATE / "kubeconfig" / "admin.yaml"),
                            client_configuration=configuration)
    return client.ApiClient(configuration)


def _ignore_missing(call: object, *args: object, **kwargs: object) -> None:
    try:
        call(*args, **kwargs)  # type: ignore[operator]
    except ApiException as exc:
        if exc.status != 404:
            raise


def kubernetes_state(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    custom = client.CustomObjectsApi(api)
    subprocess.run([str(layout.BIN / "helm"), "uninstall", "vergabe-teilnahme", "-n",
                    NAMESPACE, "--wait"], capture_output=True, check=False, timeout=120,
                   env={"KUBECONFIG": str(layout.STATE / "kubeconfig" / "admin.yaml"),
                        "PATH": "/usr/bin:/bin"})
    _ignore_missing(core.delete_namespace, NAMESPACE)
    found: Any = custom.list_namespaced_custom_object(*CNPG, DB_NAMESPACE, "databases")
    for item in found["items"]:
        if item["spec"].get("name") == DATABASE:
            _ignore_missing(custom.delete_namespaced_custom_object, *CNPG, DB_NAMESPACE,
                            "databases", item["metadata"]["name"])
    cluster: Any = custom.get_namespaced_custom_object(*CNPG, DB_NAMESPACE, "clusters", CLUSTER)
    roles = cluster.get("spec", {}).get("managed", {}).get("roles", [])
    index = next((i for i, r in enumerate(roles) if r.get("name") == ROLE), None)
    if index is not None:
        custom.patch_namespaced_custom_object(
            *CNPG, DB_NAMESPACE, "clusters", CLUSTER,
            [{"op": "test", "path": f"/spec/managed/roles/{index}/name", "value": ROLE},
             {"op": "remove", "path": f"/spec/managed/roles/{index}"}],
            _content_type="application/json-patch+json")
    _ignore_missing(core.delete_namespaced_secret, f"{CLUSTER}-{ROLE}", DB_NAMESPACE)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            core.read_namespace(NAMESPACE)
        except ApiException as exc:
            if exc.status == 404:
                break
        time.sleep(1)


def database_state() -> None:
    with postgres.connect("postgres") as conn:
        conn.autocommit = True
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'DROP ROLE IF EXISTS "{ROLE}"')


def dns_state() -> None:
    key = read_key()
    update = dns.update.UpdateMessage("whywhynot.test", keyring=key.keyring(),
                                      keyname=dns.name.from_text(key.name),
                                      keyalgorithm=key.algorithm)
    update.delete(layout.APP_HOST.split(".")[0])
    dns.query.tcp(update, "127.0.0.1", port=layout.DNS_PORT, timeout=5)


def repositories() -> None:
    for name in ("railiance-apps", "vergabe-teilnahme"):
        repo = layout.REPOS / name
        if not (repo / ".git").exists():
            continue
        branches = subprocess.run(["git", "-C", str(repo), "branch", "--format",
                                   "%(refname:short)"], capture_output=True, text=True,
                                  check=True).stdout.split()
        main = "main" if "main" in branches else "master"
        subprocess.run(["git", "-C", str(repo), "checkout", "-q", "-f", main], check=True)
        subprocess.run(["git", "-C", str(repo), "clean", "-qfd"], check=True)
        if BRANCH in branches:
            subprocess.run(["git", "-C", str(repo), "branch", "-q", "-D", BRANCH], check=True)


def registry_state() -> None:
    repo = layout.DATA / "registry" / "docker" / "registry" / "v2" / "repositories" / \
        "coulomb" / "vergabe-teilnahme"
    shutil.rmtree(repo, ignore_errors=True)


def suite_identity() -> None:
    """The app namespace is gone with its RoleBindings: give the suite its rights back."""
    from sandbox.components.identity import SuiteIdentity

    SuiteIdentity().start()


def reset() -> None:
    api = _api()
    kubernetes_state(api)
    suite_identity()
    database_state()
    dns_state()
    repositories()
    registry_state()
    log.info("the workplan's state is removed; the sandbox is as the workplan finds it")
