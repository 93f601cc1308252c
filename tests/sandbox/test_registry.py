"""The sandbox's registry and its Traefik front, checked the way clients meet them.

Aspects:
- `https://gitea.coulomb.test/v2/` (through Traefik on 127.0.0.2, TLS verified with the
  web CA) answers 401 with Gitea's exact Bearer challenge;
- the realm gives the operator's package token a push-and-pull token, and `/v2/` then
  answers 200;
- a wrong password, an unknown user and no credentials are refused at the realm (401);
- the pull-only credential gets a pull-only token: starting an upload is refused;
- the operator may upload to `coulomb/*` and nowhere else;
- the sandbox's podman builds FROM the look-alike python image, pip installs through the
  machine's CA, pushes with the operator token and pulls with the pull credential;
- Traefik: ping, the registry routes, the default IngressClass; an Ingress of the
  cluster is served on 127.0.0.2:80 and gets 127.0.0.2 as its status address (Traefik's
  own ServiceAccount at work);
- the kubelet pulls a pushed image with an imagePullSecret for the pull credential.

Run `python -m sandbox up` first.  Each test uses names of its own (repositories under
`coulomb/test-*`, namespaces `wp-test-*`) and removes the local images and namespaces it
makes; pushed test repositories stay in the sandbox registry's storage.
"""

from __future__ import annotations

import base64
import http.client
import json
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jwt
import pytest
import requests

from sandbox import kube, layout
from sandbox.components import images, registry, traefik
from sandbox.components.containerd import BUSYBOX_IMAGE
from sandbox.registry_token import CHALLENGE

pytestmark = pytest.mark.sandbox
#: the token tests describe Gitea's auth; with WP_SANDBOX_REGISTRY_AUTH=basic they do not apply
token_auth = pytest.mark.skipif(registry.Registry().live_mode != "token",
                                reason="the sandbox registry runs with basic auth")

HOST = layout.GITEA_HOST
UP = "run `.venv/bin/python -m sandbox up` and read `python -m sandbox status`"
LOGS = (f"see {layout.LOGS}/traefik.log, traefik-access.log, registry.log and "
        "registry-token.log")


def check(ok: bool, expected: str, found: object, next_step: str) -> None:
    """Fail with what was expected, what was found, and what to do next."""
    __tracebackhide__ = True
    if not ok:
        pytest.fail(f"expected {expected}; found {str(found)[-1500:]}; next: {next_step}",
                    pytrace=False)


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def fetch_token(user: str, password: str, scope: str) -> tuple[int, str]:
    """(status, token) from the realm through Traefik, as a registry client asks for it."""
    status, _, body = traefik.https_request(
        "GET", f"/v2/token?service=container_registry&scope={quote(scope)}",
        headers=basic(user, password))
    return status, json.loads(body)["token"] if status == 200 else ""


def start_upload(token: str, repository: str) -> tuple[int, str]:
    """Begin a blob upload; (status, upload location).  The upload is cancelled at once."""
    bearer = {"Authorization": f"Bearer {token}"}
    status, headers, _ = traefik.https_request("POST", f"/v2/{repository}/blobs/uploads/",
                                               headers=bearer)
    location = headers.get("Location", "")
    if status == 202 and location:
        traefik.https_request("DELETE", location, headers=bearer)
    return status, location


def granted(token: str) -> list[dict[str, Any]]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return list(claims.get("access", []))


@token_auth
def test_v2_answers_401_with_giteas_challenge() -> None:
    status, headers, _ = traefik.https_request("GET", "/v2/")
    check(status == 401, "GET /v2/ to answer 401", status, f"{UP}; {LOGS}")
    check(headers.get_all("WWW-Authenticate") == [CHALLENGE],
          f"exactly one challenge {CHALLENGE!r}", headers.get_all("WWW-Authenticate"),
          "the challenge comes from the token stand-in (is registry-token running? "
          f"{UP}) through the errors middleware `gitea-challenge` in "
          ".sandbox/etc/traefik/dynamic/registry.yml")


@token_auth
def test_operator_token_opens_the_registry() -> None:
    user, password = registry.credentials(registry.OPERATOR)
    status, token = fetch_token(user, password, "repository:coulomb/test-probe:pull,push")
    check(status == 200 and token, "a token for the operator", f"HTTP {status}",
          f"read registry-token.log; {UP}")
    check(granted(token) == [{"type": "repository", "name": "coulomb/test-probe",
                              "actions": ["pull", "push"]}],
          "pull and push on coulomb/test-probe", granted(token),
          "compare GRANTS in sandbox/registry_token.py")
    status, _, _ = traefik.https_request("GET", "/v2/",
                                         headers={"Authorization": f"Bearer {token}"})
    check(status == 200, "GET /v2/ with the token to answer 200", status,
          "distribution rejected the token: its log names the reason (issuer, audience, "
          "x5c chain against rootcertbundle)")


