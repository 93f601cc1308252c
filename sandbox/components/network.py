"""The pod network: a Linux bridge of the sandbox's own, and the CNI configuration on it.

The bridge `wpsbr0` carries 10.213.0.1/24; it is the node's address (the kubelet needs a
non-loopback one) and the gateway through which pods reach the host-side services.
Containerd's CNI bridge plugin plugs each pod into it with an address from host-local
IPAM.  Only this bridge forwards packets (the machine-wide ip_forward is left alone),
and a rule of our own drops anything a pod sends towards any other interface, so pods
reach the sandbox and nothing else.  The service range is routed onto the bridge too,
so a service address without a kube-proxy rule never leaves the machine.
"""

from __future__ import annotations

import ipaddress
import json
import shutil
from pathlib import Path

from sandbox import kube, layout, proc
from sandbox.components.base import Component

CNI_DIR = layout.ETC / "cni"
CNI_NETWORK = "wp-sandbox"
IPAM_DIR = layout.DATA / "cni-ipam"
FORWARD_CHAIN = "WPSANDBOX-FORWARD"
_PREFIX = ipaddress.ip_network(layout.POD_CIDR).prefixlen


def conflist() -> dict[str, object]:
    network = ipaddress.ip_network(layout.POD_CIDR)
    return {
        "cniVersion": "1.0.0",
        "name": CNI_NETWORK,
        "plugins": [
            {"type": "bridge", "bridge": layout.BRIDGE, "isGateway": True, "ipMasq": False,
             "hairpinMode": True,
             "ipam": {"type": "host-local", "dataDir": str(IPAM_DIR),
                      "ranges": [[{"subnet": str(network),
                                   "rangeStart": str(network.network_address + 2),
                                   "gateway": layout.BRIDGE_IP}]],
                      "routes": [{"dst": "0.0.0.0/0"}]}},
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }


def _ip(*args: str, check: bool = True) -> str:
    return proc.run("network", ["ip", *args], check=check).stdout


def _iptables(*args: str, check: bool = True) -> bool:
    done = proc.run("network", ["iptables", "-w", "5", *args], check=check)
    return done.returncode == 0


class PodNetwork(Component):
    name = "network"
    start_deadline = 10.0

    def version(self) -> str:
        return layout.POD_CIDR

    def address(self) -> str:
        return f"{layout.BRIDGE} {layout.BRIDGE_IP}/{_PREFIX}"

    def start(self) -> None:
        self._bridge()
        self._forwarding()
        self._cni_config()

    def _bridge(self) -> None:
        if not Path(f"/sys/class/net/{layout.BRIDGE}").exists():
            _ip("link", "add", layout.BRIDGE, "type", "bridge")
        if f"{layout.BRIDGE_IP}/" not in _ip("-4", "-o", "addr", "show", "dev", layout.BRIDGE):
            _ip("addr", "add", f"{layout.BRIDGE_IP}/{_PREFIX}", "dev", layout.BRIDGE)
        _ip("link", "set", layout.BRIDGE, "up")
        _ip("route", "replace", layout.SERVICE_CIDR, "dev", layout.BRIDGE, "src",
            layout.BRIDGE_IP)

    def _forwarding(self) -> None:
        Path(f"/proc/sys/net/ipv4/conf/{layout.BRIDGE}/forwarding").write_text("1\n")
        if not _iptables("-n", "-L", FORWARD_CHAIN, check=False):
            _iptables("-N", FORWARD_CHAIN)
            _iptables("-A", FORWARD_CHAIN, "-i", layout.BRIDGE, "!", "-o", layout.BRIDGE,
                      "-j", "DROP")
        if not _iptables("-C", "FORWARD", "-j", FORWARD_CHAIN, check=False):
            _iptables("-I", "FORWARD", "1", "-j", FORWARD_CHAIN)

    def _cni_config(self) -> None:
        IPAM_DIR.mkdir(parents=True, exist_ok=True)
        kube.write_file(CNI_DIR / "10-wp-sandbox.conflist", json.dumps(conflist(), indent=2) + "\n")

    def healthy(self) -> bool | str:
        if not Path(f"/sys/class/net/{layout.BRIDGE}").exists():
            return f"bridge {layout.BRIDGE} does not exist"
        if "UP" not in _ip("-o", "link", "show", layout.BRIDGE).split(">")[0]:
            return f"bridge {layout.BRIDGE} is down"
        if f"{layout.BRIDGE_IP}/" not in _ip("-4", "-o", "addr", "show", "dev", layout.BRIDGE):
            return f"bridge {layout.BRIDGE} lacks {layout.BRIDGE_IP}"
        return True

    def stop(self) -> None:
        while _iptables("-D", "FORWARD", "-j", FORWARD_CHAIN, check=False):
            pass
        if _iptables("-n", "-L", FORWARD_CHAIN, check=False):
            _iptables("-F", FORWARD_CHAIN)
            _iptables("-X", FORWARD_CHAIN)
        if Path(f"/sys/class/net/{layout.BRIDGE}").exists():
            _ip("link", "del", layout.BRIDGE)
        # no pod survives `down`, so no address is still handed out
        shutil.rmtree(IPAM_DIR, ignore_errors=True)
