"""The Kubernetes API server of the sandbox node, built from the Go module proxy.

It listens on 127.0.0.1 only, stores its state in kine, speaks TLS with certificates
from `cluster-ca`, authenticates clients by certificate (and service-account tokens) and
authorizes with the Node authorizer and RBAC.  It advertises the bridge address
10.213.0.1: pods reach it through the `kubernetes` service, whose endpoint is that
address, so a small TCP relay (socat) forwards 10.213.0.1:6443 to the loopback listener;
TLS stays end to end.  It reaches kubelets by host name (the node is called `localhost`).
It also writes the administrator's kubeconfig, .sandbox/kubeconfig/admin.yaml.
"""

from __future__ import annotations

import ipaddress

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from sandbox import gobuild, kube, layout, pki, proc

SERVICE_ACCOUNT_KEY = layout.PKI / "service-accounts.key"
SERVICE_ACCOUNT_PUB = layout.PKI / "service-accounts.pub"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
RELAY = "apiserver-relay"
#: signs the client certificate with which the apiserver calls aggregated API servers
FRONT_PROXY_CA = "front-proxy-ca"


def kubernetes_service_ip() -> str:
    return str(ipaddress.ip_network(layout.SERVICE_CIDR).network_address + 1)


def ensure_service_account_keys() -> None:
    """The key pair that signs and verifies service-account tokens (created once)."""
    if SERVICE_ACCOUNT_KEY.exists() and SERVICE_ACCOUNT_PUB.exists():
        return
    layout.PKI.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    SERVICE_ACCOUNT_KEY.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    SERVICE_ACCOUNT_KEY.chmod(0o600)
    SERVICE_ACCOUNT_PUB.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def admin_kubeconfig() -> str:
    return str(kube.kubeconfig_path("admin"))


def api_get(path: str, timeout: float = 3.0) -> requests.Response:
    """GET PATH on the apiserver as the sandbox administrator."""
    ca, _ = kube.cluster_ca()
    cert, key = kube.client_cert("admin-client", "sandbox-admin", "system:masters")
    return requests.get(f"{kube.APISERVER_URL}{path}", cert=(str(cert), str(key)),
                        verify=str(ca), timeout=timeout)


class APIServer(kube.KubernetesPart):
    name = "apiserver"
    daemons = ("kube-apiserver", RELAY)
    start_deadline = 120.0

    def address(self) -> str:
        return kube.APISERVER_URL

    def _credentials(self) -> None:
        kube.cluster_ca()
        ensure_service_account_keys()
        kube.serving_cert("apiserver", "kube-apiserver", [
            "localhost", "127.0.0.1", layout.BRIDGE_IP, kubernetes_service_ip(),
            "kubernetes", "kubernetes.default", "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local"])
        kube.client_cert("apiserver-kubelet-client", "kube-apiserver-kubelet-client",
                         "system:masters")
        kube.write_kubeconfig("admin", "sandbox-admin", "system:masters")
        pki.ensure_ca(FRONT_PROXY_CA, "railiance sandbox front-proxy CA")
        pki.ensure_leaf(FRONT_PROXY_CA, "front-proxy-client", "front-proxy-client", [],
                        server=False, client=True)

    def start(self) -> None:
        self._credentials()
        if not proc.running("kube-apiserver"):
            proc.require_free_port(self.name, "127.0.0.1", layout.APISERVER_PORT)
            proc.start("kube-apiserver", self.argv())
        if not proc.running(RELAY):
            proc.require_free_port(self.name, layout.BRIDGE_IP, layout.APISERVER_PORT)
            proc.start(RELAY, [
                "socat",
                f"TCP-LISTEN:{layout.APISERVER_PORT},bind={layout.BRIDGE_IP},reuseaddr,fork",
                f"TCP:127.0.0.1:{layout.APISERVER_PORT}"])

    def argv(self) -> list[str]:
        folder = layout.PKI
        return [
            str(gobuild.kubernetes_binary("kube-apiserver")),
            f"--etcd-servers=http://127.0.0.1:{layout.KINE_PORT}",
            "--bind-address=127.0.0.1",
            f"--secure-port={layout.APISERVER_PORT}",
            f"--advertise-address={layout.BRIDGE_IP}",
            f"--tls-cert-file={folder / 'apiserver.crt'}",
            f"--tls-private-key-file={folder / 'apiserver.key'}",
            f"--client-ca-file={folder / 'cluster-ca.crt'}",
            f"--kubelet-client-certificate={folder / 'apiserver-kubelet-client.crt'}",
            f"--kubelet-client-key={folder / 'apiserver-kubelet-client.key'}",
            f"--kubelet-certificate-authority={folder / 'cluster-ca.crt'}",
            "--kubelet-preferred-address-types=Hostname",
            "--authorization-mode=Node,RBAC",
            "--enable-admission-plugins=NodeRestriction",
            "--allow-privileged=true",
            f"--service-account-key-file={SERVICE_ACCOUNT_PUB}",
            f"--service-account-signing-key-file={SERVICE_ACCOUNT_KEY}",
            f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
            f"--service-cluster-ip-range={layout.SERVICE_CIDR}",
            "--service-node-port-range=30000-32767",
            f"--requestheader-client-ca-file={folder / (FRONT_PROXY_CA + '.crt')}",
            "--requestheader-allowed-names=front-proxy-client",
            "--requestheader-username-headers=X-Remote-User",
            "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            f"--proxy-client-cert-file={folder / 'front-proxy-client.crt'}",
            f"--proxy-client-key-file={folder / 'front-proxy-client.key'}",
            "--profiling=false",
            "--v=1",
        ]

    def probe(self) -> bool | str:
        return kube.probe(f"{kube.APISERVER_URL}/readyz", admin=True)
