"""Stand-in for the cert-manager controller: real ACME issuance against the sandbox's pebble.

A STAND-IN.  cert-manager's controller cannot be built from the Go module proxy, so this
loop implements the part of it the workplan relies on, on top of cert-manager's real CRDs:

* ACME `ClusterIssuer`/`Issuer`: the account is registered with the ACME server named in
  `spec.acme.server` (only the sandbox's local pebble is accepted) and the issuer marked
  Ready;
* ingress-shim: an Ingress annotated `cert-manager.io/cluster-issuer` (or `issuer`) gets a
  Certificate per `tls` entry, named after its `secretName`, for the entry's hosts;
* issuance, as cert-manager does it: CertificateRequest -> Order -> one HTTP-01 Challenge
  per name, the solver presented through an Ingress on the issuer's ingress class, a
  self-check (the name must resolve through the sandbox DNS to the node address and the
  token must come back through Traefik) before the ACME server is asked to validate, then
  finalization and the `kubernetes.io/tls` Secret.  While the self-check fails, the
  Challenge and Order say why in `status.reason`, exactly as cert-manager's do.

pebble makes a new root at every start; the suite's trust root is the sandbox web CA.  As
Let's Encrypt's ISRG root once was by IdenTrust, pebble's intermediate is cross-signed by
the web CA, and `tls.crt` carries leaf + cross-signed intermediate, so the chain validates
against `.sandbox/pki/web-ca.crt` whichever pebble run issued it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import http.client
import ipaddress
import logging
import re
import threading
import time
from typing import Any

import dns.exception
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from kubernetes.client.exceptions import ApiException

from sandbox import layout, pki
from sandbox.components.dns import query_a
from sandbox.operators import acme, solver
from sandbox.operators.kube import Kube, Obj, api_error, condition, now, owner_reference

log = logging.getLogger("sandbox.operators.certmanager")

CM = "cert-manager.io/v1"
ACME_API = "acme.cert-manager.io/v1"
CLUSTER_RESOURCE_NAMESPACE = "cert-manager"
RETRY_AFTER_FAILURE = 30.0
SELF_CHECK_INTERVAL = 2.0
_UP_TO_DATE = "Certificate is up to date and has not expired"


def _time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _short_hash(*parts: str) -> str:
    return str(int(hashlib.sha256("\n".join(parts).encode()).hexdigest()[:8], 16))


def _issuer_key(ref: Obj, namespace: str) -> tuple[str, str, str]:
    kind = ref.get("kind") or "Issuer"
    return kind, ("" if kind == "ClusterIssuer" else namespace), ref["name"]


# -- the web CA's cross-signature over pebble's intermediate --------------------------------
_cross_lock = threading.Lock()
_cross: dict[bytes, bytes] = {}


def cross_signed(intermediate: x509.Certificate) -> bytes:
    """INTERMEDIATE re-issued by the web CA (same subject, key and key id), PEM."""
    fingerprint = intermediate.fingerprint(hashes.SHA256())
    with _cross_lock:
        if fingerprint in _cross:
            return _cross[fingerprint]
        ca_cert_path, ca_key_path = pki.web_ca()
        ca_cert = x509.load_pem_x509_certificate(ca_cert_path.read_bytes())
        ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
        assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
        builder = (x509.CertificateBuilder().subject_name(intermediate.subject)
                   .issuer_name(ca_cert.subject).public_key(intermediate.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(max(intermediate.not_valid_before_utc,
                                         ca_cert.not_valid_before_utc))
                   .not_valid_after(min(intermediate.not_valid_after_utc,
                                        ca_cert.not_valid_after_utc))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .add_extension(x509.KeyUsage(
                       digital_signature=True, key_cert_sign=True, crl_sign=True,
                       content_commitment=False, key_encipherment=False,
                       data_encipherment=False, key_agreement=False, encipher_only=False,
                       decipher_only=False), critical=True)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                       ca_key.public_key()), critical=False))
        try:
            ski = intermediate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
            builder = builder.add_extension(ski.value, critical=False)
        except x509.ExtensionNotFound:
            builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(
                intermediate.public_key()), critical=False)
        pem = builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
        _cross[fingerprint] = pem
        return pem


def served_chain(acme_chain: str) -> bytes:
    """Leaf and intermediates from the ACME server, the topmost cross-signed by the web CA."""
    certs = x509.load_pem_x509_certificates(acme_chain.encode())
    pems = [cert.public_bytes(serialization.Encoding.PEM) for cert in certs[:-1]]
    if len(certs) > 1:
        pems.append(cross_signed(certs[-1]))
    else:
        pems = [certs[0].public_bytes(serialization.Encoding.PEM)]
    return b"".join(pems)


# -- the self-check cert-manager runs before it lets the ACME server validate --------------
def self_check(name: str, token: str, key_authorization: str) -> str:
    """"" when http://NAME/.well-known/acme-challenge/TOKEN answers the key authorization."""
    url = f"http://{name}{solver.PREFIX}{token}"
    prefix = f"failed to perform self check GET request '{url}'"
    try:
        addresses = query_a(name)
    except (OSError, dns.exception.DNSException) as exc:
        return f"{prefix}: lookup {name} on 127.0.0.1:{layout.DNS_PORT}: {type(exc).__name__}"
    if not addresses:
        return (f"{prefix}: Get \"{url}\": dial tcp: lookup {name} on "
                f"127.0.0.1:{layout.DNS_PORT}: no such host")
    if layout.NODE_PUBLIC_IP not in addresses:
        return (f"{prefix}: {name} resolves to {', '.join(addresses)}, not to the node "
                f"address {layout.NODE_PUBLIC_IP} where the ingress controller serves the "
                "solver (the sandbox connects to nothing else)")
    if not ipaddress.ip_address(layout.NODE_PUBLIC_IP).is_loopback:
        return f"{prefix}: the node address is not a loopback address"
    connection = http.client.HTTPConnection(layout.NODE_PUBLIC_IP, 80, timeout=5)
    try:
        connection.request("GET", f"{solver.PREFIX}{token}", headers={"Host": name})
        answer = connection.getresponse()
        body = answer.read(4096).decode(errors="replace").strip()
    except OSError as exc:
        return f"{prefix}: Get \"{url}\": dial tcp {layout.NODE_PUBLIC_IP}:80: {exc}"
    finally:
        connection.close()
    if answer.status != 200:
        return f"{prefix}: wrong status code '{answer.status}', expected '200'"
    if body != key_authorization:
        return (f"did not get expected response when querying endpoint, expected "
                f"\"{key_authorization[:12]}…\" but got: \"{body[:40]}\"")
    return ""


