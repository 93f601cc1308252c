"""The sandbox cluster's credentials: the cluster CA, client certificates and kubeconfigs.

Every Kubernetes component and every user of the sandbox cluster authenticates with a
client certificate signed by `cluster-ca` (see sandbox.pki); the user name is the
certificate's common name, its group the organization.  Kubeconfigs embed the
certificates, so a kubeconfig file is all a client needs.
"""

from __future__ import annotations

import base64
from pathlib import Path

import requests
import yaml

from sandbox import gobuild, layout, pki
from sandbox.components.base import Component

KUBECONFIGS = layout.STATE / "kubeconfig"
CONTEXT = "sandbox"
CLUSTER_CA = "cluster-ca"
APISERVER_URL = f"https://127.0.0.1:{layout.APISERVER_PORT}"


def cluster_ca() -> tuple[Path, Path]:
    """The cluster CA's certificate and key (created once)."""
    return pki.ensure_ca(CLUSTER_CA, "railiance sandbox cluster CA")


def client_cert(name: str, user: str, group: str | None = None) -> tuple[Path, Path]:
    """A client certificate .sandbox/pki/NAME.{crt,key} for USER in GROUP."""
    cluster_ca()
    return pki.ensure_leaf(CLUSTER_CA, name, user, [], organization=group, server=False,
                           client=True)


def serving_cert(name: str, common_name: str, names: list[str]) -> tuple[Path, Path]:
    """A serving certificate for NAMES (DNS names or IP addresses)."""
    cluster_ca()
    return pki.ensure_leaf(CLUSTER_CA, name, common_name, names)


def write_file(path: Path, text: str, mode: int | None = None) -> bool:
    """Write TEXT to PATH unless it already holds it; True when the file changed.

    Daemons that watch their configuration (kube-proxy exits when it changes) are not
    disturbed by an `up` that writes the same content again.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_text() == text:
        return False
    path.write_text(text)
    if mode is not None:
        path.chmod(mode)
    return True


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def kubeconfig_path(name: str) -> Path:
    return KUBECONFIGS / f"{name}.yaml"


def write_kubeconfig(name: str, user: str, group: str | None = None,
                     server: str = APISERVER_URL) -> Path:
    """Write .sandbox/kubeconfig/NAME.yaml for USER (client cert auth, context 'sandbox')."""
    ca_cert, _ = cluster_ca()
    cert, key = client_cert(f"{name}-client", user, group)
    config = {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": CONTEXT, "cluster": {
            "server": server, "certificate-authority-data": _b64(ca_cert)}}],
        "users": [{"name": user, "user": {
            "client-certificate-data": _b64(cert), "client-key-data": _b64(key)}}],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": user}}],
        "current-context": CONTEXT,
    }
    path = kubeconfig_path(name)
    write_file(path, yaml.safe_dump(config, sort_keys=False), mode=0o600)
    return path


def probe(url: str, *, secure: bool = True, admin: bool = False) -> bool | str:
    """GET URL (a health endpoint); True on 200, else a short text of what answered."""
    ca, _ = cluster_ca()
    cert = None
    if admin:
        paths = client_cert("admin-client", "sandbox-admin", "system:masters")
        cert = (str(paths[0]), str(paths[1]))
    try:
        answer = requests.get(url, cert=cert, verify=str(ca) if secure else True, timeout=3)
    except requests.RequestException as exc:
        return f"{url} does not answer ({type(exc).__name__})"
    return True if answer.status_code == 200 else (
        f"{url} answered {answer.status_code}: {answer.text[:160]}")


class KubernetesPart(Component):
    """A component that runs one of the Kubernetes binaries built by sandbox.gobuild."""

    def version(self) -> str:
        return f"v{layout.KUBERNETES_VERSION}"

    def build(self) -> None:
        gobuild.build_kubernetes(self.name)

    def healthy(self) -> bool | str:
        base = super().healthy()
        return base if base is not True else self.probe()

    def probe(self) -> bool | str:
        """The component's own health check, once its processes run."""
        return True
