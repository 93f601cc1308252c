"""Stand-in for Gitea's container registry token endpoint (`GET /v2/token`).

Production's registry is Gitea's built-in one: a client that meets its `401` challenge
asks `https://gitea.coulomb.test/v2/token` for a bearer token, with HTTP Basic
credentials (a user and a package token).  In the sandbox the registry itself is CNCF
distribution; this small server plays only Gitea's token endpoint.  It issues JWTs that
distribution's token authentication accepts: ES256, signed by a key whose certificate
(in the `x5c` header) chains to the root in distribution's `rootcertbundle`.

Who may do what, Gitea's model shrunk to the sandbox's two users:

- `coulomb-operator`, password = the operator's package token: pull and push on
  `coulomb/*`;
- `cluster-pull`, password = the read-only pull credential: pull on `coulomb/*`.

Anything else (no credentials, a wrong password, an unknown user) gets Gitea's `401`.
Requested scopes are granted only as far as the table above allows; the registry then
refuses what the token does not cover.  `POST /v2/token` (the OAuth2 form some clients
try first) answers 404 as Gitea does, so that clients fall back to GET.

`GET /challenge` is the 401 page Traefik's errors middleware fetches when distribution
answers 401: it carries Gitea's exact challenge, which distribution cannot emit itself
(distribution names the requested scope; Gitea always says `scope="*"`).

Run: `python -m sandbox.registry_token` (the registry component starts it).  Passwords
are read from `.sandbox/secrets/` on every request and never logged.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime as dt
import hmac
import json
import logging
import secrets
import sys
from dataclasses import dataclass
from fnmatch import fnmatch
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from sandbox import layout

log = logging.getLogger("sandbox.registry_token")

SERVICE = "container_registry"
ISSUER = f"{layout.GITEA_HOST} token stand-in"
REALM = f"https://{layout.GITEA_HOST}/v2/token"


def challenge(realm: str = REALM) -> str:
    """Gitea's challenge, naming REALM (another realm only to stage a misconfiguration)."""
    return f'Bearer realm="{realm}",service="{SERVICE}",scope="*"'


CHALLENGE = challenge()
TOKEN_LIFETIME = dt.timedelta(hours=1)
SIGNER = "registry-token-signer"  # .sandbox/pki/NAME.{crt,key}, issued by registry-token-ca

OPERATOR = "coulomb-operator"
PULLER = "cluster-pull"
OPERATOR_SECRET = layout.SECRETS / "registry-token"
PULLER_SECRET = layout.SECRETS / "registry-pull-password"


@dataclass(frozen=True)
class Grant:
    """What a user may do: ACTIONS on repositories matching PATTERN."""

    secret: Path
    pattern: str
    actions: frozenset[str]


GRANTS = {
    OPERATOR: Grant(OPERATOR_SECRET, "coulomb/*", frozenset({"pull", "push"})),
    PULLER: Grant(PULLER_SECRET, "coulomb/*", frozenset({"pull"})),
}


def authenticate(header: str | None) -> str | None:
    """The user named by a valid HTTP Basic header, or None."""
    if not header or not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    grant = GRANTS.get(user)
    if grant is None:
        return None
    try:
        expected = grant.secret.read_text().strip()
    except OSError:
        log.error("secret file %s is missing: %s cannot log in", grant.secret, user)
        return None
    return user if expected and hmac.compare_digest(password.encode(), expected.encode()) \
        else None


def granted_access(user: str, scopes: list[str]) -> list[dict[str, object]]:
    """The `access` claim: each requested repository scope cut down to USER's grant."""
    grant = GRANTS[user]
    access: list[dict[str, object]] = []
    for scope in " ".join(scopes).split():
        kind, _, rest = scope.partition(":")
        name, _, actions = rest.rpartition(":")
        if kind != "repository" or not fnmatch(name, grant.pattern):
            continue  # Gitea's scope="*" and catalog scopes grant nothing by themselves
        allowed = sorted(set(actions.split(",")) & grant.actions)
        if allowed:
            access.append({"type": "repository", "name": name, "actions": allowed})
    return access


def issue_token(user: str, access: list[dict[str, object]], key_path: Path,
                cert_path: Path) -> tuple[str, dt.datetime]:
    """A JWT for distribution, signed with the signer key; x5c carries its certificate."""
    now = dt.datetime.now(dt.UTC)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    claims = {"iss": ISSUER, "sub": user, "aud": SERVICE, "iat": now,
              "nbf": now - dt.timedelta(seconds=10), "exp": now + TOKEN_LIFETIME,
              "jti": secrets.token_hex(16), "access": access}
    token = jwt.encode(claims, key_path.read_bytes(), algorithm="ES256",
                       headers={"x5c": [x5c]})
    return token, now


class Handler(BaseHTTPRequestHandler):
    """GET /v2/token, POST /v2/token (404), GET /challenge, GET /healthz."""

    server_version = "gitea-token-stand-in"
    sys_version = ""
    key_path: Path
    cert_path: Path
    challenge = CHALLENGE

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        url = urlsplit(self.path)
        if url.path == "/healthz":
            self._send(200, {"status": "ok"})
        elif url.path == "/challenge":
            self._unauthorized("authentication required")
        elif url.path == "/v2/token":
            self._token(parse_qs(url.query).get("scope", []))
        else:
            self._send(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]})

    def do_POST(self) -> None:  # noqa: N802
        self._send(404, {"errors": [{"code": "UNSUPPORTED", "message": "use GET /v2/token"}]})

    def do_HEAD(self) -> None:  # noqa: N802
        self.do_GET()

    def _token(self, scopes: list[str]) -> None:
        user = authenticate(self.headers.get("Authorization"))
        if user is None:
            log.info("token refused: no valid credentials (scope %s)", " ".join(scopes) or "-")
            self._unauthorized("invalid username or password")
            return
        access = granted_access(user, scopes)
        token, issued = issue_token(user, access, self.key_path, self.cert_path)
        summary = " ".join(f"{entry['name']}:{','.join(entry['actions'])}"  # type: ignore[arg-type]
                           for entry in access)
        log.info("token issued to %s: %s", user, summary or "no repository access")
        self._send(200, {"token": token, "access_token": token,
                         "expires_in": int(TOKEN_LIFETIME.total_seconds()),
                         "issued_at": issued.isoformat()})

    def _unauthorized(self, message: str) -> None:
        self._send(401, {"errors": [{"code": "UNAUTHORIZED", "message": message}]},
                   {"WWW-Authenticate": self.challenge})

    def _send(self, status: int, body: dict[str, object],
              headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        log.debug("%s " + format, self.address_string(), *args)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.registry_token",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default=f"127.0.0.1:{layout.REGISTRY_TOKEN_PORT}")
    parser.add_argument("--key", type=Path, default=layout.PKI / f"{SIGNER}.key")
    parser.add_argument("--cert", type=Path, default=layout.PKI / f"{SIGNER}.crt")
    parser.add_argument("--realm", default=REALM,
                        help="the realm the challenge names (default: Gitea's public URL)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    host, _, port = args.listen.rpartition(":")
    Handler.key_path, Handler.cert_path = args.key, args.cert
    Handler.challenge = challenge(args.realm)
    server = ThreadingHTTPServer((host, int(port)), Handler)
    log.info("Gitea token stand-in listening on %s (realm %s)", args.listen, args.realm)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