# -- what a Certificate's Secret holds -------------------------------------------------------
def secret_state(cert: Obj, secret: Obj | None) -> tuple[str, x509.Certificate | None]:
    """Why the Secret does not serve the Certificate ("" when it does), and its leaf.

    The reasons are cert-manager's: DoesNotExist, IncorrectCertificate (issued for another
    issuer or other names), Renewing (due for renewal, still valid).
    """
    if secret is None:
        return "DoesNotExist", None
    data, spec = secret.get("data") or {}, cert.get("spec") or {}
    annotations = secret["metadata"].get("annotations") or {}
    if not data.get("tls.crt") or not data.get("tls.key"):
        return "DoesNotExist", None
    try:
        leaf = x509.load_pem_x509_certificate(base64.b64decode(data["tls.crt"]))
        names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except (ValueError, x509.ExtensionNotFound):
        return "IncorrectCertificate", None
    if annotations.get("cert-manager.io/issuer-name") != spec["issuerRef"]["name"]:
        return "IncorrectCertificate", leaf
    if sorted(names.value.get_values_for_type(x509.DNSName)) != sorted(spec.get("dnsNames")
                                                                        or []):
        return "IncorrectCertificate", leaf
    if dt.datetime.now(dt.UTC) >= renewal_time(cert, leaf):
        return "Renewing", leaf
    return "", leaf


def renewal_time(cert: Obj, leaf: x509.Certificate) -> dt.datetime:
    lifetime = leaf.not_valid_after_utc - leaf.not_valid_before_utc
    before = go_duration((cert.get("spec") or {}).get("renewBefore") or "") or lifetime / 3
    return leaf.not_valid_after_utc - before


