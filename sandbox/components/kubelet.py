"""The kubelet of the sandbox node `localhost`, running real pods through containerd.

The node registers as `localhost` with the bridge address 10.213.0.1 as its InternalIP;
the apiserver reaches the kubelet by host name, so the kubelet listens on 127.0.0.1 only,
with a serving certificate for localhost/127.0.0.1 from `cluster-ca`.  Requests to it
are authenticated by client certificate or token review and authorized by the apiserver
(webhook).

Settings this machine needs, and why:

* `failCgroupV1: false` - the machine runs cgroup v1 (hybrid); kubelets from 1.35 on
  refuse cgroup v1 unless told otherwise.  `cgroupDriver: cgroupfs` - there is no
  systemd.
* `imageGCHighThresholdPercent: 100` - Debian's containerd (1.6.20, older than 1.6.22)
  does not pin the pause image, so image garbage collection could remove it.
* `evictionHard` minimal and `failSwapOn: false` - a development disk with 80 GB free
  must not trigger evictions.
* `resolvConf` - pods get the sandbox's DNS server (on the bridge address) and never the
  machine's upstream resolver.

`stop` unmounts the volumes the kubelet mounted and removes its iptables chains.
"""

from __future__ import annotations

import yaml

from sandbox import gobuild, kube, layout, proc
from sandbox.components.containerd import KUBELET_ROOT, SOCKET, unmount_below

CONFIG = layout.ETC / "kubelet" / "config.yaml"
RESOLV_CONF = layout.ETC / "kubelet" / "resolv.conf"
POD_LOGS = layout.DATA / "pod-logs"
HEALTHZ_PORT = 10248
#: The cluster DNS server the pods are given: the sandbox's DNS server on the bridge.
CLUSTER_DNS = layout.BRIDGE_IP


def config() -> dict[str, object]:
    cert, key = kube.serving_cert("kubelet-serving", f"system:node:{layout.NODE_NAME}",
                                  [layout.NODE_NAME, "127.0.0.1"])
    ca, _ = kube.cluster_ca()
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "failCgroupV1": False,
        "cgroupDriver": "cgroupfs",
        "containerRuntimeEndpoint": f"unix://{SOCKET}",
        "address": "127.0.0.1",
        "port": 10250,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": HEALTHZ_PORT,
        "tlsCertFile": str(cert),
        "tlsPrivateKeyFile": str(key),
        "rotateCertificates": False,
        "serverTLSBootstrap": False,
        "authentication": {"anonymous": {"enabled": False},
                           "webhook": {"enabled": True, "cacheTTL": "30s"},
                           "x509": {"clientCAFile": str(ca)}},
        "authorization": {"mode": "Webhook"},
        "clusterDNS": [CLUSTER_DNS],
        "clusterDomain": "cluster.local",
        "resolvConf": str(RESOLV_CONF),
        "podLogsDir": str(POD_LOGS),
        "failSwapOn": False,
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {"memory.available": "50Mi", "nodefs.available": "1%",
                         "nodefs.inodesFree": "1%", "imagefs.available": "1%"},
        "registerNode": True,
        "maxPods": 110,
        "serializeImagePulls": False,
        "staticPodPath": "",
        "syncFrequency": "10s",
        "fileCheckFrequency": "20s",
        "nodeStatusReportFrequency": "1m",
    }


class Kubelet(kube.KubernetesPart):
    name = "kubelet"
    daemons = ("kubelet",)
    start_deadline = 120.0

    def address(self) -> str:
        return f"https://{layout.NODE_NAME}:10250"

    def start(self) -> None:
        POD_LOGS.mkdir(parents=True, exist_ok=True)
        changed = kube.write_file(RESOLV_CONF, f"nameserver {CLUSTER_DNS}\n")
        changed = kube.write_file(CONFIG, yaml.safe_dump(config(), sort_keys=False)) or changed
        kubeconfig = kube.write_kubeconfig("kubelet", f"system:node:{layout.NODE_NAME}",
                                           "system:nodes")
        if changed:
            proc.stop("kubelet")  # pods keep running; the kubelet picks them up again
        if proc.running("kubelet"):
            return
        proc.require_free_port(self.name, "127.0.0.1", 10250)
        proc.require_free_port(self.name, "127.0.0.1", HEALTHZ_PORT)
        proc.start("kubelet", [
            str(gobuild.kubernetes_binary("kubelet")),
            f"--config={CONFIG}",
            f"--kubeconfig={kubeconfig}",
            f"--root-dir={KUBELET_ROOT}",
            f"--cert-dir={KUBELET_ROOT / 'pki'}",
            f"--hostname-override={layout.NODE_NAME}",
            f"--node-ip={layout.BRIDGE_IP}",
            "--v=1",
        ])

    def probe(self) -> bool | str:
        answer = kube.probe(f"http://127.0.0.1:{HEALTHZ_PORT}/healthz")
        return answer if answer is not True else _node_ready()

    def stop(self) -> None:
        proc.stop("kubelet")
        unmount_below(KUBELET_ROOT, including=False)
        remove_iptables_chains()


#: chains the kubelet creates in every table and family (hints for kube-proxy, a
#: canary, and a filter that drops packets from outside to 127.0.0.0/8)
KUBELET_CHAINS = ("KUBE-FIREWALL", "KUBE-KUBELET-CANARY", "KUBE-IPTABLES-HINT")


def _table(tool: str, table: str, *args: str) -> bool:
    return proc.run("kubelet", [tool, "-w", "5", "-t", table, *args], check=False).returncode == 0


def remove_iptables_chains() -> None:
    """Delete the kubelet's iptables chains and the jumps to them (IPv4 and IPv6)."""
    for tool in ("iptables", "ip6tables"):
        for hook in ("INPUT", "OUTPUT"):
            while _table(tool, "filter", "-D", hook, "-j", "KUBE-FIREWALL"):
                pass
        for table in ("filter", "nat", "mangle"):
            for chain in KUBELET_CHAINS:
                if _table(tool, table, "-n", "-L", chain):
                    _table(tool, table, "-F", chain)
                    _table(tool, table, "-X", chain)


def _node_ready() -> bool | str:
    from sandbox.components.apiserver import api_get

    answer = api_get(f"/api/v1/nodes/{layout.NODE_NAME}")
    if answer.status_code == 404:
        return f"node {layout.NODE_NAME} is not registered yet"
    answer.raise_for_status()
    conditions = {item["type"]: item for item in answer.json()["status"].get("conditions", [])}
    ready = conditions.get("Ready", {})
    if ready.get("status") == "True":
        return True
    return f"node not Ready: {ready.get('reason', '?')}: {ready.get('message', '')[:200]}"
