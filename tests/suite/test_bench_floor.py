"""The bench's smoke floor finds the HTTP calls in the suite's own log lines.

Aspects:
- a Kubernetes API call logged by the cluster client wrapper (method, URL without its
  query, status, duration) is read back as one call, its query dropped;
- a failed API call (an ApiException) is still logged with its status and re-raised;
- the app's and the registry's request lines and the browser's page loads are read back;
  lines that are not calls (a login form's POST without a URL, prose) are not.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from bench.run import recorded_calls
from fixtures.cluster import log_each_call


class FakeRest:
    def __init__(self, status: int) -> None:
        self.status = status

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if self.status >= 400:
            raise ApiException(status=self.status, reason="Forbidden")
        return self


class FakeApi:
    def __init__(self, status: int) -> None:
        self.rest_client = FakeRest(status)


def test_api_calls_are_logged_and_read_back(caplog: pytest.LogCaptureFixture,
                                           tmp_path: Path) -> None:
    caplog.set_level(logging.INFO, logger="suite.cluster")
    ok, refused = FakeApi(200), FakeApi(403)
    log_each_call(ok)  # type: ignore[arg-type]
    log_each_call(refused)  # type: ignore[arg-type]

    ok.rest_client.request("GET", "https://127.0.0.1:6443/api/v1/namespaces/a/pods?limit=5")
    with pytest.raises(ApiException):
        refused.rest_client.request("POST", "https://127.0.0.1:6443/apis/authorization.k8s.io"
                                    "/v1/selfsubjectaccessreviews")
    log_file = tmp_path / "smoke.log"
    log_file.write_text("\n".join(r.getMessage() for r in caplog.records))

    assert recorded_calls(log_file) == [
        ("GET", "https://127.0.0.1:6443/api/v1/namespaces/a/pods"),
        ("POST", "https://127.0.0.1:6443/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"),
    ], f"expected both calls read back without the query; the log was:\n{log_file.read_text()}"
    assert "-> 403 in" in caplog.text, f"expected the refusal's status logged; found {caplog.text}"


def test_app_registry_and_browser_lines_are_calls(tmp_path: Path) -> None:
    log_file = tmp_path / "smoke.log"
    log_file.write_text(
        "18:00:01 INFO suite.http GET https://app.example.test/healthz -> 200 in 0.01s\n"
        "18:00:02 INFO suite.http GET https://gitea.example.test/v2/ -> 401 in 0.02s\n"
        "18:00:03 INFO suite.browser GET https://app.example.test/ -> 200 in 0.30s\n"
        "18:00:04 INFO suite.browser POST login form /accounts/login/ -> 302 in 0.90s\n"
        "18:00:05 INFO suite.cluster the GET https://x is not a call\n")

    assert [url for _, url in recorded_calls(log_file)] == [
        "https://app.example.test/healthz", "https://gitea.example.test/v2/",
        "https://app.example.test/"], "expected the three calls and nothing else"
