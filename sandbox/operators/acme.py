"""A small ACME (RFC 8555) client: accounts, orders, HTTP-01 challenges, finalization.

Enough of the protocol for the cert-manager stand-in to get certificates from the
sandbox's ACME server (Debian's `pebble` on 127.0.0.1:14000) the way cert-manager gets
them from Let's Encrypt: JWS-signed POSTs with ES256 account keys, nonces renewed on
`badNonce`, POST-as-GET for reading.  Only loopback URLs are accepted.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

log = logging.getLogger("sandbox.operators.acme")

LOCAL_HOSTS = ("127.0.0.1", "localhost")


class AcmeError(Exception):
    """The ACME server refused a request; `problem` is its RFC 7807 document."""

    def __init__(self, what: str, problem: dict[str, Any] | None = None) -> None:
        self.problem = problem or {}
        detail = self.problem.get("detail") or ""
        kind = str(self.problem.get("type", "")).rsplit(":", 1)[-1]
        super().__init__(f"{what}: {kind} {detail}".strip())


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_bytes(value: int) -> bytes:
    return value.to_bytes(32, "big")


def require_local(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in LOCAL_HOSTS:
        raise AcmeError(f"the sandbox talks only to its local ACME server, not {host!r}")


@dataclass
class Account:
    """An ACME account key and, once registered, its URL (the JWS `kid`)."""

    key: ec.EllipticCurvePrivateKey
    url: str = ""

    @classmethod
    def generate(cls) -> Account:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def from_pem(cls, pem: bytes) -> Account:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise AcmeError("the ACME account key is not an EC key")
        return cls(key)

    def pem(self) -> bytes:
        return self.key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())

    def jwk(self) -> dict[str, str]:
        numbers = self.key.public_key().public_numbers()
        return {"crv": "P-256", "kty": "EC", "x": b64url(_int_bytes(numbers.x)),
                "y": b64url(_int_bytes(numbers.y))}

    def thumbprint(self) -> str:
        canonical = json.dumps(self.jwk(), sort_keys=True, separators=(",", ":"))
        return b64url(hashlib.sha256(canonical.encode()).digest())

    def sign(self, data: bytes) -> bytes:
        r, s = decode_dss_signature(self.key.sign(data, ec.ECDSA(hashes.SHA256())))
        return _int_bytes(r) + _int_bytes(s)


@dataclass
class Client:
    """One ACME directory, one account."""

    directory_url: str
    account: Account
    ca_bundle: str
    session: requests.Session = field(default_factory=requests.Session)
    _directory: dict[str, Any] = field(default_factory=dict)
    _nonce: str = ""

    def __post_init__(self) -> None:
        require_local(self.directory_url)
        self.session.trust_env = False  # loopback only: never through a proxy

    def directory(self) -> dict[str, Any]:
        if not self._directory:
            answer = self.session.get(self.directory_url, verify=self.ca_bundle, timeout=10)
            answer.raise_for_status()
            self._directory = answer.json()
        return self._directory

    def _new_nonce(self) -> str:
        answer = self.session.head(self.directory()["newNonce"], verify=self.ca_bundle,
                                   timeout=10)
        return answer.headers["Replay-Nonce"]

    def post(self, url: str, payload: dict[str, Any] | None, *,
             use_jwk: bool = False) -> requests.Response:
        """A JWS-signed POST (payload None = POST-as-GET); retries a rejected nonce."""
        require_local(url)
        for _attempt in range(5):
            nonce = self._nonce or self._new_nonce()
            self._nonce = ""
            protected: dict[str, Any] = {"alg": "ES256", "nonce": nonce, "url": url}
            if use_jwk:
                protected["jwk"] = self.account.jwk()
            else:
                protected["kid"] = self.account.url
            body64 = "" if payload is None else b64url(json.dumps(payload).encode())
            head64 = b64url(json.dumps(protected).encode())
            signature = b64url(self.account.sign(f"{head64}.{body64}".encode()))
            answer = self.session.post(url, json={"protected": head64, "payload": body64,
                                                  "signature": signature},
                                       headers={"Content-Type": "application/jose+json"},
                                       verify=self.ca_bundle, timeout=30)
            self._nonce = answer.headers.get("Replay-Nonce", "")
            if answer.status_code < 400:
                return answer
            problem = _problem(answer)
            if str(problem.get("type", "")).endswith(":badNonce"):
                log.info("ACME server rejected a nonce; retrying with a fresh one")
                continue
            raise AcmeError(f"POST {urlsplit(url).path} answered {answer.status_code}",
                            problem)
        raise AcmeError("the ACME server rejected five nonces in a row")

    def register(self, email: str | None) -> str:
        """newAccount (or find the existing one for this key); return the account URL."""
        payload: dict[str, Any] = {"termsOfServiceAgreed": True}
        if email:
            payload["contact"] = [f"mailto:{email}"]
        answer = self.post(self.directory()["newAccount"], payload, use_jwk=True)
        self.account.url = answer.headers["Location"]
        return self.account.url

    def new_order(self, names: list[str]) -> tuple[str, dict[str, Any]]:
        answer = self.post(self.directory()["newOrder"], {
            "identifiers": [{"type": "dns", "value": name} for name in names]})
        return answer.headers["Location"], answer.json()

    def get(self, url: str) -> dict[str, Any]:
        result: dict[str, Any] = self.post(url, None).json()
        return result

    def key_authorization(self, token: str) -> str:
        return f"{token}.{self.account.thumbprint()}"

    def accept(self, challenge_url: str) -> dict[str, Any]:
        result: dict[str, Any] = self.post(challenge_url, {}).json()
        return result

    def wait(self, url: str, *, until: tuple[str, ...], deadline: float = 60.0,
             interval: float = 0.5) -> dict[str, Any]:
        """Poll an authorization or order until its status is one of UNTIL."""
        end = time.monotonic() + deadline
        while True:
            state = self.get(url)
            if state.get("status") in until:
                return state
            if time.monotonic() > end:
                raise AcmeError(f"{urlsplit(url).path} still {state.get('status')} after "
                                f"{deadline:.0f}s")
            time.sleep(interval)

    def finalize(self, order_url: str, order: dict[str, Any], csr_der: bytes) -> str:
        """Finalize ORDER with the CSR; return the certificate chain (PEM)."""
        self.post(order["finalize"], {"csr": b64url(csr_der)})
        done = self.wait(order_url, until=("valid", "invalid"))
        if done["status"] != "valid":
            raise AcmeError("the order became invalid at finalization", done.get("error"))
        return self.post(done["certificate"], None).text


def _problem(answer: requests.Response) -> dict[str, Any]:
    try:
        document = answer.json()
    except ValueError:
        return {"detail": answer.text[:200]}
    return document if isinstance(document, dict) else {}
