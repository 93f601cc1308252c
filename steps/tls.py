"""Steps about the ingress and TLS: the ClusterIssuer, the app's Ingress and certificate."""

from __future__ import annotations

import base64
import datetime as dt
import socket
import ssl
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography import x509
from pytest_bdd import given, parsers, then

from fixtures.cluster import Kube
from fixtures.http import Resolver, TargetHTTP, trust_root
from fixtures.run import Evidence
from provisioning import base
from provisioning.ingress import TLS_SECRET, AppliedIngress
from steps.repository import ingress_manifest_file
from suite.check import eventually, expect, fail
from suite.errors import Missing
from suite.state import Run
from suite.targets import Target

CM = ("cert-manager.io", "v1")


def _ready(obj: dict[str, Any]) -> tuple[bool, str]:
    conditions = obj.get("status", {}).get("conditions", [])
    ready: dict[str, Any] = next((c for c in conditions if c.get("type") == "Ready"), {})
    text = "; ".join(f"{c.get('type')}={c.get('status')} ({c.get('reason', '')}: "
                     f"{c.get('message', '')})" for c in conditions) or "no conditions"
    return ready.get("status") == "True", text


@then("the cluster issuer named by the target is Ready")
def issuer_is_ready(kube: Kube, target: Target, run: Run) -> None:
    name = str(target.require("tls.issuer"))
    issuer = kube.get_custom(*CM, "clusterissuers", name)
    expect(issuer is not None, f"ClusterIssuer {name}", "it does not exist",
           "railiance-platform owns the ClusterIssuer; ask them.")
    ok, text = _ready(issuer or {})
    run.cache.setdefault("inventory", {})["issuer"] = f"{name}: {text}"
    expect(ok, f"ClusterIssuer {name} Ready", text, f"`kubectl describe clusterissuer {name}`.")


def certificate_for_secret(kube: Kube, namespace: str, secret: str) -> dict[str, Any] | None:
    return next((c for c in kube.list_custom(*CM, "certificates", namespace)
                 if c.get("spec", {}).get("secretName") == secret), None)


def secret_certificate(kube: Kube, namespace: str, secret: str) -> x509.Certificate | None:
    try:
        data = kube.core.read_namespaced_secret(secret, namespace).data or {}
    except Exception:  # noqa: BLE001 - absent or unreadable: no certificate
        return None
    if "tls.crt" not in data:
        return None
    return x509.load_pem_x509_certificate(base64.b64decode(data["tls.crt"]))


@then("the known good certificate was issued by it within the last 90 days")
def known_good(kube: Kube, target: Target, evidence: Evidence) -> None:
    namespace = str(target.require("tls.known_good_namespace"))
    secret = str(target.require("tls.known_good_secret"))
    cert = certificate_for_secret(kube, namespace, secret)
    expect(cert is not None, f"a Certificate for Secret {namespace}/{secret}", "none",
           "name a certificate this issuer issued in [tls] known_good_secret.")
    issuer = (cert or {}).get("spec", {}).get("issuerRef", {}).get("name")
    expect(issuer == target.require("tls.issuer"), f"issued by {target.require('tls.issuer')}",
           f"issuerRef {issuer}", "pick a certificate of this issuer.")
    status = (cert or {}).get("status", {})
    ok, text = _ready(cert or {})
    expect(ok and bool(status.get("notBefore")), f"Certificate for {namespace}/{secret} Ready "
           "with an issue date", text, "the certificate was never issued; describe it.")
    not_before = dt.datetime.fromisoformat(str(status["notBefore"]).replace("Z", "+00:00"))
    age = dt.datetime.now(dt.UTC) - not_before
    evidence.table("known good certificate", [{
        "certificate": f"{namespace}/{(cert or {}).get('metadata', {}).get('name')}",
        "issuer": issuer, "not before": status.get("notBefore"),
        "not after": status.get("notAfter"), "revision": status.get("revision")}])
    expect(age < dt.timedelta(days=90), "issued within the last 90 days",
           f"issued {age.days} days ago", "the issuer has not issued recently; check ACME.")


@then("the inventory lists the database cluster, the token path, the DNS change path and the "
      "pre-condition gaps")
def inventory_complete(target: Target, run: Run, kube: Kube, resolver: Resolver,
                       evidence: Evidence) -> None:
    from steps.docs import gaps

    inventory = run.cache.get("inventory", {})
    found_gaps = gaps(target, kube, resolver)
    rows = [{"item": "(a) cnpg cluster", "value": target.get("database.namespace") + "/"
             + target.get("database.cluster")},
            {"item": "(b) package token path", "value": target.get("registry.token_path", "")},
            {"item": "(c) DNS change path",
             "value": inventory.get("dns", f"{target.get('dns.update')}: "
                                           f"{target.get('dns.owner')}")},
            {"item": "(d) pre-condition gaps", "value": "; ".join(found_gaps) or "none"}]
    evidence.table("T01 inventory", rows)
    run.facts["inventory"] = rows
    missing = [r["item"] for r in rows[:3] if not r["value"]]
    expect(not missing, "every inventory item known", f"unknown: {missing}",
           "fill the target file.")


