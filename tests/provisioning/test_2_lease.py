"""Provisioning takes a lease: a second run against the same target stops at once.

Aspects:
- while another live holder has the provisioning Lease, a --provision run that has
  something to change stops before changing it, naming the holder and since when;
- once the lease is gone the same run converges.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from sandbox import layout
from tests.conftest import run_suite

pytestmark = [pytest.mark.sandbox]

NAMESPACE = "vergabe-teilnahme"
LEASE = "vergabe-acceptance-provisioning"


def _api() -> client.ApiClient:
    cfg = client.Configuration()
    config.load_kube_config(str(layout.STATE / "kubeconfig" / "admin.yaml"),
                            client_configuration=cfg)
    return client.ApiClient(cfg)


def test_second_run_stops_at_the_lease(tmp_path: Path) -> None:
    api = _api()
    core, coord = client.CoreV1Api(api), client.CoordinationV1Api(api)
    try:
        core.read_namespace(NAMESPACE)
    except ApiException:
        pytest.skip("the app namespace does not exist; converge the sandbox first")
    since = dt.datetime.now(dt.UTC)
    coord.create_namespaced_lease(NAMESPACE, client.V1Lease(
        metadata=client.V1ObjectMeta(name=LEASE),
        spec=client.V1LeaseSpec(holder_identity="ci-runner-7:4242", lease_duration_seconds=600,
                                acquire_time=since, renew_time=since)))
    try:
        try:
            core.delete_namespaced_secret("registry-pull", NAMESPACE)
        except ApiException:
            pass
        run = run_suite(tmp_path / "locked", "--provision", "-m", "T03")
        assert run.returncode != 0, "expected the locked run to fail; it passed."
        assert "ci-runner-7:4242" in run.output and "since" in run.output, (
            f"expected the holder and since when; found:\n{run.output[-1200:]}")
        with pytest.raises(ApiException):
            core.read_namespaced_secret("registry-pull", NAMESPACE)
    finally:
        try:
            coord.delete_namespaced_lease(LEASE, NAMESPACE)
        except ApiException:
            pass
    run = run_suite(tmp_path / "free", "--provision", "-m", "T03")
    assert run.returncode == 0, (
        f"expected the run to converge without the lease:\n{run.output[-1200:]}")
