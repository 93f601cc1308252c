"""The OCI registry that plays Gitea's: CNCF distribution plus a token endpoint stand-in.

distribution (Debian's `docker-registry`) runs as the sandbox's own process with its own
configuration: storage in `.sandbox/data/registry`, plain HTTP on 127.0.0.1, behind
Traefik, which terminates TLS for gitea.coulomb.test.  Authentication is shaped like
Gitea's: token auth whose realm is `https://gitea.coulomb.test/v2/token`, served by
`sandbox.registry_token` (a stand-in for Gitea's endpoint).  distribution names the
requested scope in its challenge where Gitea always says `scope="*"`; Traefik's errors
middleware swaps distribution's 401 for the stand-in's, so that clients meet Gitea's
challenge exactly (see sandbox/components/traefik.py).

Two credentials are generated at the first `up`, mode 600 in `.sandbox/secrets/`:
`registry-token` (the package token of user `coulomb-operator`: push and pull on
`coulomb/*`) and `registry-pull-password` (user `cluster-pull`: pull only).

`WP_SANDBOX_REGISTRY_AUTH=basic` switches to HTTP Basic auth (htpasswd), the way other
registries work; distribution's htpasswd mode cannot tell pull from push, so both users
may push in that mode.

`WP_SANDBOX_REGISTRY_REALM=<url>` makes the challenge (distribution's and the stand-in's)
name another realm, e.g. an internal `http://…svc` URL: a misconfigured Gitea ROOT_URL,
staged by the fault tests (`up --only registry` with it set, and again without it, restarts
both daemons with the new realm).
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import shutil
import sys
from pathlib import Path

import requests
import yaml

from sandbox import layout, pki, proc, registry_token
from sandbox.components.base import Component
from sandbox.errors import SandboxError
from sandbox.kube import write_file

log = logging.getLogger("sandbox.registry")

NAME = "registry"
TOKEN_DAEMON = "registry-token"  # noqa: S105 - a process name
BINARY = "/usr/bin/docker-registry"
ADDRESS = f"127.0.0.1:{layout.REGISTRY_PORT}"
TOKEN_ADDRESS = f"127.0.0.1:{layout.REGISTRY_TOKEN_PORT}"
STORAGE = layout.DATA / "registry"
CONFIG = layout.ETC / "registry" / "config.yml"
HTPASSWD = layout.SECRETS / "registry.htpasswd"
TOKEN_CA = "registry-token-ca"  # noqa: S105 - a CA name
CONFIG_STAMP = layout.RUN / "registry.config-sha"
MODE_STAMP = layout.RUN / "registry.auth"

OPERATOR = registry_token.OPERATOR
PULLER = registry_token.PULLER
OPERATOR_SECRET = registry_token.OPERATOR_SECRET
PULLER_SECRET = registry_token.PULLER_SECRET


def auth_mode() -> str:
    """'token' (Gitea-like, the default) or 'basic' (htpasswd), from WP_SANDBOX_REGISTRY_AUTH."""
    mode = os.environ.get("WP_SANDBOX_REGISTRY_AUTH", "token").strip().lower() or "token"
    if mode not in ("token", "basic"):
        raise SandboxError(NAME, f"WP_SANDBOX_REGISTRY_AUTH is {mode!r}, expected 'token' or "
                           "'basic'", hint="Unset it for Gitea-like token auth.")
    return mode


def realm() -> str:
    """The token realm the challenge names: Gitea's public URL unless staged otherwise."""
    return os.environ.get("WP_SANDBOX_REGISTRY_REALM", "").strip() or registry_token.REALM


def ensure_secret(path: Path) -> None:
    """Generate a random credential into PATH (mode 600) unless it exists."""
    layout.SECRETS.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.exists() and path.read_text().strip():
        return
    path.touch(mode=0o600)
    path.write_text(secrets.token_hex(20) + "\n")
    path.chmod(0o600)


def credentials(user: str) -> tuple[str, str]:
    """(user, password) of one of the registry's two users, read from .sandbox/secrets."""
    secret = {OPERATOR: OPERATOR_SECRET, PULLER: PULLER_SECRET}[user]
    return user, secret.read_text().strip()


def _ensure_token_signer() -> Path:
    """The token stand-in's signing certificate; returns the root distribution trusts."""
    ca_cert, _ = pki.ensure_ca(TOKEN_CA, "railiance sandbox registry token CA")
    # a serverAuth usage only because sandbox.pki leaves carry one (an empty list cannot be
    # read back); distribution accepts any usage on the signing certificate
    pki.ensure_leaf(TOKEN_CA, registry_token.SIGNER, "registry token signer", [])
    return ca_cert