@given("the ingress for the app host is applied")
def ingress_applied(target: Target, kube: Kube, resolver: Resolver) -> None:
    base.ensure(ingress_manifest_file(target))
    base.ensure(AppliedIngress(target, kube, resolver))


def _app_ingress(kube: Kube, target: Target) -> Any:
    namespace = str(target.require("cluster.namespace"))
    try:
        return kube.net.read_namespaced_ingress("vergabe-teilnahme", namespace)
    except Exception as exc:  # noqa: BLE001
        if getattr(exc, "status", None) == 404:
            raise Missing(f"no Ingress vergabe-teilnahme in {namespace}.",
                          next_action="run with --provision.") from None
        raise


@then(parsers.parse('the app ingress uses the target\'s ingress class, the cluster-issuer '
                    'annotation and the TLS secret "{secret}"'))
def ingress_shape(kube: Kube, target: Target, secret: str) -> None:
    ingress = _app_ingress(kube, target)
    klass = ingress.spec.ingress_class_name
    expect(klass == target.require("cluster.ingress_class"), f"ingressClassName "
           f"{target.require('cluster.ingress_class')}", f"{klass}", "set it as gitea's.")
    issuer = (ingress.metadata.annotations or {}).get("cert-manager.io/cluster-issuer")
    expect(issuer == target.require("tls.issuer"), "annotation cert-manager.io/cluster-issuer: "
           f"{target.require('tls.issuer')}", f"{issuer}", "copy it from gitea-ingress.yaml.")
    tls = [(t.secret_name, t.hosts) for t in ingress.spec.tls or []]
    host = str(target.require("app.host"))
    expect((secret, [host]) in tls, f"tls secretName {secret} for {host}", f"{tls}",
           "fix the tls section of the manifest.")


@then("no other ingress claims the app host")
def no_conflict(kube: Kube, target: Target) -> None:
    host = str(target.require("app.host"))
    claims = [f"{i.metadata.namespace}/{i.metadata.name}"
              for i in kube.net.list_ingress_for_all_namespaces().items
              for rule in i.spec.rules or [] if rule.host == host]
    expect(claims == [f"{target.require('cluster.namespace')}/vergabe-teilnahme"],
           f"exactly one Ingress for {host}", f"{claims}", "remove the other Ingress.")


@then("the gitea ingress still serves its host")
def gitea_serves(kube: Kube, target: Target, http: TargetHTTP) -> None:
    namespace = str(target.require("tls.known_good_namespace"))
    ingresses = kube.net.list_namespaced_ingress(namespace).items
    expect(bool(ingresses), f"the gitea Ingress in {namespace}", "none", "restore it.")
    host = (ingresses[0].spec.rules or [])[0].host
    try:
        response = http.get(f"https://{host}/", allow_redirects=False)
        status = str(response.status_code)
    except requests.RequestException as exc:
        status = f"{type(exc).__name__}"
    expect(status.startswith(("2", "3")), f"https://{host}/ answering", status,
           "the new ingress must not break gitea: compare the two Ingress objects.")


@then("the certificate for the app host becomes Ready")
def certificate_ready(kube: Kube, target: Target, evidence: Evidence, run: Run) -> None:
    namespace = str(target.require("cluster.namespace"))
    host = str(target.require("app.host"))

    def probe() -> tuple[bool, str]:
        cert = certificate_for_secret(kube, namespace, TLS_SECRET)
        if cert is None:
            return False, f"no Certificate for {TLS_SECRET} yet"
        names = sorted(cert.get("spec", {}).get("dnsNames") or [])
        expect(host in names, f"a Certificate for the host the Ingress serves, {host}",
               f"Certificate {namespace}/{cert['metadata']['name']} asks for the names "
               f"{names}, not {host}; a certificate for them cannot secure {host}",
               "make the Certificate's dnsNames equal the Ingress tls hosts (cert-manager's "
               "ingress-shim writes them from the Ingress when it owns the Certificate).")
        ok, text = _ready(cert)
        if ok:
            return True, text
        orders = [f"Order {o['metadata']['name']}: {o.get('status', {}).get('state')} "
                  f"{o.get('status', {}).get('reason', '')}"
                  for o in kube.list_custom("acme.cert-manager.io", "v1", "orders", namespace)]
        challenges = [f"Challenge {c['metadata']['name']}: {c.get('status', {}).get('state')} "
                      f"{c.get('status', {}).get('reason', '')}"
                      for c in kube.list_custom("acme.cert-manager.io", "v1", "challenges",
                                                namespace)]
        return False, "; ".join([text, *orders, *challenges])

    observed = eventually(probe, f"Certificate for {TLS_SECRET} Ready",
                          deadline=target.timeout("certificate"), interval=target.interval,
                          next_step=f"`kubectl -n {namespace} describe certificate,order,"
                          "challenge`; HTTP-01 needs the A record and the ingress route.")
    x = secret_certificate(kube, namespace, TLS_SECRET)
    if x is not None:
        run.facts["certificate_serial"] = format(x.serial_number, "x")
        run.facts["certificate_not_after"] = x.not_valid_after_utc.isoformat()
        evidence.table("app certificate", [{"serial": run.facts["certificate_serial"],
                                            "issuer": x.issuer.rfc4514_string(),
                                            "not after": run.facts["certificate_not_after"],
                                            "state": observed}])