@token_auth
@pytest.mark.parametrize("who", ["wrong password", "unknown user", "no credentials"])
def test_realm_refuses_bad_credentials(who: str) -> None:
    user, password = registry.credentials(registry.OPERATOR)
    headers = {"wrong password": basic(user, password + "x"),
               "unknown user": basic("somebody", password), "no credentials": {}}[who]
    status, _, body = traefik.https_request("GET", "/v2/token?scope=repository:coulomb/x:pull",
                                            headers=headers)
    check(status == 401, f"the realm to answer 401 for {who}", f"HTTP {status}",
          "check authenticate() in sandbox/registry_token.py")
    check(b"token" not in body, "no token in the refusal", "a token in the body",
          "the realm must not issue a token without valid credentials")


@token_auth
def test_pull_credential_cannot_push() -> None:
    user, password = registry.credentials(registry.PULLER)
    repository = f"coulomb/test-{secrets.token_hex(3)}"
    status, token = fetch_token(user, password, f"repository:{repository}:pull,push")
    check(status == 200, "a (pull-only) token for cluster-pull", f"HTTP {status}", LOGS)
    check([entry["actions"] for entry in granted(token)] == [["pull"]], "pull only",
          granted(token), "compare GRANTS in sandbox/registry_token.py")
    status, _ = start_upload(token, repository)
    check(status == 401, "an upload with the pull-only token to be refused (401)",
          f"HTTP {status}", "distribution must check the token's access claim")


@token_auth
def test_operator_pushes_only_to_coulomb() -> None:
    user, password = registry.credentials(registry.OPERATOR)
    inside, outside = f"coulomb/test-{secrets.token_hex(3)}", "elsewhere/test"
    for repository, wanted in ((inside, 202), (outside, 401)):
        _, token = fetch_token(user, password, f"repository:{repository}:pull,push")
        status, _ = start_upload(token, repository)
        check(status == wanted, f"starting an upload to {repository} to answer {wanted}",
              f"HTTP {status}", "compare GRANTS in sandbox/registry_token.py")


def podman(*args: str, stdin: str | None = None, cwd: Path | None = None,
           timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(images.WRAPPER), *args], input=stdin, cwd=cwd, text=True,
                          capture_output=True, timeout=timeout, check=False)


def podman_ok(*args: str, stdin: str | None = None, cwd: Path | None = None) -> str:
    __tracebackhide__ = True
    done = podman(*args, stdin=stdin, cwd=cwd)
    check(done.returncode == 0, f"`podman {' '.join(args[:2])}` to succeed",
          f"exit {done.returncode}: {(done.stderr or done.stdout).strip()}",
          f"{UP}; see {layout.LOGS}/images.log")
    return done.stdout


def login(user: str) -> None:
    name, password = registry.credentials(user)
    podman_ok("login", "--username", name, "--password-stdin", HOST, stdin=password)


