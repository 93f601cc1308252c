"""kube-proxy of the sandbox node, in iptables mode: service addresses work from pods and host.

It runs with a kubeconfig of its own (user `system:kube-proxy`, which the bootstrap
RBAC policy binds to `system:node-proxier`), serves health and metrics on loopback,
opens NodePorts on the bridge address only, and leaves the machine's conntrack sysctls
alone.  `stop` runs `kube-proxy --cleanup`, so no KUBE-* rule survives `down`.
"""

from __future__ import annotations

import yaml

from sandbox import gobuild, kube, layout, proc

CONFIG = layout.ETC / "kube-proxy" / "config.yaml"
HEALTHZ = "127.0.0.1:10256"
METRICS = "127.0.0.1:10249"


def config(kubeconfig: str) -> dict[str, object]:
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": kubeconfig},
        "mode": "iptables",
        "hostnameOverride": layout.NODE_NAME,
        "clusterCIDR": layout.POD_CIDR,
        "detectLocalMode": "ClusterCIDR",
        "healthzBindAddress": HEALTHZ,
        "metricsBindAddress": METRICS,
        "nodePortAddresses": [f"{layout.BRIDGE_IP}/32"],
        "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s",
                      "tcpCloseWaitTimeout": "0s"},
        "iptables": {"masqueradeAll": False, "localhostNodePorts": False,
                     "syncPeriod": "30s", "minSyncPeriod": "1s"},
    }


def _binary() -> str:
    return str(gobuild.kubernetes_binary("kube-proxy"))


class KubeProxy(kube.KubernetesPart):
    name = "kube-proxy"
    daemons = ("kube-proxy",)
    start_deadline = 60.0

    def address(self) -> str:
        return f"http://{HEALTHZ}/healthz"

    def start(self) -> None:
        kubeconfig = kube.write_kubeconfig("kube-proxy", "system:kube-proxy")
        # a running kube-proxy exits by itself when its configuration file changes
        if kube.write_file(CONFIG, yaml.safe_dump(config(str(kubeconfig)), sort_keys=False)):
            proc.stop("kube-proxy")
        if proc.running("kube-proxy"):
            return
        for address in (HEALTHZ, METRICS):
            host, port = address.split(":")
            proc.require_free_port(self.name, host, int(port))
        proc.start("kube-proxy", [_binary(), f"--config={CONFIG}", "--v=1"])

    def probe(self) -> bool | str:
        return kube.probe(f"http://{HEALTHZ}/healthz")

    def stop(self) -> None:
        proc.stop("kube-proxy")
        proc.run(self.name, [_binary(), "--cleanup", "--v=0"], check=False, timeout=60)