def _names(x: x509.Certificate) -> list[str]:
    try:
        ext = x.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return sorted(ext.value.get_values_for_type(x509.DNSName))


@then("the certificate's names match the ingress host")
def names_match(kube: Kube, target: Target) -> None:
    namespace = str(target.require("cluster.namespace"))
    host = str(target.require("app.host"))
    cert = certificate_for_secret(kube, namespace, TLS_SECRET) or {}
    dns_names = sorted(cert.get("spec", {}).get("dnsNames", []))
    x = secret_certificate(kube, namespace, TLS_SECRET)
    issued = _names(x) if x else []
    expect(host in dns_names and host in issued, f"the certificate to name {host}",
           f"Certificate dnsNames {dns_names}, issued certificate names {issued}",
           "make the Certificate's dnsNames (or the Ingress tls hosts) equal the host.")


REDIRECTS = (301, 302, 303, 307, 308)
PROXY_HINT = ("behind a TLS-terminating ingress the app must trust X-Forwarded-Proto: Django's "
              "SECURE_PROXY_SSL_HEADER = ('HTTP_X_FORWARDED_PROTO', 'https') and gunicorn's "
              "--forwarded-allow-ips for the ingress; otherwise SECURE_SSL_REDIRECT answers "
              "every https request with a redirect to itself.")


def follow(http: TargetHTTP, url: str, hops: int = 6) -> tuple[requests.Response, list[str]]:
    """GET URL and its redirects (at most HOPS); the chain of Location headers, in order."""
    host = str(urlsplit(url).hostname)
    chain: list[str] = []
    seen: set[str] = set()
    response = requests.Response()
    for _ in range(hops):
        try:
            response = http.get(url, allow_redirects=False)
        except requests.exceptions.SSLError as exc:
            raise AssertionError(f"expected a certificate chain for {host} that validates "
                                 f"against the trust root; found a TLS error: "
                                 f"{str(exc)[:200]}. Next: check the Certificate and the "
                                 "served secret.") from None
        except requests.RequestException as exc:
            raise AssertionError(f"expected {url} to answer; found {type(exc).__name__}. "
                                 "Next: check the A record, Traefik and the Ingress.") from None
        if response.status_code not in REDIRECTS:
            break
        seen.add(url)
        location = response.headers.get("Location", "")
        chain.append(f"{response.status_code} Location: {location}")
        url = requests.compat.urljoin(url, location)
        if url in seen and len(chain) >= 3:
            break
    return response, chain


def redirect_loop(chain: list[str], start: str) -> str:
    return f"a redirect loop: GET {start} -> " + " -> ".join(chain) + " -> …"


@then(parsers.parse('"https://<app host>/healthz" answers 200 over a certificate chain that '
                    'validates'))