def go_duration(text: str) -> dt.timedelta | None:
    """A Go duration such as `720h0m0s` (what cert-manager's duration fields hold)."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s)", text)
    if not parts:
        return None
    unit = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return dt.timedelta(seconds=sum(float(number) * unit[u] for number, u in parts))


def _private_key(spec: Obj) -> tuple[Any, bytes]:
    wanted = spec.get("privateKey") or {}
    algorithm = wanted.get("algorithm", "RSA")
    key: Any
    if algorithm == "ECDSA":
        curve = {384: ec.SECP384R1(), 521: ec.SECP521R1()}.get(int(wanted.get("size", 256)),
                                                               ec.SECP256R1())
        key = ec.generate_private_key(curve)
    else:
        key = rsa.generate_private_key(public_exponent=65537,
                                       key_size=int(wanted.get("size", 2048)))
    encoding = (serialization.PrivateFormat.PKCS8 if wanted.get("encoding") == "PKCS8"
                else serialization.PrivateFormat.TraditionalOpenSSL)
    return key, key.private_bytes(serialization.Encoding.PEM, encoding,
                                  serialization.NoEncryption())


def _csr(spec: Obj, key: Any) -> x509.CertificateSigningRequest:
    subject = ([x509.NameAttribute(NameOID.COMMON_NAME, spec["commonName"])]
               if spec.get("commonName") else [])
    return (x509.CertificateSigningRequestBuilder().subject_name(x509.Name(subject))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName(name) for name in spec.get("dnsNames") or []]), critical=False)
            .sign(key, hashes.SHA256()))


class CertManagerStandIn:
    """Issuers, ingress-shim and Certificates; issuance runs in one thread per Certificate."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube
        self.accounts: dict[tuple[str, str, str], acme.Client] = {}
        self.workers: dict[tuple[str, str], threading.Thread] = {}
        self.failed_at: dict[tuple[str, str, int], float] = {}
        self.lock = threading.Lock()
        self._remove_stale_solvers()
        solver.serve()

    def _remove_stale_solvers(self) -> None:
        """Solver objects left by an issuance that a restart cut short (tokens are gone)."""
        for api_version, kind in (("networking.k8s.io/v1", "Ingress"), ("v1", "Service"),
                                  ("discovery.k8s.io/v1", "EndpointSlice")):
            for obj in self.kube.list(api_version, kind,
                                      label_selector="acme.cert-manager.io/http01-solver=true"):
                meta = obj["metadata"]
                log.info("removing stale solver %s %s/%s", kind, meta["namespace"],
                         meta["name"])
                self.kube.delete(api_version, kind, meta["name"], meta["namespace"])

    def reconcile(self) -> None:
        issuers = self._issuers()
        self._ingress_shim()
        for cert in self.kube.list(CM, "Certificate"):
            self._certificate(cert, issuers)

    # -- issuers ------------------------------------------------------------------------
    def _issuers(self) -> dict[tuple[str, str, str], Obj]:
        ready: dict[tuple[str, str, str], Obj] = {}
        for kind in ("ClusterIssuer", "Issuer"):
            for issuer in self.kube.list(CM, kind):
                meta = issuer["metadata"]
                key = (kind, meta.get("namespace", ""), meta["name"])
                if self._issuer(key, issuer):
                    ready[key] = issuer
        return ready

    def _issuer(self, key: tuple[str, str, str], issuer: Obj) -> bool:
        spec, previous = issuer.get("spec") or {}, (issuer.get("status") or {}).get(
            "conditions") or []
        generation = issuer["metadata"].get("generation")
        settings = spec.get("acme")
        if not settings:
            self.kube.set_status(issuer, {"conditions": [condition(
                "Ready", False, "ErrInitIssuer", "the sandbox's cert-manager stand-in "
                "implements ACME issuers only", previous, generation)]})
            return False
        if key not in self.accounts:
            try:
                self.accounts[key] = self._register(key, issuer)
            except (acme.AcmeError, OSError, ApiException) as exc:
                reason = api_error(exc) if isinstance(exc, ApiException) else str(exc)
                self.kube.set_status(issuer, {"conditions": [condition(
                    "Ready", False, "ErrRegisterACMEAccount",
                    f"Failed to register ACME account: {reason}", previous, generation)]})
                return False
        client = self.accounts[key]
        self.kube.set_status(issuer, {
            "acme": {"uri": client.account.url, "lastRegisteredEmail": settings.get("email"),
                     "lastPrivateKeyHash": hashlib.sha256(client.account.pem()).hexdigest()},
            "conditions": [condition("Ready", True, "ACMEAccountRegistered",
                                     "The ACME account was registered with the ACME server",
                                     previous, generation)]})
        return True

    def _register(self, key: tuple[str, str, str], issuer: Obj) -> acme.Client:
        settings = issuer["spec"]["acme"]
        namespace = key[1] or CLUSTER_RESOURCE_NAMESPACE
        secret_name = settings["privateKeySecretRef"]["name"]
        secret = self.kube.get("v1", "Secret", secret_name, namespace)
        if secret is not None and (secret.get("data") or {}).get("tls.key"):
            account = acme.Account.from_pem(base64.b64decode(secret["data"]["tls.key"]))
        else:
            account = acme.Account.generate()
            self.kube.apply({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                             "metadata": {"name": secret_name, "namespace": namespace},
                             "data": {"tls.key": _b64(account.pem())}})
        ca_bundle = str(pki.web_ca()[0])
        client = acme.Client(settings["server"], account, ca_bundle)
        url = client.register(settings.get("email"))
        log.info("%s %s: ACME account registered (%s)", key[0], key[2], url)
        return client

    # -- ingress-shim -------------------------------------------------------------------
    def _ingress_shim(self) -> None:
        for ingress in self.kube.list("networking.k8s.io/v1", "Ingress"):
            annotations = ingress["metadata"].get("annotations") or {}
            if "cert-manager.io/cluster-issuer" in annotations:
                ref = {"name": annotations["cert-manager.io/cluster-issuer"],
                       "kind": "ClusterIssuer", "group": "cert-manager.io"}
            elif "cert-manager.io/issuer" in annotations:
                ref = {"name": annotations["cert-manager.io/issuer"], "kind": "Issuer",
                       "group": "cert-manager.io"}
            else:
                continue
            for tls in (ingress.get("spec") or {}).get("tls") or []:
                if tls.get("secretName"):
                    self._shim_certificate(ingress, tls, ref)

    def _shim_certificate(self, ingress: Obj, tls: Obj, ref: Obj) -> None:
        meta = ingress["metadata"]
        existing = self.kube.get(CM, "Certificate", tls["secretName"], meta["namespace"])
        wanted_spec = {"dnsNames": sorted(tls.get("hosts") or []),
                       "secretName": tls["secretName"], "issuerRef": ref,
                       "usages": ["digital signature", "key encipherment"]}
        if existing is not None:
            owners = [o.get("uid") for o in existing["metadata"].get("ownerReferences") or []]
            if meta["uid"] not in owners:
                return  # someone else's Certificate: cert-manager leaves it alone too
            spec = existing.get("spec") or {}
            if all(spec.get(k) == v for k, v in wanted_spec.items()):
                return
        log.info("ingress-shim: Certificate %s/%s for %s", meta["namespace"],
                 tls["secretName"], ", ".join(wanted_spec["dnsNames"]))
        self.kube.apply({"apiVersion": CM, "kind": "Certificate", "metadata": {
            "name": tls["secretName"], "namespace": meta["namespace"],
            "ownerReferences": [owner_reference(ingress)]}, "spec": wanted_spec})

    # -- certificates -------------------------------------------------------------------
    def _certificate(self, cert: Obj, issuers: dict[tuple[str, str, str], Obj]) -> None:
        meta, spec = cert["metadata"], cert.get("spec") or {}
        ident = (meta["namespace"], meta["name"])
        with self.lock:
            worker = self.workers.get(ident)
            if worker is not None and worker.is_alive():
                return
        secret = self.kube.get("v1", "Secret", spec["secretName"], meta["namespace"])
        problem, leaf = secret_state(cert, secret)
        if not problem and leaf is not None:
            self._mark_ready(cert, leaf)
            return
        issuer_key = _issuer_key(spec["issuerRef"], meta["namespace"])
        previous = (cert.get("status") or {}).get("conditions") or []
        if issuer_key not in issuers:
            self.kube.set_status(cert, {"conditions": [condition(
                "Ready", False, problem,
                f"Waiting for {issuer_key[0]} {issuer_key[2]!r} to become Ready", previous,
                meta["generation"])]})
            return
        failed = self.failed_at.get((*ident, meta["generation"]))
        if failed is not None and time.monotonic() - failed < RETRY_AFTER_FAILURE:
            return
        thread = threading.Thread(target=self._issue, args=(cert, secret, problem,
                                                            issuer_key),
                                  name=f"issue-{meta['namespace']}-{meta['name']}",
                                  daemon=True)
        with self.lock:
            self.workers[ident] = thread
        thread.start()

    def _mark_ready(self, cert: Obj, leaf: x509.Certificate) -> None:
        previous = (cert.get("status") or {}).get("conditions") or []
        self.kube.set_status(cert, {
            "conditions": [condition("Ready", True, "Ready", _UP_TO_DATE, previous,
                                     cert["metadata"]["generation"])],
            "notBefore": _time(leaf.not_valid_before_utc),
            "notAfter": _time(leaf.not_valid_after_utc),
            "renewalTime": _time(renewal_time(cert, leaf)),
            "revision": (cert.get("status") or {}).get("revision") or 1,
            "failedIssuanceAttempts": None, "lastFailureTime": None})

    def _issue(self, cert: Obj, secret: Obj | None, problem: str,
               issuer_key: tuple[str, str, str]) -> None:
        meta = cert["metadata"]
        try:
            Issuance(Kube(), self.accounts[issuer_key], cert, secret, problem, issuer_key).run()
        except Exception as exc:  # noqa: BLE001 - recorded on the objects, retried later
            if "accountDoesNotExist" in str(exc):  # the ACME server restarted: register again
                self.accounts.pop(issuer_key, None)
            self.failed_at[(meta["namespace"], meta["name"], meta["generation"])] = \
                time.monotonic()
            text = api_error(exc) if isinstance(exc, ApiException) else str(exc)[:300]
            log.warning("Certificate %s/%s: issuance failed (%s); retrying in %.0fs",
                        meta["namespace"], meta["name"], text, RETRY_AFTER_FAILURE)


