"""Stand-in for CoreDNS's kubernetes plugin: Service A records in `cluster.local`.

A STAND-IN.  Production resolves `<svc>.<ns>.svc.cluster.local` with CoreDNS inside the
cluster; the sandbox's pods ask BIND on the bridge gateway (sandbox.components.dns), so
this loop copies every Service's ClusterIP into BIND's `cluster.local` zone with RFC 2136
updates signed by the cluster-DNS TSIG key.  Headless Services (no ClusterIP) get no
record.  The zone is read back with a signed AXFR every minute, so records that someone
else changed are put right.
"""

from __future__ import annotations

import logging
import time

import dns.name
import dns.query
import dns.rdatatype
import dns.update
import dns.zone

from sandbox import layout
from sandbox.components import dns as sandbox_dns
from sandbox.operators.kube import Kube

log = logging.getLogger("sandbox.operators.servicedns")

ZONE = sandbox_dns.CLUSTER_ZONE
TTL = 5
RESYNC = 60.0


def wanted_records(services: list[dict]) -> dict[str, str]:
    """`<svc>.<ns>.svc` (relative to cluster.local) -> ClusterIP, for every Service."""
    found: dict[str, str] = {}
    for service in services:
        address = (service.get("spec") or {}).get("clusterIP")
        if not address or address == "None":
            continue
        meta = service["metadata"]
        found[f"{meta['name']}.{meta['namespace']}.svc"] = address
    return found


class ServiceDnsSync:
    """Keeps `cluster.local` in BIND equal to the Services' ClusterIPs."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube
        self.key = sandbox_dns.read_key(sandbox_dns.CLUSTER_KEY)
        self.known: dict[str, str] | None = None
        self.read_at = 0.0

    def reconcile(self) -> None:
        wanted = wanted_records(self.kube.list("v1", "Service"))
        if self.known is None or time.monotonic() - self.read_at > RESYNC:
            self.known = self._zone_records()
            self.read_at = time.monotonic()
        stale = sorted(name for name in self.known if name not in wanted)
        changed = sorted(name for name, address in wanted.items()
                         if self.known.get(name) != address)
        if not stale and not changed:
            return
        update = dns.update.Update(ZONE, keyring=self.key.keyring(),
                                   keyname=dns.name.from_text(self.key.name),
                                   keyalgorithm=self.key.algorithm)
        for name in stale:
            update.delete(name, "A")
        for name in changed:
            update.replace(name, TTL, "A", wanted[name])
        answer = dns.query.tcp(update, "127.0.0.1", port=layout.DNS_PORT, timeout=5)
        if answer.rcode() != 0:
            self.known = None
            raise RuntimeError(f"BIND answered {dns.rcode.to_text(answer.rcode())} to the "
                               "cluster.local update")
        log.info("cluster.local: %d record(s) set, %d removed", len(changed), len(stale))
        for name in stale:
            self.known.pop(name, None)
        for name in changed:
            self.known[name] = wanted[name]

    def _zone_records(self) -> dict[str, str]:
        """The zone's `*.svc` A records, read with a signed zone transfer."""
        transfer = dns.query.xfr("127.0.0.1", ZONE, port=layout.DNS_PORT,
                                 keyring=self.key.keyring(),
                                 keyname=dns.name.from_text(self.key.name),
                                 keyalgorithm=self.key.algorithm, timeout=5)
        zone = dns.zone.from_xfr(transfer)
        found: dict[str, str] = {}
        for name, rdataset in zone.iterate_rdatasets(dns.rdatatype.A):
            text = name.to_text()
            if text.endswith(".svc"):
                found[text] = rdataset[0].address
        return found
