"""Steps about DNS: the change path of the app zone and the app host's A record."""

from __future__ import annotations

from pytest_bdd import given, then

from fixtures.http import Resolver
from fixtures.run import Evidence
from provisioning import base
from provisioning.dns import ARecord, read_tsig
from suite.check import expect
from suite.state import Run
from suite.targets import Target


@then("the DNS change path for the app zone is recorded in the inventory")
def dns_change_path(target: Target, resolver: Resolver, run: Run, evidence: Evidence) -> None:
    zone = str(target.require("dns.zone"))
    update = str(target.require("dns.update"))
    owner = str(target.require("dns.owner"))
    if update == "rfc2136":
        read_tsig(target)  # proves the key is there and readable; never printed
        path = (f"RFC 2136 update to {target.get('dns.server')}:{target.get('dns.port')} "
                f"signed with the TSIG key in {target.get('dns.tsig_key_file')}")
        registry_host = str(target.require("registry.host"))
        expect(bool(resolver.a_records(registry_host)), f"the zone's DNS server at "
               f"{target.get('dns.server')}:{target.get('dns.port')} to answer for "
               f"{registry_host}", "no answer", "start the DNS server (python -m sandbox up).")
    else:
        path = f"manual: {owner} adds records; T06 pauses until the record exists"
    run.cache.setdefault("inventory", {})["dns"] = path
    evidence.table("DNS change path", [{"zone": zone, "owner": owner, "change path": path}])
    expect(bool(zone) and bool(owner), "the zone and its owner in the target",
           f"zone {zone!r}, owner {owner!r}", "fill [dns] zone and owner in the target file.")


@given("the A record for the app host exists")
def a_record(target: Target, resolver: Resolver) -> None:
    base.ensure(ARecord(target, resolver))


@then("the app host resolves to the node's public address")
def resolves(target: Target, resolver: Resolver, evidence: Evidence) -> None:
    host = str(target.require("app.host"))
    address = str(target.require("cluster.node_public_ip"))
    found = resolver.a_records(host)
    evidence.table("A record", [{"host": host, "resolves to": ", ".join(found) or "NXDOMAIN",
                                 "expected": address}])
    expect(found == [address], f"{host} A {address}", f"{found or 'NXDOMAIN'}",
           "fix the A record through the zone's change path.")