def https_healthz(target: Target, http: TargetHTTP, evidence: Evidence) -> None:
    host = str(target.require("app.host"))
    start = f"https://{host}/healthz"
    seen: dict[str, object] = {}

    def probe() -> tuple[bool, str]:
        """Follow redirects by hand (to show a loop); a TLS error may be propagation."""
        url, chain = start, []
        for _ in range(6):
            try:
                response = http.get(url, allow_redirects=False)
            except requests.exceptions.SSLError as exc:
                return False, f"TLS error: {str(exc)[-160:]}"
            except requests.RequestException as exc:
                return False, f"no answer: {type(exc).__name__}"
            if response.status_code not in REDIRECTS:
                break
            chain.append(f"{response.status_code} Location: "
                         f"{response.headers.get('Location', '')}")
            url = requests.compat.urljoin(url, response.headers.get("Location", ""))
        seen.update(status=response.status_code, chain=chain, https=_sees_https(response))
        if response.status_code in (502, 503, 504):  # the ingress has no ready backend yet
            return False, f"HTTP {response.status_code} from the ingress (no ready backend yet)"
        if ingress_has_no_route(response):
            return False, (f"HTTP 404 from the ingress itself: it has no route for {host} "
                           "(Traefik drops an Ingress while its Service has no ready "
                           "endpoint, as during a rollout)")
        return True, f"HTTP {response.status_code}" + (f" after {chain}" if chain else "")

    observed = eventually(probe, f"{start} over a certificate chain that validates",
                          deadline=target.timeout("certificate"), interval=target.interval,
                          next_step="check the Certificate, the TLS secret the Ingress names, "
                          "the A record and Traefik.")
    evidence.text("https health check", f"{start}: {observed}")
    chain = list(seen.get("chain") or [])  # type: ignore[call-overload]
    expect(len(chain) < 5, f"{host}/healthz without a redirect loop",
           redirect_loop(chain, start), PROXY_HINT)
    expect(seen.get("status") == 200, f"HTTP 200 from {start}", observed,
           "read the app pod's log.")
    if seen.get("https") is False:
        page = f"https://{host}/"
        answer, page_chain = follow(http, page)
        evidence.text("the app's front page over https", f"{page}: {page_chain} -> HTTP "
                      f"{answer.status_code}")
        found = (redirect_loop(page_chain, page) if answer.status_code in REDIRECTS else
                 f"GET {page} -> " + " -> ".join([*page_chain, f"HTTP {answer.status_code}"]))
        fail(f"the app to take requests that reached the ingress over https for https "
             f"({start} reports \"https\": true)", f"{start} reports \"https\": false, and "
             f"{found}", PROXY_HINT)


def ingress_has_no_route(response: requests.Response) -> bool:
    """Whether a 404 is the ingress controller's own (no router matched), not the app's."""
    return response.status_code == 404 and response.text.strip() == "404 page not found" \
        and response.headers.get("Content-Type", "").startswith("text/plain")


def _sees_https(response: requests.Response) -> bool | None:
    """The health endpoint's own view of the scheme (its "https" field), if it has one."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("https") if isinstance(body, dict) else None


@then("the served certificate names the app host and was issued by the target's issuer")
def served_certificate(target: Target, kube: Kube, resolver: Resolver,
                       evidence: Evidence) -> None:
    host = str(target.require("app.host"))
    address = resolver.address(host)
    expect(address is not None, f"{host} to resolve", "NXDOMAIN", "add the A record.")
    context = ssl.create_default_context()
    root = trust_root(target)
    if isinstance(root, str):
        context.load_verify_locations(root)
    with socket.create_connection((str(address), 443), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname=host) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    served = x509.load_der_x509_certificate(der)
    expect(host in _names(served), f"the served certificate to name {host}",
           f"names {_names(served)}", "check the Ingress tls hosts.")
    namespace = str(target.require("cluster.namespace"))
    cert = certificate_for_secret(kube, namespace, TLS_SECRET) or {}
    issuer = cert.get("spec", {}).get("issuerRef", {}).get("name")
    stored = secret_certificate(kube, namespace, TLS_SECRET)
    evidence.table("served certificate", [{"serial": format(served.serial_number, "x"),
                                           "issuer": served.issuer.rfc4514_string(),
                                           "not after": served.not_valid_after_utc.isoformat()}])
    expect(issuer == target.require("tls.issuer") and stored is not None
           and stored.serial_number == served.serial_number,
           f"the certificate from {TLS_SECRET} issued by {target.require('tls.issuer')}",
           f"issuerRef {issuer}, served serial {served.serial_number:x}, stored "
           f"{stored.serial_number if stored else 'none':x}" if stored else "no stored cert",
           "Traefik serves another certificate: check the Ingress tls secretName.")


@then("every ingress for the app host has a Ready certificate for that host")
def exposure_after_tls(kube: Kube, target: Target) -> None:
    host = str(target.require("app.host"))
    problems = []
    for ingress in kube.net.list_ingress_for_all_namespaces().items:
        hosts = {rule.host for rule in ingress.spec.rules or []}
        if host not in hosts:
            continue
        namespace = ingress.metadata.namespace
        secrets_ = [t.secret_name for t in ingress.spec.tls or [] if host in (t.hosts or [])]
        if not secrets_:
            problems.append(f"{namespace}/{ingress.metadata.name} serves {host} without TLS")
            continue
        cert = certificate_for_secret(kube, str(namespace), str(secrets_[0]))
        ok, text = _ready(cert or {})
        if not ok:
            problems.append(f"{namespace}/{ingress.metadata.name}: certificate not Ready "
                            f"({text})")
    expect(not problems, f"no ingress for {host} before its certificate is Ready",
           "; ".join(problems), "remove the Ingress until cert-manager has issued.")


