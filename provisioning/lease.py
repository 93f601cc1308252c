"""The provisioning lease: one run at a time may change a target.

A coordination.k8s.io Lease `vergabe-acceptance-provisioning` in the app namespace names
the holder (host and pid) and when it took the lease.  A second run finds it held, and
stops at once naming the holder and since when.  The lease is released at the end of
the session; a killed run's lease is taken over at once on the same host (its pid is
gone) and expires by itself after DURATION elsewhere.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from suite.errors import ProvisioningLocked
from suite.state import Run

log = logging.getLogger("suite.provisioning.lease")

NAME = "vergabe-acceptance-provisioning"
DURATION = 900  # seconds; a killed run's lease expires after this


def identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _dead_here(holder: str) -> bool:
    """True when HOLDER is a run on this host whose process is gone (a killed run)."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def ensure_namespace(kube: Any, namespace: str) -> bool:
    """Create the app namespace (labelled as ours) if missing; True if created."""
    from provisioning.base import labels

    try:
        kube.core.read_namespace(namespace)
        return False
    except ApiException as exc:
        if exc.status != 404:
            raise
    kube.core.create_namespace(client.V1Namespace(
        metadata=client.V1ObjectMeta(name=namespace, labels=labels())))
    log.info("CREATE namespace %s", namespace)
    return True


def acquire(run: Run) -> None:
    if run.cache.get("lease_held"):
        return
    kube = run.cache.get("kube")
    if kube is None:
        return
    namespace = str(run.target.require("cluster.namespace"))
    if ensure_namespace(kube, namespace):
        from provisioning.base import OWNER  # noqa: F401 - keep the import graph obvious
        from suite.state import Change

        run.changes.append(Change("namespace", f"Namespace {namespace}", "create",
                                  applied=True, task="T05"))
    me = identity()
    body = client.V1Lease(
        metadata=client.V1ObjectMeta(name=NAME, namespace=namespace),
        spec=client.V1LeaseSpec(holder_identity=me, lease_duration_seconds=DURATION,
                                acquire_time=_now(), renew_time=_now()))
    try:
        kube.coord.create_namespaced_lease(namespace, body)
    except ApiException as exc:
        if exc.status != 409:
            raise
        current = kube.coord.read_namespaced_lease(NAME, namespace)
        spec = current.spec
        renewed = spec.renew_time or spec.acquire_time
        expired = renewed is None or (_now() - renewed).total_seconds() > (
            spec.lease_duration_seconds or DURATION)
        if spec.holder_identity and spec.holder_identity != me and not expired \
                and not _dead_here(spec.holder_identity):
            raise ProvisioningLocked(
                f"another provisioning run holds the lease {namespace}/{NAME}: "
                f"{spec.holder_identity}, since {spec.acquire_time:%Y-%m-%d %H:%M:%S} UTC. "
                "Wait for it to finish (or, if it was killed, for the lease to expire after "
                f"{DURATION // 60} minutes), then run again.") from None
        current.spec.holder_identity = me
        current.spec.acquire_time = _now()
        current.spec.renew_time = _now()
        kube.coord.replace_namespaced_lease(NAME, namespace, current)
    run.cache["lease_held"] = namespace
    log.info("lease %s/%s taken by %s", namespace, NAME, me)


def release(run: Run) -> None:
    namespace = run.cache.pop("lease_held", None)
    kube = run.cache.get("kube")
    if not namespace or kube is None:
        return
    try:
        current = kube.coord.read_namespaced_lease(NAME, namespace)
        if current.spec.holder_identity == identity():
            kube.coord.delete_namespaced_lease(NAME, namespace)
    except ApiException as exc:
        log.warning("could not release the lease: %s %s", exc.status, exc.reason)
