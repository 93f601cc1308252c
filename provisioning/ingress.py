"""The app's Ingress: the manifest in the deployment repository, applied only when safe.

The manifest `manifests/vergabe-teilnahme-ingress.yaml` is modelled on the gitea one.
It is applied (server-side, with the suite's field manager) only once its certificate
can be issued — the host resolves to the node's public address and the ClusterIssuer is
Ready — because the safety contract forbids exposure before TLS.
"""

from __future__ import annotations

from typing import Any

import yaml

from fixtures.cluster import Kube
from fixtures.http import Resolver
from provisioning.base import FIELD_MANAGER, Provisioner, text_diff
from provisioning.repository import render
from suite import state
from suite.errors import NotEvaluated
from suite.state import Change
from suite.targets import Target

MANIFEST = "manifests/vergabe-teilnahme-ingress.yaml"
TLS_SECRET = "vergabe-teilnahme-tls"  # noqa: S105 - a Secret's name


def manifest_text(target: Target) -> str:
    return render("deploy/vergabe-teilnahme-ingress.yaml",
                  NAMESPACE=str(target.require("cluster.namespace")),
                  ISSUER=str(target.require("tls.issuer")),
                  INGRESS_CLASS=str(target.require("cluster.ingress_class")),
                  HOST=str(target.require("app.host")),
                  RELEASE=str(target.require("app.release")))


def issuer_ready(kube: Kube, name: str) -> bool:
    issuer = kube.get_custom("cert-manager.io", "v1", "clusterissuers", name) or {}
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in issuer.get("status", {}).get("conditions", []))


class AppliedIngress(Provisioner):
    name = "ingress"
    task = "T06"

    def __init__(self, target: Target, kube: Kube, resolver: Resolver) -> None:
        self.target = target
        self.kube = kube
        self.resolver = resolver
        self.path = target.path("deploy.repo") / MANIFEST

    def wanted(self) -> dict[str, Any]:
        source = self.path.read_text() if self.path.exists() else manifest_text(self.target)
        doc: dict[str, Any] = yaml.safe_load(source)
        return doc

    def plan(self) -> list[Change]:
        want = self.wanted()
        meta = want["metadata"]
        try:
            current = self.kube.net.read_namespaced_ingress(meta["name"], meta["namespace"])
        except Exception as exc:  # noqa: BLE001 - a 404 is the only expected failure
            if getattr(exc, "status", None) != 404:
                raise
            current = None
        if current is None:
            if not state.current().plan_only:
                self._safe_to_expose()
            return [self.change(f"Ingress {meta['namespace']}/{meta['name']}", "create",
                                yaml.safe_dump(want["spec"], sort_keys=False))]
        have = self.kube.api.sanitize_for_serialization(current.spec)
        have_text = yaml.safe_dump(have, sort_keys=True)
        want_text = yaml.safe_dump(_camel(want["spec"]), sort_keys=True)
        have_issuer = (current.metadata.annotations or {}).get("cert-manager.io/cluster-issuer")
        if have_text != want_text or have_issuer != meta["annotations"][
                "cert-manager.io/cluster-issuer"]:
            return [self.change(f"Ingress {meta['namespace']}/{meta['name']}", "update",
                                text_diff(have_text, want_text, "Ingress spec"))]
        return []

    def _safe_to_expose(self) -> None:
        host = str(self.target.require("app.host"))
        address = str(self.target.require("cluster.node_public_ip"))
        found = self.resolver.a_records(host)
        if found != [address]:
            raise NotEvaluated(f"the ingress for {host} is not applied yet: the host resolves "
                               f"to {found or 'nothing'}, not {address}, so its certificate "
                               "cannot be issued and the safety contract forbids exposure "
                               "before TLS.", next_action="add the A record first.")
        issuer = str(self.target.require("tls.issuer"))
        if not issuer_ready(self.kube, issuer):
            raise NotEvaluated(f"the ingress for {host} is not applied yet: the ClusterIssuer "
                               f"{issuer} is not Ready, so no certificate could be issued.",
                               next_action=f"fix the ClusterIssuer {issuer} (T01).")

    def apply(self, changes: list[Change]) -> None:
        want = self.wanted()
        meta = want["metadata"]
        self.kube.net.patch_namespaced_ingress(
            meta["name"], meta["namespace"], want, field_manager=FIELD_MANAGER, force=True,
            _content_type="application/apply-patch+yaml")


def _camel(spec: dict[str, Any]) -> dict[str, Any]:
    """The manifest's spec as the API serializes it (drops nothing, keeps key names)."""
    return spec
