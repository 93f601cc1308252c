"""The sandbox's Kubernetes node, checked against the running sandbox as the suite's user.

Aspects:
- the suite identity may deploy in the app namespace and may not read kube-system secrets;
- the node is a real kubelet on containerd (not a simulated one) and Ready;
- a Deployment of an image becomes Available; its pod's logs and `kubectl exec` work;
- a Job runs to completion;
- a ClusterIP Service answers from another pod (through kube-proxy);
- Helm installs, upgrades, rolls back and reports a release's status as JSON.

Every test works in the app namespace under names of its own, and deletes what it made.
Run `python -m sandbox up` first.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox import kube, layout
from sandbox.components.containerd import BUSYBOX_IMAGE
from sandbox.components.identity import APP_NAMESPACE

pytestmark = pytest.mark.sandbox

NAMESPACE = APP_NAMESPACE
KUBECTL = layout.BIN / "kubectl"
HELM = layout.BIN / "helm"
UP = "run `.venv/bin/python -m sandbox up` and look at `python -m sandbox status`"


def run(argv: list[str | Path], *, stdin: str | None = None, timeout: float = 120
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(part) for part in argv], input=stdin, capture_output=True,
                          text=True, timeout=timeout, check=False,
                          env={"KUBECONFIG": str(kube.kubeconfig_path("suite")),
                               "PATH": "/usr/bin:/bin"})


def kubectl(*args: str, stdin: str | None = None, timeout: float = 120
            ) -> subprocess.CompletedProcess[str]:
    return run([KUBECTL, "-n", NAMESPACE, *args], stdin=stdin, timeout=timeout)


def expect(ok: bool, expected: str, found: str, next_step: str) -> None:
    """Fail with what was expected, what was found, and what to do next."""
    __tracebackhide__ = True
    if not ok:
        pytest.fail(f"expected {expected}; found {found[-1500:]}; next: {next_step}",
                    pytrace=False)


def expect_success(done: subprocess.CompletedProcess[str], what: str, next_step: str) -> str:
    __tracebackhide__ = True
    expect(done.returncode == 0, f"{what} to succeed",
           f"exit {done.returncode}: {(done.stderr or done.stdout).strip()}", next_step)
    return done.stdout


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def apply(manifest: dict[str, Any]) -> None:
    expect_success(kubectl("apply", "-f", "-", stdin=json.dumps(manifest)),
                   f"applying {manifest['kind']} {manifest['metadata']['name']}", UP)


def delete(kind: str, name: str) -> None:
    kubectl("delete", kind, name, "--ignore-not-found", "--wait=false")


def busybox_pod_spec(command: str, **extra: Any) -> dict[str, Any]:
    return {"containers": [{"name": "main", "image": BUSYBOX_IMAGE,
                            "imagePullPolicy": "Never", "command": ["sh", "-c", command]}],
            "terminationGracePeriodSeconds": 1, **extra}


def web_deployment(name: str) -> dict[str, Any]:
    script = ("mkdir -p /www && echo hello-from-$(hostname) > /www/index.html && "
              "echo serving && exec httpd -f -p 8080 -h /www")
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": busybox_pod_spec(script)}}}


@pytest.fixture(scope="module")
def sandbox_up() -> None:
    """The suite kubeconfig exists and the node answers; otherwise say how to bring it up."""
    config = kube.kubeconfig_path("suite")
    expect(config.exists(), f"the suite kubeconfig {config}", "no such file", UP)
    done = run([KUBECTL, "get", "node", layout.NODE_NAME, "-o", "json"], timeout=20)
    expect_success(done, f"reading node {layout.NODE_NAME} as the suite user", UP)


@pytest.fixture(scope="module")
def web(sandbox_up: None) -> Iterator[str]:
    """A busybox httpd Deployment and a ClusterIP Service in front of it; yields the name."""
    name = unique("node-test-web")
    try:
        apply(web_deployment(name))
        apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
               "spec": {"selector": {"app": name},
                        "ports": [{"port": 80, "targetPort": 8080}]}})
        yield name
    finally:
        delete("service", name)
        delete("deployment", name)


@pytest.fixture(scope="module")
def client_pod(sandbox_up: None) -> Iterator[str]:
    """A long-running busybox pod to run commands in; yields its name."""
    name = unique("node-test-client")
    try:
        apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
               "spec": busybox_pod_spec("echo client-ready; exec sleep 3600")})
        done = kubectl("wait", "--for=condition=Ready", f"pod/{name}", "--timeout=90s")
        expect_success(done, f"pod {name} to become Ready within 90s",
                       f"`kubectl -n {NAMESPACE} describe pod {name}`; the kubelet log is "
                       f"{layout.LOGS / 'kubelet.log'}")
        yield name
    finally:
        delete("pod", name)


def can_i(verb: str, resource: str, namespace: str) -> str:
    done = run([KUBECTL, "auth", "can-i", verb, resource, "-n", namespace], timeout=20)
    return done.stdout.strip() or done.stderr.strip()


def test_suite_identity_may_create_deployments_in_the_app_namespace(sandbox_up: None) -> None:
    found = can_i("create", "deployments", NAMESPACE)
    expect(found == "yes", f"`auth can-i create deployments -n {NAMESPACE}` = yes", found,
           "re-run `python -m sandbox up` (it applies the identity's RBAC)")


def test_suite_identity_may_not_read_kube_system_secrets(sandbox_up: None) -> None:
    found = can_i("get", "secrets", "kube-system")
    expect(found == "no", "`auth can-i get secrets -n kube-system` = no", found,
           "the suite identity is too powerful: check sandbox/components/identity.py")


def test_the_node_is_a_real_kubelet_on_containerd(sandbox_up: None) -> None:
    done = run([KUBECTL, "get", "node", layout.NODE_NAME, "-o", "json"], timeout=20)
    node = json.loads(expect_success(done, "reading the node", UP))
    runtime = node["status"]["nodeInfo"]["containerRuntimeVersion"]
    ready = [c["status"] for c in node["status"]["conditions"] if c["type"] == "Ready"]
    expect(runtime.startswith("containerd://") and ready == ["True"],
           "a Ready node running containerd", f"runtime {runtime!r}, Ready {ready}",
           f"look at {layout.LOGS / 'kubelet.log'} and {layout.LOGS / 'containerd.log'}")


def test_a_deployment_becomes_available_with_logs_and_exec(web: str) -> None:
    done = kubectl("rollout", "status", f"deployment/{web}", "--timeout=90s")
    expect_success(done, f"deployment {web} to become Available within 90s",
                   f"`kubectl -n {NAMESPACE} describe deployment {web}`")

    logs = kubectl("logs", f"deployment/{web}")
    expect("serving" in logs.stdout, "the container's log to say 'serving'",
           logs.stdout or logs.stderr, "check the kubelet's streaming (kubelet.log)")

    exec_ = kubectl("exec", f"deployment/{web}", "--", "cat", "/www/index.html")
    expect(exec_.stdout.startswith("hello-from-"), "`kubectl exec` to print the index page",
           exec_.stdout or exec_.stderr,
           "check containerd's stream server and the apiserver -> kubelet path")


def test_a_job_runs_to_completion(sandbox_up: None) -> None:
    name = unique("node-test-job")
    try:
        apply({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
               "spec": {"backoffLimit": 0, "template": {"spec": busybox_pod_spec(
                   "echo job-done", restartPolicy="Never")}}})
        done = kubectl("wait", "--for=condition=Complete", f"job/{name}", "--timeout=90s")
        expect_success(done, f"job {name} to complete within 90s",
                       f"`kubectl -n {NAMESPACE} describe job {name}`")
        logs = kubectl("logs", f"job/{name}")
        expect(logs.stdout.strip() == "job-done", "the job's log 'job-done'",
               logs.stdout or logs.stderr, "look at the job's pod events")
    finally:
        delete("job", name)
        kubectl("delete", "pod", "-l", f"job-name={name}", "--ignore-not-found",
                "--wait=false")


def test_a_cluster_ip_service_answers_from_another_pod(web: str, client_pod: str) -> None:
    kubectl("rollout", "status", f"deployment/{web}", "--timeout=90s")
    address = kubectl("get", "service", web, "-o", "jsonpath={.spec.clusterIP}").stdout
    expect(address.startswith("10.214."), f"a ClusterIP in {layout.SERVICE_CIDR}",
           repr(address), "check the apiserver's --service-cluster-ip-range")

    answer = ""
    for _ in range(20):  # kube-proxy syncs its rules within a second or two
        got = kubectl("exec", client_pod, "--", "wget", "-qO-", f"http://{address}/",
                      timeout=30)
        answer = got.stdout or got.stderr
        if got.returncode == 0 and answer.startswith("hello-from-"):
            break
        time.sleep(1)
    expect(answer.startswith("hello-from-"), f"http://{address}/ to answer from {client_pod}",
           answer, f"check kube-proxy (`iptables-save | grep {web}`) and "
           f"{layout.LOGS / 'kube-proxy.log'}")


CHART = {
    "Chart.yaml": "apiVersion: v2\nname: node-test\nversion: 0.1.0\n",
    "values.yaml": "message: one\n",
    "templates/configmap.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"
        "data:\n  message: {{ .Values.message | quote }}\n"),
}


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    return run([HELM, "-n", NAMESPACE, *args], timeout=120)


def test_helm_installs_upgrades_rolls_back_and_reports(sandbox_up: None, tmp_path: Path
                                                        ) -> None:
    release = unique("node-test-helm")
    chart = tmp_path / "chart"
    for name, text in CHART.items():
        (chart / name).parent.mkdir(parents=True, exist_ok=True)
        (chart / name).write_text(text)
    try:
        expect_success(helm("upgrade", "--install", release, str(chart), "--wait"),
                       "helm upgrade --install", "run `.sandbox/bin/helm` by hand")
        expect_success(helm("upgrade", "--install", release, str(chart), "--set",
                            "message=two", "--wait"), "helm upgrade", "see above")
        expect_success(helm("rollback", release, "1", "--wait"), "helm rollback", "see above")

        status = json.loads(expect_success(helm("status", release, "-o", "json"),
                                           "helm status -o json", "see above"))
        found = (status["info"]["status"], status["version"])
        expect(found == ("deployed", 3), "release status deployed at revision 3", str(found),
               f"`.sandbox/bin/helm -n {NAMESPACE} history {release}`")
        message = kubectl("get", "configmap", release, "-o", "jsonpath={.data.message}")
        expect(message.stdout == "one", "the rolled-back value 'one'", message.stdout,
               "the rollback did not restore revision 1's manifest")
    finally:
        helm("uninstall", release, "--wait")
