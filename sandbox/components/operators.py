"""Platform operators: the real cnpg and cert-manager APIs, stand-in controllers, pebble.

The CRDs are the projects' own (see sandbox.operators.crds); the controllers behind them
are stand-ins running as one Python process (sandbox.operators).  Certificates come from
a real ACME server: Debian's `pebble` on 127.0.0.1:14000, which resolves names through the
sandbox DNS and validates HTTP-01 challenges through Traefik on the node address, as
Let's Encrypt does through the public internet.
"""

from __future__ import annotations

import json
import shutil
import ssl
import sys
import urllib.request

from sandbox import layout, pki, proc
from sandbox.components.base import Component
from sandbox.errors import SandboxError
from sandbox.operators import crds
from sandbox.operators.kube import Kube

PEBBLE_PORT = 14000
PEBBLE_MANAGEMENT_PORT = 15000
PEBBLE_DIRECTORY = f"https://127.0.0.1:{PEBBLE_PORT}/dir"
PEBBLE_CONF = layout.ETC / "pebble.json"
#: Let's Encrypt's certificate lifetime, so that renewal times look like production's.
CERTIFICATE_LIFETIME_SECONDS = 90 * 24 * 3600


def pebble_config() -> dict[str, object]:
    cert, key = pki.ensure_leaf(pki.WEB_CA, "pebble", "pebble", ["localhost", "127.0.0.1"])
    return {"pebble": {
        "listenAddress": f"127.0.0.1:{PEBBLE_PORT}",
        "managementListenAddress": f"127.0.0.1:{PEBBLE_MANAGEMENT_PORT}",
        "certificate": str(cert), "privateKey": str(key),
        "httpPort": 80, "tlsPort": 443,  # where validation connects: Traefik on the node
        "ocspResponderURL": "", "externalAccountBindingRequired": False,
        "certificateValidityPeriod": CERTIFICATE_LIFETIME_SECONDS}}


def install_crds(kube: Kube) -> list[str]:
    """Apply the cnpg and cert-manager CRDs (server-side apply, idempotent)."""
    names = []
    for source in crds.SOURCES:
        for document in crds.documents(source):
            kube.apply(document)
            names.append(document["metadata"]["name"])
    return names


def crds_established(kube: Kube, names: list[str]) -> bool | str:
    waiting = []
    for name in names:
        crd = kube.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", name)
        conditions = ((crd or {}).get("status") or {}).get("conditions") or []
        if not any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
            waiting.append(name)
    return True if not waiting else f"not yet established: {', '.join(waiting)}"


def pebble_answers() -> bool | str:
    context = ssl.create_default_context(cafile=str(pki.web_ca()[0]))
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                         urllib.request.HTTPSHandler(context=context))
    with opener.open(PEBBLE_DIRECTORY, timeout=2) as answer:
        directory = json.load(answer)
    return True if "newOrder" in directory else f"unexpected directory {sorted(directory)}"


class PlatformOperators(Component):
    """cnpg and cert-manager CRDs, their stand-in controllers, and pebble (ACME)."""

    name = "operators"
    real = False
    daemons = ("operators", "pebble")
    start_deadline = 60.0

    def version(self) -> str:
        return f"{crds.CNPG_VERSION[1:]}/{crds.CERT_MANAGER_VERSION[1:]}"

    def address(self) -> str:
        return f"127.0.0.1:{PEBBLE_PORT} (ACME)"

    def build(self) -> None:
        if shutil.which("pebble") is None:
            raise SandboxError(self.name, "Debian's pebble (the ACME server) is not "
                               "installed", hint="Run scripts/bootstrap.sh.")
        for source in crds.SOURCES:
            crds.ensure_cached(source)

    def start(self) -> None:
        kubeconfig = layout.STATE / "kubeconfig" / "admin.yaml"
        proc.wait_for(self.name, "the admin kubeconfig", kubeconfig.exists, deadline=120)
        kube = Kube()
        names = install_crds(kube)
        proc.wait_for(self.name, "the CRDs to be established",
                      lambda: crds_established(kube, names), deadline=60)
        kube.apply({"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": "cert-manager"}})
        if not proc.running("pebble"):
            proc.require_free_port(self.name, "127.0.0.1", PEBBLE_PORT)
            PEBBLE_CONF.write_text(json.dumps(pebble_config(), indent=2) + "\n")
            proc.start("pebble", ["pebble", "-config", str(PEBBLE_CONF), "-dnsserver",
                                  f"127.0.0.1:{layout.DNS_PORT}"],
                       env={"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0"})
            proc.wait_for(self.name, "pebble's ACME directory", pebble_answers,
                          deadline=30, name="pebble")
        proc.start("operators", [sys.executable, "-m", "sandbox.operators"], cwd=layout.ROOT,
                   env={"PYTHONPATH": str(layout.ROOT), "PYTHONUNBUFFERED": "1"})

    def healthy(self) -> bool | str:
        health = super().healthy()
        if health is not True:
            return health
        try:
            return pebble_answers()
        except OSError as exc:
            return f"pebble does not answer on {PEBBLE_DIRECTORY} ({exc})"