def _config(mode: str) -> dict[str, object]:
    if mode == "token":
        auth: dict[str, object] = {"token": {
            "realm": realm(), "service": registry_token.SERVICE,
            "issuer": registry_token.ISSUER, "rootcertbundle": str(_ensure_token_signer())}}
    else:
        auth = {"htpasswd": {"realm": layout.GITEA_HOST, "path": str(HTPASSWD)}}
    return {
        "version": 0.1,
        "log": {"level": "info", "formatter": "text", "fields": {"service": "registry"}},
        "storage": {"filesystem": {"rootdirectory": str(STORAGE)},
                    "delete": {"enabled": True}, "cache": {"blobdescriptor": "inmemory"}},
        "http": {"addr": ADDRESS, "relativeurls": True,
                 "headers": {"X-Content-Type-Options": ["nosniff"]}},
        "auth": auth,
        "health": {"storagedriver": {"enabled": True, "interval": "10s", "threshold": 3}},
    }


def _write_htpasswd() -> None:
    """bcrypt entries for both users (htpasswd reads the password from stdin)."""
    HTPASSWD.unlink(missing_ok=True)
    for number, user in enumerate((OPERATOR, PULLER)):
        flags = "-iBc" if number == 0 else "-iB"
        proc.run(NAME, ["htpasswd", flags, str(HTPASSWD), user],
                 input=credentials(user)[1] + "\n",
                 hint="htpasswd comes with apache2-utils; run scripts/bootstrap.sh.")
    HTPASSWD.chmod(0o600)


class Registry(Component):
    """CNCF distribution on 127.0.0.1:5000 and the Gitea token stand-in on :5001."""

    name = NAME
    start_deadline = 30.0

    def __init__(self) -> None:
        self.mode = auth_mode()  # what `up` configures

    @property
    def live_mode(self) -> str:
        """The mode of the running registry (status and down must not depend on the env)."""
        if proc.running(NAME) and MODE_STAMP.exists():
            return MODE_STAMP.read_text().strip()
        return self.mode

    @property
    def daemons(self) -> tuple[str, ...]:  # type: ignore[override]
        return (NAME, TOKEN_DAEMON) if self.live_mode == "token" else (NAME,)

    def version(self) -> str:
        done = proc.run(NAME, [BINARY, "--version"], check=False)
        number = done.stdout.split()[-1].split("+")[0] if done.returncode == 0 else "?"
        return f"{number} {self.live_mode}"

    def address(self) -> str:
        return f"http://{ADDRESS}"

    def build(self) -> None:
        if not shutil.which(BINARY):
            raise SandboxError(NAME, f"{BINARY} is not installed", hint="It comes with the "
                               "Debian package docker-registry; run scripts/bootstrap.sh.")
        ensure_secret(OPERATOR_SECRET)
        ensure_secret(PULLER_SECRET)
        STORAGE.mkdir(parents=True, exist_ok=True)
        CONFIG.parent.mkdir(parents=True, exist_ok=True)
        if self.mode == "basic":
            _write_htpasswd()
        write_file(CONFIG, yaml.safe_dump(_config(self.mode), sort_keys=False))

    def start(self) -> None:
        wanted = hashlib.sha256(CONFIG.read_bytes()).hexdigest()
        if proc.running(NAME) and CONFIG_STAMP.exists() and CONFIG_STAMP.read_text() != wanted:
            log.info("registry configuration changed (auth %s); restarting", self.mode)
            self.stop()
        if not proc.running(NAME):
            proc.require_free_port(NAME, "127.0.0.1", layout.REGISTRY_PORT)
            proc.start(NAME, [BINARY, "serve", str(CONFIG)])
            CONFIG_STAMP.write_text(wanted)
            MODE_STAMP.write_text(self.mode)
        if self.mode == "token" and not proc.running(TOKEN_DAEMON):
            proc.require_free_port(NAME, "127.0.0.1", layout.REGISTRY_TOKEN_PORT)
            proc.start(TOKEN_DAEMON, [sys.executable, "-m", "sandbox.registry_token",
                                      "--listen", TOKEN_ADDRESS, "--realm", realm()],
                       cwd=layout.ROOT)

    def healthy(self) -> bool | str:
        running = super().healthy()
        if running is not True:
            return running
        answer = requests.get(f"http://{ADDRESS}/v2/", timeout=3)
        challenge = answer.headers.get("WWW-Authenticate", "")
        mode = self.live_mode
        expected = "Bearer " if mode == "token" else "Basic "
        if answer.status_code != 401 or not challenge.startswith(expected):
            return (f"GET /v2/ answered {answer.status_code} with challenge {challenge!r}, "
                    f"expected 401 and a {expected.strip()} challenge")
        if mode == "token":
            token = requests.get(f"http://{TOKEN_ADDRESS}/healthz", timeout=3)
            if token.status_code != 200:
                return f"the token stand-in's /healthz answered {token.status_code}"
        return True

    def stop(self) -> None:
        for daemon in (TOKEN_DAEMON, NAME):  # both, whatever the mode is now
            proc.stop(daemon)
        CONFIG_STAMP.unlink(missing_ok=True)
        MODE_STAMP.unlink(missing_ok=True)