@pytest.fixture(scope="module")
def pushed_image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An image built FROM the look-alike python (pip through the CA) and pushed."""
    reference = f"{HOST}/coulomb/test-{secrets.token_hex(3)}:1"
    context = tmp_path_factory.mktemp("build")
    (context / "Dockerfile").write_text(
        "FROM python:3.13-slim\n"
        "RUN pip install --no-cache-dir --root-user-action=ignore six==1.17.0\n"
        'CMD ["python", "-c", "import six; print(\'six\', six.__version__)"]\n')
    try:
        podman_ok("build", "--tag", reference, ".", cwd=context)
        login(registry.OPERATOR)
        podman_ok("push", reference)
        yield reference
    finally:
        podman("logout", HOST)
        podman("image", "rm", "--force", reference)


@token_auth
def test_podman_builds_pushes_and_pulls(pushed_image: str) -> None:
    podman_ok("image", "rm", pushed_image)
    login(registry.PULLER)
    try:
        podman_ok("pull", pushed_image)
        done = podman("push", pushed_image.replace(":1", ":pull-only"))
        check(done.returncode != 0, "a push with the pull credential to fail",
              "it succeeded", "compare GRANTS in sandbox/registry_token.py")
        output = podman_ok("run", "--rm", pushed_image)
        check(output.strip() == "six 1.17.0", "the pulled image to run", output,
              "build the image by hand with .sandbox/bin/podman and read its output")
    finally:
        podman("logout", HOST)


def admin_kubectl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(layout.BIN / "kubectl"), "--kubeconfig",
                           str(kube.kubeconfig_path("admin")), *args], input=stdin,
                          capture_output=True, text=True, timeout=120, check=False)


def apply(*manifests: dict[str, Any]) -> None:
    __tracebackhide__ = True
    done = admin_kubectl("apply", "-f", "-",
                         stdin=json.dumps({"apiVersion": "v1", "kind": "List",
                                           "items": list(manifests)}))
    check(done.returncode == 0, "kubectl apply to succeed", done.stderr, UP)


@pytest.fixture
def namespace() -> Iterator[str]:
    name = f"wp-test-{secrets.token_hex(3)}"
    try:
        apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        yield name
    finally:
        admin_kubectl("delete", "namespace", name, "--ignore-not-found", "--wait=false")


def wait(what: str, probe: Any, deadline: float = 90) -> object:
    """Poll PROBE until it returns something true; return it, or fail with the last state."""
    __tracebackhide__ = True
    end, last = time.monotonic() + deadline, None
    while time.monotonic() < end:
        last = probe()
        if last and not isinstance(last, str):
            return last
        time.sleep(1)
    check(False, what, last, f"{LOGS}; `kubectl describe` the objects involved")
    return None


def test_traefik_health_routes_and_ingress_class() -> None:
    ping = requests.get(f"{traefik.PING}/ping", timeout=5)
    check(ping.status_code == 200, "Traefik's ping to answer 200", ping.status_code, UP)
    routers = requests.get(f"{traefik.PING}/api/http/routers", timeout=5).json()
    names = sorted(router["name"] for router in routers)
    check({"registry@file", "registry-token@file"} <= set(names),
          "the registry routers from the file provider", names, LOGS)
    done = admin_kubectl("get", "ingressclass", traefik.INGRESS_CLASS, "-o", "json")
    check(done.returncode == 0, "IngressClass traefik", done.stderr, UP)
    ingress_class = json.loads(done.stdout)
    check(ingress_class["spec"]["controller"] == traefik.CONTROLLER and ingress_class[
          "metadata"]["annotations"].get("ingressclass.kubernetes.io/is-default-class") ==
          "true", "the default class for traefik.io/ingress-controller", ingress_class,
          "re-run `python -m sandbox up --only traefik`")


def http_on_public_ip(host: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection(layout.NODE_PUBLIC_IP, 80, timeout=5)
    try:
        connection.request("GET", "/", headers={"Host": host})
        answer = connection.getresponse()
        return answer.status, answer.read().decode(errors="replace")
    finally:
        connection.close()


def test_ingress_is_served_and_gets_the_public_ip(namespace: str) -> None:
    host = f"{namespace}.{layout.ZONES[1]}"
    labels = {"app": "web"}
    apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace":
           namespace, "labels": labels}, "spec": {"containers": [{
               "name": "web", "image": BUSYBOX_IMAGE, "imagePullPolicy": "Never",
               "command": ["sh", "-c", "mkdir -p /www && echo ingress-ok > /www/index.html"
                           " && exec httpd -f -p 8080 -h /www"]}]}},
          {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace":
           namespace}, "spec": {"selector": labels, "ports": [{"port": 80,
                                                                "targetPort": 8080}]}},
          {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {
              "name": "web", "namespace": namespace}, "spec": {"rules": [{
                  "host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix",
                                                    "backend": {"service": {
                                                        "name": "web",
                                                        "port": {"number": 80}}}}]}}]}})

    def served() -> bool | str:
        try:
            status, body = http_on_public_ip(host)
        except OSError as exc:
            return f"{type(exc).__name__}: {exc}"
        return status == 200 and "ingress-ok" in body or f"HTTP {status}: {body[:80]}"

    wait(f"http://{host}/ on {layout.NODE_PUBLIC_IP}:80 to answer from the pod", served)

    def status_address() -> bool | str:
        done = admin_kubectl("get", "ingress", "web", "-n", namespace, "-o",
                             "jsonpath={.status.loadBalancer.ingress[*].ip}")
        return done.stdout.strip() == layout.NODE_PUBLIC_IP or f"status {done.stdout!r}"

    wait(f"the Ingress status address {layout.NODE_PUBLIC_IP}", status_address)


def test_kubelet_pulls_with_the_pull_credential(pushed_image: str, namespace: str) -> None:
    user, password = registry.credentials(registry.PULLER)
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    config = json.dumps({"auths": {HOST: {"username": user, "password": password,
                                          "auth": auth}}})
    apply({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
           "metadata": {"name": "gitea-pull", "namespace": namespace},
           "data": {".dockerconfigjson": base64.b64encode(config.encode()).decode()}},
          {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "pulled", "namespace":
           namespace}, "spec": {"restartPolicy": "Never", "imagePullSecrets": [
               {"name": "gitea-pull"}], "containers": [{"name": "app",
                                                        "image": pushed_image}]}})

    def finished() -> bool | str:
        done = admin_kubectl("get", "pod", "pulled", "-n", namespace, "-o",
                             "jsonpath={.status.phase} {.status.containerStatuses[*].state}")
        return done.stdout.startswith("Succeeded") or done.stdout
    wait("the pod from the pushed image to succeed", finished, deadline=120)
    logs = admin_kubectl("logs", "pulled", "-n", namespace).stdout.strip()
    check(logs == "six 1.17.0", "the image's output", logs,
          f"containerd's registry host file is {traefik.HOSTS_TOML}")
