"""F10: the registry's auth challenge names a realm clients outside cannot use.

Aspects:
- a realm on an internal `http://…svc` URL (Gitea's ROOT_URL left at the in-cluster
  address) and an HTTPS realm on an internal host name both fail the challenge scenario,
  with the realm found and why a client outside cannot use it;
- the token scenario, which follows the realm, says the same instead of a stack trace;
- the realm is staged by restarting only the registry with WP_SANDBOX_REGISTRY_REALM, and
  put back by restarting it without.
"""

from __future__ import annotations

import os
import re
import sys
import time

import pytest

from sandbox.registry_token import REALM
from tests.conftest import ROOT
from tests.faults.edits import Restore, sh
from tests.faults.harness import Bench, Probe, S

REALMS = {
    "internal-http": ("http://gitea-http.gitea.svc.cluster.local:3000/v2/token",
                      [r"is an http URL, not HTTPS", r"cluster-internal name",
                       r"gitea-http\.gitea\.svc\.cluster\.local"]),
    "internal-name": ("https://gitea.internal/v2/token",
                      [r"its host gitea\.internal is a cluster-internal name"]),
}


def _registry_up(realm: str | None) -> None:
    env = {k: v for k, v in os.environ.items() if k != "WP_SANDBOX_REGISTRY_REALM"}
    if realm:
        env["WP_SANDBOX_REGISTRY_REALM"] = realm
    sh(sys.executable, "-m", "sandbox", "up", "--only", "registry", env=env, cwd=ROOT,
       timeout=120)


def _realm_now() -> str:
    from sandbox.components.registry import CONFIG

    return str(CONFIG.read_text().split("realm:", 1)[1].split()[0].strip("'\""))


@pytest.mark.parametrize("kind", list(REALMS))
def test_F10_registry_realm_unusable_from_outside(bench: Bench, restore: Restore,
                                                  kind: str) -> None:
    realm, why = REALMS[kind]
    found = [rf"realm '{re.escape(realm)}'", *why]
    probe = Probe(tests=(S.CHALLENGE, S.TOKEN), expect={
        S.CHALLENGE: [*found, r"ROOT_URL"],
        S.TOKEN: [rf"token realm '{re.escape(realm)}'", r"cannot be used", *why[:1],
                  r"does not send the push credential there"]})
    baselines = bench.before([probe])
    began = time.monotonic()
    restore.add("the registry's public realm", lambda: _registry_up(None))

    _registry_up(realm)
    assert _realm_now() == realm, f"expected the registry to name {realm}; it names " \
        f"{_realm_now()}"
    bench.with_fault(f"F10/{kind}", [probe], baselines, began)

    restore()
    assert _realm_now() == REALM, f"expected the realm {REALM} back; found {_realm_now()}"
    bench.after([probe], baselines)
