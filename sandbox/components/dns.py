"""DNS: BIND (`named`) as the authoritative server for the sandbox zones (real).

It plays two parts.  For the suite it is the authority for the zones that mirror
production's public DNS (`coulomb.test`, `whywhynot.test`) on 127.0.0.1:5353; the only
way to change them is an RFC 2136 update signed with the TSIG key in
`.sandbox/secrets/tsig.key` -- the sandbox's "DNS change path" (unsigned updates are
REFUSED).  For pods it answers on the bridge gateway 10.213.0.1:53 (the kubelet's
clusterDNS) and serves `cluster.local`, whose Service records the operators process keeps
in sync with a second key.  There is no recursion: names outside these zones are REFUSED.
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import dns.message
import dns.query
import dns.rdatatype
import dns.tsig

from sandbox import layout, proc
from sandbox.components.base import Component
from sandbox.errors import SandboxError
from sandbox.operators import host

NAMED = Path("/usr/sbin/named")
DATA = layout.DATA / "dns"
CONF = layout.ETC / "named" / "named.conf"
CHANGE_KEY = "tsig.key"  # signs changes to the sandbox's public zones
CLUSTER_KEY = "cluster-dns.key"  # signs the Service record sync of cluster.local
CHANGE_KEY_NAME = "sandbox-dns-change"
CLUSTER_KEY_NAME = "sandbox-cluster-dns"
CLUSTER_ZONE = "cluster.local"
BRIDGE_DNS_PORT = 53

#: The records each zone starts with (name relative to the zone -> A address).
INITIAL_RECORDS: dict[str, dict[str, str]] = {
    "coulomb.test": {"ns1": "127.0.0.1", "gitea": layout.NODE_PUBLIC_IP},
    "whywhynot.test": {"ns1": "127.0.0.1"},
    CLUSTER_ZONE: {"ns1": layout.BRIDGE_IP},
}


@dataclass(frozen=True)
class TsigKey:
    """A TSIG key as BIND writes it: `key "NAME" { algorithm ...; secret "..."; };`."""

    name: str
    algorithm: str
    secret: str

    def keyring(self) -> dict[dns.name.Name, dns.tsig.Key]:
        key = dns.tsig.Key(self.name, self.secret, self.algorithm)
        return {key.name: key}

    def __repr__(self) -> str:  # never show the secret
        return f"TsigKey(name={self.name!r}, algorithm={self.algorithm!r})"


def read_key(filename: str = CHANGE_KEY) -> TsigKey:
    """Parse .sandbox/secrets/FILENAME (the format `nsupdate -k` reads)."""
    path = host.secret_path(filename)
    text = path.read_text(encoding="utf-8")
    found = re.search(r'key\s+"([^"]+)"\s*\{\s*algorithm\s+([\w-]+);\s*secret\s+"([^"]+)";',
                      text)
    if not found:
        raise SandboxError("dns", f"{path} is not a BIND key file", hint="Delete it and run "
                           "`python -m sandbox up` again to generate a new key.")
    return TsigKey(found.group(1), found.group(2), found.group(3))


def _ensure_key(filename: str, key_name: str) -> None:
    if host.secret_path(filename).exists():
        return
    secret = base64.b64encode(secrets.token_bytes(32)).decode()
    host.write_secret(filename, f'key "{key_name}" {{\n\talgorithm hmac-sha256;\n'
                                f'\tsecret "{secret}";\n}};\n')


def _zone_file(zone: str) -> Path:
    return DATA / f"{zone}.zone"


def _initial_zone(zone: str) -> str:
    lines = [f"$ORIGIN {zone}.", "$TTL 60",
             f"@ IN SOA ns1.{zone}. hostmaster.{zone}. 1 3600 600 86400 60",
             f"@ IN NS ns1.{zone}."]
    lines += [f"{name} IN A {address}" for name, address in INITIAL_RECORDS[zone].items()]
    return "\n".join(lines) + "\n"


def _config() -> str:
    change = host.secret_path(CHANGE_KEY)
    cluster = host.secret_path(CLUSTER_KEY)
    zones = []
    for zone in (*layout.ZONES, CLUSTER_ZONE):
        key = CLUSTER_KEY_NAME if zone == CLUSTER_ZONE else CHANGE_KEY_NAME
        zones.append(f'zone "{zone}" {{\n\ttype primary;\n\tfile "{_zone_file(zone)}";\n'
                     f'\tallow-update {{ key "{key}"; }};\n'
                     f'\tallow-transfer {{ key "{key}"; }};\n}};\n')
    return (f'// Written by the sandbox on every start (sandbox/components/dns.py).\n'
            f'include "{change}";\ninclude "{cluster}";\n'
            f"options {{\n\tdirectory \"{DATA}\";\n\tpid-file none;\n"
            f'\tsession-keyfile "{DATA / "session.key"}";\n'
            f"\tlisten-on port {layout.DNS_PORT} {{ 127.0.0.1; }};\n"
            f"\tlisten-on port {BRIDGE_DNS_PORT} {{ {layout.BRIDGE_IP}; }};\n"
            "\tlisten-on-v6 { none; };\n\trecursion no;\n\tallow-query { any; };\n"
            "\tnotify no;\n\tdnssec-validation no;\n\tempty-zones-enable no;\n"
            "\tautomatic-interface-scan yes;\n};\n"
            "controls { };\n" + "".join(zones))


def query_a(name: str, *, server: str = "127.0.0.1", port: int = layout.DNS_PORT,
            timeout: float = 2.0) -> list[str]:
    """The A records the sandbox DNS answers for NAME (empty when there are none)."""
    answer = dns.query.udp(dns.message.make_query(name, dns.rdatatype.A), server, port=port,
                           timeout=timeout)
    return sorted(rdata.address for rrset in answer.answer
                  if rrset.rdtype == dns.rdatatype.A for rdata in rrset)


class DNS(Component):
    """BIND 9 as the authoritative server of the sandbox zones (real)."""

    name = "dns"
    daemons = ("named",)
    start_deadline = 30.0

    def version(self) -> str:
        return "BIND 9.18"

    def address(self) -> str:
        return f"127.0.0.1:{layout.DNS_PORT},{layout.BRIDGE_IP}:53"

    def build(self) -> None:
        if not NAMED.exists():
            raise SandboxError(self.name, f"BIND is not installed ({NAMED} is missing)",
                               hint="Run scripts/bootstrap.sh; it installs Debian's bind9.")

    def start(self) -> None:
        if proc.running(self.daemons[0]):
            return
        proc.wait_for(self.name, f"the pod bridge address {layout.BRIDGE_IP}",
                      host.bridge_ready, deadline=60)
        proc.require_free_port(self.name, "127.0.0.1", layout.DNS_PORT)
        proc.require_free_port(self.name, layout.BRIDGE_IP, BRIDGE_DNS_PORT)
        _ensure_key(CHANGE_KEY, CHANGE_KEY_NAME)
        _ensure_key(CLUSTER_KEY, CLUSTER_KEY_NAME)
        DATA.mkdir(parents=True, exist_ok=True)
        for zone in (*layout.ZONES, CLUSTER_ZONE):
            if not _zone_file(zone).exists():  # after the first start, BIND owns the file
                _zone_file(zone).write_text(_initial_zone(zone))
        CONF.parent.mkdir(parents=True, exist_ok=True)
        CONF.write_text(_config())
        proc.run(self.name, ["named-checkconf", str(CONF)],
                 hint="The generated configuration is invalid; see the message above.")
        proc.start(self.daemons[0], [str(NAMED), "-g", "-4", "-c", str(CONF)])

    def healthy(self) -> bool | str:
        if not proc.running(self.daemons[0]):
            return "process named is not running"
        for server, port in (("127.0.0.1", layout.DNS_PORT), (layout.BRIDGE_IP, 53)):
            try:
                found = query_a(layout.GITEA_HOST, server=server, port=port, timeout=1)
            except (OSError, dns.exception.DNSException) as exc:
                return f"no answer on {server}:{port} ({type(exc).__name__})"
            if layout.NODE_PUBLIC_IP not in found:
                return f"{layout.GITEA_HOST} answers {found or 'nothing'} on {server}:{port}"
        return True
