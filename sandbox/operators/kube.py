"""The stand-in controllers' view of the sandbox cluster: a thin layer over the dynamic client.

Every controller holds its own :class:`Kube` (one per thread): objects are plain dicts,
writes are server-side apply under one field manager, and status is merge-patched only when
it differs from what the object already says, so an idle loop writes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from kubernetes import config as kube_config
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.resource import Resource

from sandbox import layout

log = logging.getLogger("sandbox.operators.kube")

ADMIN_KUBECONFIG = layout.STATE / "kubeconfig" / "admin.yaml"
FIELD_MANAGER = "sandbox-operators"
Obj = dict[str, Any]


def now() -> str:
    """An RFC 3339 timestamp the apiserver accepts for metav1.Time fields."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def condition(kind: str, status: bool, reason: str, message: str,
              previous: list[Obj] | None = None, generation: int | None = None) -> Obj:
    """A metav1.Condition-like entry; keeps lastTransitionTime while the status holds."""
    value = "True" if status else "False"
    since = now()
    for old in previous or []:
        if old.get("type") == kind and old.get("status") == value:
            since = old.get("lastTransitionTime", since)
    entry: Obj = {"type": kind, "status": value, "reason": reason, "message": message,
                  "lastTransitionTime": since}
    if generation is not None:
        entry["observedGeneration"] = generation
    return entry


def owner_reference(owner: Obj, *, controller: bool = True) -> Obj:
    meta = owner["metadata"]
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": meta["name"],
            "uid": meta["uid"], "controller": controller, "blockOwnerDeletion": True}


class Kube:
    """A dynamic client on the admin kubeconfig, with the few verbs the stand-ins use."""

    def __init__(self, kubeconfig: Path = ADMIN_KUBECONFIG) -> None:
        self.client = DynamicClient(kube_config.new_client_from_config(str(kubeconfig)))
        self._resources: dict[tuple[str, str], Resource] = {}

    def resource(self, api_version: str, kind: str) -> Resource:
        key = (api_version, kind)
        if key not in self._resources:
            self._resources[key] = self.client.resources.get(api_version=api_version,
                                                             kind=kind)
        return self._resources[key]

    def list(self, api_version: str, kind: str, namespace: str | None = None,
             label_selector: str | None = None) -> list[Obj]:
        found = self.resource(api_version, kind).get(namespace=namespace,
                                                     label_selector=label_selector)
        items: list[Obj] = found.to_dict().get("items") or []
        for item in items:  # list items carry no apiVersion/kind of their own
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
        return items

    def get(self, api_version: str, kind: str, name: str,
            namespace: str | None = None) -> Obj | None:
        try:
            found: Obj = self.resource(api_version, kind).get(name=name,
                                                              namespace=namespace).to_dict()
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return found

    def apply(self, body: Obj) -> Obj:
        """Server-side apply BODY (force: the stand-ins own what they write)."""
        meta = body["metadata"]
        resource = self.resource(body["apiVersion"], body["kind"])
        applied: Obj = resource.server_side_apply(
            body=body, name=meta["name"], namespace=meta.get("namespace"),
            field_manager=FIELD_MANAGER, force_conflicts=True).to_dict()
        return applied

    def merge_patch(self, obj: Obj, patch: Obj) -> Obj:
        meta = obj["metadata"]
        resource = self.resource(obj["apiVersion"], obj["kind"])
        patched: Obj = resource.patch(body=patch, name=meta["name"],
                                      namespace=meta.get("namespace"),
                                      content_type="application/merge-patch+json").to_dict()
        return patched

    def set_status(self, obj: Obj, status: Obj) -> bool:
        """Merge STATUS into OBJ's status subresource unless it already says so."""
        current = obj.get("status") or {}
        if _matches(current, status):
            return False
        meta = obj["metadata"]
        resource = self.resource(obj["apiVersion"], obj["kind"])
        resource.status.patch(body={"status": status}, name=meta["name"],
                              namespace=meta.get("namespace"),
                              content_type="application/merge-patch+json")
        obj["status"] = {**current, **status}
        log.info("status of %s %s/%s: %s", obj["kind"], meta.get("namespace", "-"),
                 meta["name"], ", ".join(sorted(status)))
        return True

    def delete(self, api_version: str, kind: str, name: str,
               namespace: str | None = None) -> bool:
        try:
            self.resource(api_version, kind).delete(name=name, namespace=namespace)
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return True


def _matches(current: object, wanted: object) -> bool:
    """Whether CURRENT already says what WANTED says (None in WANTED means "absent")."""
    if isinstance(wanted, dict):
        if not isinstance(current, dict):
            return False
        return all((current.get(key) in (None, {}, [])) if value is None
                   else _matches(current.get(key), value) for key, value in wanted.items())
    return current == wanted


def api_error(exc: ApiException) -> str:
    """A short, bounded description of an API error (never the raw body)."""
    return f"HTTP {exc.status} {exc.reason}"
