"""The controller manager and the scheduler of the sandbox node.

Both run with a kubeconfig and a client certificate of their own (user
`system:kube-controller-manager` / `system:kube-scheduler`, which the apiserver's
bootstrap RBAC policy knows), serve their health endpoints on loopback with a
certificate from `cluster-ca`, and skip leader election (there is one of each).  The
controller manager signs service-account tokens' root CA bundle and certificate signing
requests with `cluster-ca`, and hands the node the whole pod range as its podCIDR.
"""

from __future__ import annotations

from sandbox import gobuild, kube, layout, proc
from sandbox.components.apiserver import SERVICE_ACCOUNT_KEY


class _ControlPlaneDaemon(kube.KubernetesPart):
    binary = ""
    user = ""
    port = 0
    start_deadline = 60.0

    def address(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def common_flags(self) -> list[str]:
        config = kube.write_kubeconfig(self.name, self.user)
        cert, key = kube.serving_cert(f"{self.name}-serving", self.user,
                                      ["localhost", "127.0.0.1"])
        return [
            str(gobuild.kubernetes_binary(self.binary)),
            f"--kubeconfig={config}",
            f"--authentication-kubeconfig={config}",
            f"--authorization-kubeconfig={config}",
            "--bind-address=127.0.0.1",
            f"--secure-port={self.port}",
            f"--tls-cert-file={cert}",
            f"--tls-private-key-file={key}",
            "--leader-elect=false",
            "--profiling=false",
        ]

    def extra_flags(self) -> list[str]:
        return []

    def start(self) -> None:
        if proc.running(self.daemons[0]):
            return
        proc.require_free_port(self.name, "127.0.0.1", self.port)
        proc.start(self.daemons[0], self.common_flags() + self.extra_flags())

    def probe(self) -> bool | str:
        return kube.probe(f"https://127.0.0.1:{self.port}/healthz")


class ControllerManager(_ControlPlaneDaemon):
    name = "controller-manager"
    daemons = ("kube-controller-manager",)
    binary = "kube-controller-manager"
    user = "system:kube-controller-manager"
    port = 10257

    def extra_flags(self) -> list[str]:
        ca_cert, ca_key = kube.cluster_ca()
        return [
            f"--service-account-private-key-file={SERVICE_ACCOUNT_KEY}",
            f"--root-ca-file={ca_cert}",
            f"--cluster-signing-cert-file={ca_cert}",
            f"--cluster-signing-key-file={ca_key}",
            "--use-service-account-credentials=true",
            "--allocate-node-cidrs=true",
            f"--cluster-cidr={layout.POD_CIDR}",
            f"--node-cidr-mask-size={layout.POD_CIDR.split('/')[1]}",
            f"--service-cluster-ip-range={layout.SERVICE_CIDR}",
        ]


class Scheduler(_ControlPlaneDaemon):
    name = "scheduler"
    daemons = ("kube-scheduler",)
    binary = "kube-scheduler"
    user = "system:kube-scheduler"
    port = 10259