class Issuance:
    """One issuance of one Certificate: the objects cert-manager creates, in its order."""

    def __init__(self, kube: Kube, client: acme.Client, cert: Obj, secret: Obj | None,
                 problem: str, issuer_key: tuple[str, str, str]) -> None:
        self.kube, self.client, self.cert = kube, client, cert
        self.secret, self.problem, self.issuer_key = secret, problem, issuer_key
        self.meta, self.spec = cert["metadata"], cert.get("spec") or {}
        self.namespace = self.meta["namespace"]
        self.revision = int((cert.get("status") or {}).get("revision") or 0) + 1
        self.solver_objects: list[tuple[str, str, str]] = []
        self.tokens: list[str] = []
        self.order_obj: Obj | None = None

    def run(self) -> None:
        try:
            self._run()
        except acme.AcmeError as exc:
            self._failed(str(exc))
            raise
        finally:
            self._clean_solvers()

    def _run(self) -> None:
        self._set_issuing()
        key, key_pem = _private_key(self.spec)
        csr = _csr(self.spec, key)
        request = self._certificate_request(csr)
        order_url, order = self.client.new_order(sorted(self.spec.get("dnsNames") or []))
        order_obj = self._order(request, order_url, order, csr)
        self.order_obj = order_obj
        for authz_url in order["authorizations"]:
            self._authorize(order_obj, authz_url)
        chain = self.client.finalize(order_url, self.client.get(order_url),
                                     csr.public_bytes(serialization.Encoding.DER))
        order_obj = self.kube.get(ACME_API, "Order", order_obj["metadata"]["name"],
                                  self.namespace) or order_obj
        self.kube.set_status(order_obj, {"state": "valid", "reason": "",
                                              "certificate": _b64(chain.encode())})
        served = served_chain(chain)
        self._store(served, key_pem)
        self._request_done(request, served)
        leaf = x509.load_pem_x509_certificate(served)
        fresh = self.kube.get(CM, "Certificate", self.meta["name"], self.namespace)
        if fresh is not None:
            self._ready(fresh, leaf)
        log.info("Certificate %s/%s issued (revision %d, until %s)", self.namespace,
                 self.meta["name"], self.revision, _time(leaf.not_valid_after_utc))

    def _still_wanted(self) -> bool:
        fresh = self.kube.get(CM, "Certificate", self.meta["name"], self.namespace)
        return fresh is not None and fresh["metadata"]["generation"] == self.meta["generation"]

    def _set_issuing(self) -> None:
        previous = (self.cert.get("status") or {}).get("conditions") or []
        message = {
            "DoesNotExist": "Issuing certificate as Secret does not exist",
            "IncorrectCertificate": "Issuing certificate as Secret was previously issued by "
                                    "another issuer or for other names",
            "Renewing": "Renewing certificate as renewal was scheduled at "
                        + str((self.cert.get("status") or {}).get("renewalTime")),
        }.get(self.problem, "Issuing certificate")
        generation = self.meta["generation"]
        ready = condition("Ready", self.problem == "Renewing",
                          "Ready" if self.problem == "Renewing" else self.problem,
                          _UP_TO_DATE if self.problem == "Renewing" else message, previous,
                          generation)
        self.kube.set_status(self.cert, {"conditions": [
            ready, condition("Issuing", True, self.problem or "Issuing", message, previous,
                             generation)]})

    def _certificate_request(self, csr: x509.CertificateSigningRequest) -> Obj:
        name = f"{self.meta['name']}-{self.revision}"
        self.kube.delete(CM, "CertificateRequest", name, self.namespace)
        request = self.kube.apply({
            "apiVersion": CM, "kind": "CertificateRequest", "metadata": {
                "name": name, "namespace": self.namespace,
                "ownerReferences": [owner_reference(self.cert)],
                "annotations": {"cert-manager.io/certificate-name": self.meta["name"],
                                "cert-manager.io/certificate-revision": str(self.revision),
                                "cert-manager.io/private-key-secret-name":
                                    f"{self.meta['name']}-next-key"}},
            "spec": {"request": _b64(csr.public_bytes(serialization.Encoding.PEM)),
                     "issuerRef": self.spec["issuerRef"],
                     "usages": self.spec.get("usages") or ["digital signature",
                                                           "key encipherment"]}})
        return request

    def _order(self, request: Obj, url: str, order: Obj,
               csr: x509.CertificateSigningRequest) -> Obj:
        name = f"{request['metadata']['name']}-{_short_hash(url)}"
        obj = self.kube.apply({
            "apiVersion": ACME_API, "kind": "Order", "metadata": {
                "name": name, "namespace": self.namespace,
                "ownerReferences": [owner_reference(request)],
                "annotations": {"cert-manager.io/certificate-name": self.meta["name"]}},
            "spec": {"request": request["spec"]["request"],
                     "issuerRef": self.spec["issuerRef"],
                     "dnsNames": sorted(self.spec.get("dnsNames") or [])}})
        authorizations = []
        for authz_url in order["authorizations"]:
            authz = self.client.get(authz_url)
            authorizations.append({
                "url": authz_url, "identifier": authz["identifier"]["value"],
                "initialState": authz["status"], "wildcard": bool(authz.get("wildcard")),
                "challenges": [{"url": c["url"], "token": c["token"], "type": c["type"]}
                               for c in authz["challenges"]]})
        self.kube.set_status(obj, {"url": url, "finalizeURL": order["finalize"],
                                   "state": "pending", "authorizations": authorizations})
        self.kube.set_status(request, {"conditions": [
            condition("Approved", True, "cert-manager.io",
                      "Certificate request has been approved by cert-manager.io"),
            condition("Ready", False, "Pending", "Waiting on certificate issuance from order "
                      f"{self.namespace}/{name}: \"pending\"")]})
        return obj

    def _authorize(self, order_obj: Obj, authz_url: str) -> None:
        authz = self.client.get(authz_url)
        name = authz["identifier"]["value"]
        if authz["status"] == "valid":
            return
        challenge = next((c for c in authz["challenges"] if c["type"] == "http-01"), None)
        if challenge is None:
            raise acme.AcmeError(f"the ACME server offers no HTTP-01 challenge for {name}")
        key_auth = self.client.key_authorization(challenge["token"])
        obj = self._challenge(order_obj, authz_url, name, challenge, key_auth)
        self._present(name, challenge["token"], key_auth)
        self.kube.set_status(obj, {"processing": True, "presented": True, "state": "pending",
                                   "reason": "Waiting for HTTP-01 challenge propagation"})
        self._wait_self_check(order_obj, obj, name, challenge["token"], key_auth)
        self.client.accept(challenge["url"])
        done = self.client.wait(authz_url, until=("valid", "invalid"))
        if done["status"] != "valid":
            failed: Obj = next((c for c in done["challenges"] if c["type"] == "http-01"), {})
            problem = failed.get("error") or {}
            reason = f"Error accepting authorization: acme: authorization error for {name}: " \
                     f"{problem.get('type', '')}: {problem.get('detail', '')}"
            self.kube.set_status(obj, {"processing": False, "state": "invalid",
                                       "reason": reason})
            raise acme.AcmeError(reason)
        self.kube.set_status(obj, {"processing": False, "presented": False, "state": "valid",
                                   "reason": "Successfully authorized domain"})

    def _challenge(self, order_obj: Obj, authz_url: str, name: str, challenge: Obj,
                   key_auth: str) -> Obj:
        issuer = self.kube.get(CM, self.issuer_key[0], self.issuer_key[2],
                               self.issuer_key[1] or None) or {}
        solvers = ((issuer.get("spec") or {}).get("acme") or {}).get("solvers") or [{}]
        return self.kube.apply({
            "apiVersion": ACME_API, "kind": "Challenge", "metadata": {
                "name": f"{order_obj['metadata']['name']}-{_short_hash(authz_url)}",
                "namespace": self.namespace,
                "ownerReferences": [owner_reference(order_obj)]},
            "spec": {"url": challenge["url"], "authorizationURL": authz_url,
                     "dnsName": name, "type": "HTTP-01", "token": challenge["token"],
                     "key": key_auth, "solver": solvers[0], "wildcard": False,
                     "issuerRef": self.spec["issuerRef"]}})

    def _present(self, name: str, token: str, key_auth: str) -> None:
        """The solver's Service, EndpointSlice and Ingress, as cert-manager creates them."""
        solver.present(token, key_auth)
        self.tokens.append(token)
        issuer = self.kube.get(CM, self.issuer_key[0], self.issuer_key[2],
                               self.issuer_key[1] or None) or {}
        solvers = ((issuer.get("spec") or {}).get("acme") or {}).get("solvers") or [{}]
        ingress_settings = (solvers[0].get("http01") or {}).get("ingress") or {}
        ingress_class = ingress_settings.get("ingressClassName") or ingress_settings.get(
            "class") or "traefik"
        solver_name = f"cm-acme-http-solver-{_short_hash(name, token)[:5]}"
        labels = {"acme.cert-manager.io/http01-solver": "true",
                  "acme.cert-manager.io/http-domain": _short_hash(name),
                  "acme.cert-manager.io/http-token": _short_hash(token)}
        self.kube.apply({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": solver_name, "namespace": self.namespace, "labels": labels},
            "spec": {"type": "ClusterIP", "ports": [{"name": "http", "port": solver.PORT,
                                                     "targetPort": solver.PORT}]}})
        self.kube.apply({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": f"{solver_name}-host", "namespace": self.namespace,
                         "labels": {**labels, "kubernetes.io/service-name": solver_name,
                                    "endpointslice.kubernetes.io/managed-by":
                                        "sandbox-operators"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [layout.BRIDGE_IP], "conditions": {"ready": True}}],
            "ports": [{"name": "http", "port": solver.PORT, "protocol": "TCP"}]})
        self.kube.apply({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": solver_name, "namespace": self.namespace, "labels": labels},
            "spec": {"ingressClassName": ingress_class, "rules": [{
                "host": name, "http": {"paths": [{
                    "path": f"{solver.PREFIX}{token}", "pathType": "ImplementationSpecific",
                    "backend": {"service": {"name": solver_name,
                                            "port": {"number": solver.PORT}}}}]}}]}})
        self.solver_objects += [("v1", "Service", solver_name),
                                ("discovery.k8s.io/v1", "EndpointSlice", f"{solver_name}-host"),
                                ("networking.k8s.io/v1", "Ingress", solver_name)]

    def _wait_self_check(self, order_obj: Obj, challenge: Obj, name: str, token: str,
                         key_auth: str) -> None:
        """Retry the self-check until it passes, saying why on Challenge and Order."""
        last = None
        while True:
            problem = self_check(name, token, key_auth)
            if not problem:
                return
            if problem != last:
                reason = f"Waiting for HTTP-01 challenge propagation: {problem}"
                self.kube.set_status(challenge, {"reason": reason})
                self.kube.set_status(order_obj, {"state": "pending", "reason": reason})
                log.info("Challenge %s: %s", challenge["metadata"]["name"], reason)
                last = problem
            if not self._still_wanted():
                raise acme.AcmeError("the Certificate changed or was deleted during issuance")
            time.sleep(SELF_CHECK_INTERVAL)

    def _clean_solvers(self) -> None:
        for token in self.tokens:
            solver.clean(token)
        for api_version, kind, name in self.solver_objects:
            try:
                self.kube.delete(api_version, kind, name, self.namespace)
            except ApiException as exc:
                log.warning("could not delete solver %s %s: %s", kind, name, api_error(exc))

    def _store(self, chain: bytes, key_pem: bytes) -> None:
        ca_pem = pki.web_ca()[0].read_bytes()
        leaf = x509.load_pem_x509_certificate(chain)
        names = sorted(self.spec.get("dnsNames") or [])
        self.kube.apply({
            "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": self.spec["secretName"], "namespace": self.namespace,
                         "annotations": {
                             "cert-manager.io/certificate-name": self.meta["name"],
                             "cert-manager.io/issuer-name": self.spec["issuerRef"]["name"],
                             "cert-manager.io/issuer-kind": self.issuer_key[0],
                             "cert-manager.io/issuer-group": "cert-manager.io",
                             "cert-manager.io/common-name": self.spec.get("commonName", ""),
                             "cert-manager.io/alt-names": ",".join(names),
                             "cert-manager.io/ip-sans": "", "cert-manager.io/uri-sans": "",
                             "cert-manager.io/serial": format(leaf.serial_number, "x")},
                         "labels": {"controller.cert-manager.io/fao": "true"}},
            "data": {"tls.crt": _b64(chain), "tls.key": _b64(key_pem),
                     "ca.crt": _b64(ca_pem)}})

    def _request_done(self, request: Obj, chain: bytes) -> None:
        request = self.kube.get(CM, "CertificateRequest", request["metadata"]["name"],
                                self.namespace) or request
        self.kube.set_status(request, {
            "certificate": _b64(chain), "ca": _b64(pki.web_ca()[0].read_bytes()),
            "conditions": [condition("Approved", True, "cert-manager.io",
                                     "Certificate request has been approved by "
                                     "cert-manager.io"),
                           condition("Ready", True, "Issued",
                                     "Certificate fetched from issuer successfully")]})

    def _ready(self, fresh: Obj, leaf: x509.Certificate) -> None:
        previous = (fresh.get("status") or {}).get("conditions") or []
        self.kube.set_status(fresh, {
            "conditions": [condition("Ready", True, "Ready", _UP_TO_DATE, previous,
                                     self.meta["generation"])],
            "notBefore": _time(leaf.not_valid_before_utc),
            "notAfter": _time(leaf.not_valid_after_utc),
            "renewalTime": _time(renewal_time(fresh, leaf)), "revision": self.revision,
            "lastFailureTime": None, "failedIssuanceAttempts": None})

    def _failed(self, reason: str) -> None:
        fresh = self.kube.get(CM, "Certificate", self.meta["name"], self.namespace)
        if fresh is None:
            return
        status = fresh.get("status") or {}
        previous = status.get("conditions") or []
        ready = [c for c in previous if c.get("type") == "Ready"] or [condition(
            "Ready", False, "Failed", reason, previous, self.meta["generation"])]
        self.kube.set_status(fresh, {
            "conditions": [ready[0], condition(
                "Issuing", False, "Failed", "The certificate request has failed to complete "
                f"and will be retried: {reason}", previous, self.meta["generation"])],
            "lastFailureTime": now(),
            "failedIssuanceAttempts": int(status.get("failedIssuanceAttempts") or 0) + 1})
        if self.order_obj is not None:
            order = self.kube.get(ACME_API, "Order", self.order_obj["metadata"]["name"],
                                  self.namespace)
            if order is not None:
                self.kube.set_status(order, {"state": "invalid", "reason": reason})
