"""The app host's A record, added through the target's DNS change path.

Where the target names an RFC 2136 update path with a TSIG key (the sandbox), the record
is added with a signed dynamic update.  Where the change path is manual (production:
whywhynot.de is owned outside this operator's control), the scenario is BLOCKED with
the exact record to add and how the suite will verify it.
"""

from __future__ import annotations

import dns.name
import dns.query
import dns.rcode
import dns.tsigkeyring
import dns.update

from fixtures.http import Resolver
from provisioning.base import Provisioner
from suite import redact
from suite.errors import Blocked, SecretsUnavailable
from suite.state import Change
from suite.targets import Target


def read_tsig(target: Target) -> tuple[str, str, str]:
    """(key name, algorithm, secret) from a BIND-style key file."""
    path = target.path("dns.tsig_key_file")
    try:
        text = path.read_text()
    except OSError:
        raise SecretsUnavailable(f"the TSIG key file {path} named by [dns] tsig_key_file "
                                 "cannot be read.") from None
    import re

    name = re.search(r'key\s+"?([^"\s{]+)"?\s*{', text)
    algorithm = re.search(r"algorithm\s+([\w-]+)\s*;", text)
    secret = re.search(r'secret\s+"([^"]+)"\s*;', text)
    if not (name and algorithm and secret):
        raise SecretsUnavailable(f"the TSIG key file {path} is not a BIND key file (key "
                                 "NAME { algorithm …; secret \"…\"; };).")
    redact.register(secret.group(1))
    return name.group(1), algorithm.group(1), secret.group(1)


class ARecord(Provisioner):
    name = "dns-record"
    task = "T06"

    def __init__(self, target: Target, resolver: Resolver) -> None:
        self.target = target
        self.resolver = resolver
        self.host = str(target.require("app.host"))
        self.address = str(target.require("cluster.node_public_ip"))

    def plan(self) -> list[Change]:
        found = self.resolver.a_records(self.host)
        if found == [self.address]:
            return []
        action = "create" if not found else "update"
        if self.target.require("dns.update") != "rfc2136":
            raise Blocked(
                f"{self.host} resolves to {', '.join(found) or 'nothing (NXDOMAIN)'}, expected "
                f"an A record to {self.address}. The zone {self.target.get('dns.zone')} is "
                f"owned by {self.target.get('dns.owner')}, and this target has no update "
                "path, so T06 pauses here as the safety contract asks.",
                next_action=f"ask them to add `{self.host}. 300 IN A {self.address}`; the suite "
                "verifies it by resolving the name and then continues with the ingress.",
                who=str(self.target.get("dns.owner")))
        return [self.change(f"DNS A {self.host}", action,
                            f"{', '.join(found) or '(none)'} -> {self.address} via RFC 2136")]

    def apply(self, changes: list[Change]) -> None:
        key_name, algorithm, secret = read_tsig(self.target)
        zone = str(self.target.require("dns.zone"))
        keyring = dns.tsigkeyring.from_text({key_name: (algorithm, secret)})
        update = dns.update.UpdateMessage(zone, keyring=keyring,
                                          keyname=dns.name.from_text(key_name),
                                          keyalgorithm=dns.name.from_text(algorithm))
        relative = dns.name.from_text(self.host).relativize(dns.name.from_text(zone))
        update.replace(relative, 300, "A", self.address)
        response = dns.query.tcp(update, str(self.target.require("dns.server")),
                                 port=int(self.target.get("dns.port", 53)), timeout=5)
        if response.rcode() != dns.rcode.NOERROR:
            raise Blocked(f"the DNS server refused the update of {self.host}: "
                          f"{dns.rcode.to_text(response.rcode())}.",
                          next_action="check the TSIG key and the zone's update policy.",
                          who=str(self.target.get("dns.owner")))
