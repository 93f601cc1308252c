"""F07: the Helm release left pending-upgrade by an interrupted upgrade.

Aspects:
- an interrupted upgrade is staged the way Helm leaves it: a new release revision stored
  as `pending-upgrade` next to the deployed one;
- `--provision` of the release stops with ReleaseLocked before any change: it names the
  revision and the recovery command, makes no change, and adds no revision;
- the dry run says the same instead of Helm's "another operation is in progress";
- the recovery command from the message works, and the release converges again.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import time
from typing import Any

from tests.faults.edits import (
    ADMIN_KUBECONFIG,
    HELM,
    NAMESPACE,
    RELEASE,
    Restore,
    get_json,
    kubectl,
    sh,
)
from tests.faults.harness import Bench, Probe, S


def _release_secrets() -> list[dict[str, Any]]:
    found = get_json("-n", NAMESPACE, "secrets", "-l", f"owner=helm,name={RELEASE}")["items"]
    return sorted(found, key=lambda s: int(s["metadata"]["labels"]["version"]))


def _decode(secret: dict[str, Any]) -> dict[str, Any]:
    raw = base64.b64decode(base64.b64decode(secret["data"]["release"]))
    data: dict[str, Any] = json.loads(gzip.decompress(raw))
    return data


def _encode(release: dict[str, Any]) -> str:
    packed = base64.b64encode(gzip.compress(json.dumps(release).encode()))
    return base64.b64encode(packed).decode()


def _stage_interrupted_upgrade() -> int:
    """Store revision N+1 as pending-upgrade, as `helm upgrade` does before it is killed."""
    latest = _release_secrets()[-1]
    release = _decode(latest)
    revision = int(release["version"]) + 1
    release["version"] = revision
    release["info"]["status"] = "pending-upgrade"
    release["info"]["description"] = "Preparing upgrade"
    labels = {**latest["metadata"]["labels"], "status": "pending-upgrade",
              "version": str(revision), "modifiedAt": str(int(time.time()))}
    body = {"apiVersion": "v1", "kind": "Secret", "type": latest["type"],
            "metadata": {"name": f"sh.helm.release.v1.{RELEASE}.v{revision}",
                         "namespace": NAMESPACE, "labels": labels},
            "data": {"release": _encode(release)}}
    kubectl("apply", "-f", "-", input=json.dumps(body))
    return revision


def _drop_staged(revision: int) -> None:
    """The safety net: remove the staged revision if the test did not recover it."""
    name = f"sh.helm.release.v1.{RELEASE}.v{revision}"
    for secret in _release_secrets():
        if secret["metadata"]["name"] == name and \
                secret["metadata"]["labels"].get("status") == "pending-upgrade":
            kubectl("-n", NAMESPACE, "delete", "secret", name)


def test_F07_release_left_pending_upgrade(bench: Bench, restore: Restore) -> None:
    locked = [r"locked in pending-upgrade at revision (\d+)", r"changes nothing",
              rf"helm rollback {RELEASE} \d+ -n {NAMESPACE}"]
    probe = Probe(tests=(S.RELEASE_FILES, S.VALUES, S.RENDER, S.DEPLOYED),
                  expect={S.DEPLOYED: locked, S.RENDER: locked}, args=("--provision",))
    baselines = bench.before([probe])
    began = time.monotonic()
    before = [s["metadata"]["name"] for s in _release_secrets()]

    revision = int(_release_secrets()[-1]["metadata"]["labels"]["version"]) + 1
    restore.add(f"release {RELEASE} revision {revision} gone", lambda: _drop_staged(revision))
    assert _stage_interrupted_upgrade() == revision
    runs = bench.with_fault("F07", [probe], baselines, began)

    applied = runs[0].changes()
    assert not applied, (f"expected the locked release to stop provisioning before any change;"
                         f" found {[(c['action'], c['object']) for c in applied]}")
    after = [s["metadata"]["name"] for s in _release_secrets()]
    assert after == [*before, f"sh.helm.release.v1.{RELEASE}.v{revision}"], (
        f"expected no revision beyond the staged {revision}; found {after}")
    reason = next(s["reason"] for s in runs[0].record["scenarios"]
                  if s["nodeid"].endswith(S.DEPLOYED))
    assert f"revision {revision}" in reason, f"expected revision {revision} named: {reason}"

    command = re.search(rf"`(helm rollback {RELEASE} \d+ -n {NAMESPACE})`", reason)
    assert command, f"expected a recovery command in the message: {reason}"
    sh(HELM, *command.group(1).split()[1:], "--wait", "--timeout", "5m",
       env={"KUBECONFIG": str(ADMIN_KUBECONFIG)}, timeout=400)
    bench.after([probe], baselines)
