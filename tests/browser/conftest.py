"""A fake app over HTTPS on loopback, a web CA of its own, and Chromium trusting that CA.

The fake app is just enough of vergabe-teilnahme for the browser client to be tested
without the sandbox: a login form that sets a session cookie, a dashboard, a redirect
loop, an admin page with a logout form, and two refusals shaped like Django's CSRF
failures (a form post whose origin is not trusted, an HTMX post without the token).
Chromium reaches it through the same host-resolver rule the suite uses, mapped to the
fake app's port.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from playwright.sync_api import Browser, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from fixtures.browser import CHROMIUM, Endpoint, WebSession, browser_env, launch_args, trusting_home

HOST = "app.smoke.test"
PASSWORD = "fake-app-pass-Zq81xK"  # noqa: S105 - the fake app's own test password
SESSION = "fake-session-4f1c"

LOGIN = """<!doctype html><html><head><title>Anmelden</title></head><body><main>
<h1 id="seitentitel">Anmelden</h1>{error}
<form method="post" action="/accounts/login/">
<input type="hidden" name="csrfmiddlewaretoken" value="tok">
<input name="username" id="id_username"><input type="password" name="password">
<button type="submit">Anmelden</button></form></main></body></html>"""
DASHBOARD = """<!doctype html><html><head><title>Übersicht</title></head>
<body><main><h1 id="seitentitel">Übersicht</h1>
<form method="post" action="/csrf/" id="origin-form"><button type="submit">Senden</button></form>
<button id="hx" onclick="fetch('/hx/', {method: 'POST', headers: {'HX-Request': 'true'}})">
HTMX</button></main></body></html>"""
REFUSED = """<!doctype html><html><head><title>Sicherheitsprüfung fehlgeschlagen</title></head>
<body><h1 id="seitentitel">Zugriff verweigert (403)</h1>
<p id="csrf-grund">Die Herkunft der Anfrage ({origin}) gehört nicht zu den vertrauenswürdigen
Herkünften dieser Anwendung.</p></body></html>"""
ADMIN = """<!doctype html><html><head><title>Verwaltung</title></head><body>
<form id="logout-form" method="post" action="/admin/logout/"><button type="submit">Abmelden
</button></form></body></html>"""


class FakeApp(BaseHTTPRequestHandler):
    posts: list[tuple[str, str]] = []
    gets: list[tuple[str, str]] = []  # (path, the Cookie header sent)
    csrf_headers: list[str] = []  # X-CSRFToken of each POST ("" when none)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        return None

    def send(self, status: int, body: str = "", headers: dict[str, str] | None = None) -> None:
        data = body.encode()
        self.send_response(status)
        for name, value in {"Content-Type": "text/html; charset=utf-8",
                            "Content-Length": str(len(data)), **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        FakeApp.gets.append((self.path, self.headers.get("Cookie") or ""))
        if self.path.startswith("/accounts/login/"):
            self.send(200, LOGIN.format(error=""))
        elif self.path == "/loop/":
            self.send(301, headers={"Location": f"https://{HOST}/loop/"})
        elif self.path == "/admin/":
            self.send(200, ADMIN)
        elif self.path == "/":
            self.send(200, DASHBOARD)
        else:
            self.send(404, "<h1>nicht gefunden</h1>")

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        FakeApp.posts.append((self.path, body))
        FakeApp.csrf_headers.append(self.headers.get("X-CSRFToken") or "")
        if self.path == "/accounts/login/":
            form = parse_qs(body)
            if form.get("password") == [PASSWORD]:
                self.send_response(302)
                self.send_header("Location", "/")
                self.send_header("Content-Length", "0")
                self.send_header("Set-Cookie", f"sessionid={SESSION}; Path=/; Secure")
                self.send_header("Set-Cookie", "csrftoken=tok-4711; Path=/; Secure")
                self.end_headers()
            else:
                self.send(200, LOGIN.format(error='<p role="alert">Bitte geben Sie einen '
                                            "gültigen Benutzernamen und ein Passwort ein.</p>"))
        elif self.path == "/csrf/":
            self.send(403, REFUSED.format(origin=self.headers.get("Origin")))
        elif self.path == "/hx/":
            self.send(403, "<h1>Zugriff verweigert (403)</h1><p>CSRF-Token fehlt</p>")
        elif self.path == "/admin/logout/":
            self.send(302, headers={"Location": "/accounts/login/"})
        else:
            self.send(404)


@dataclass
class WebCA:
    root: Path  # the CA certificate (PEM)
    cert: Path  # the fake app's certificate
    key: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


@pytest.fixture(scope="session")
def web_ca(tmp_path_factory: pytest.TempPathFactory) -> WebCA:
    folder = tmp_path_factory.mktemp("web-ca")
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("browser test CA"))
          .issuer_name(_name("browser test CA")).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now)
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(_name(HOST)).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    paths = WebCA(folder / "ca.crt", folder / "app.crt", folder / "app.key")
    paths.root.write_bytes(ca.public_bytes(pem))
    paths.cert.write_bytes(leaf.public_bytes(pem))
    paths.key.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
    return paths


@pytest.fixture(scope="session")
def fake_app(web_ca: WebCA) -> Iterator[Endpoint]:
    """The fake app on 127.0.0.1:<free port>, as the Endpoint the browser maps its host to."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeApp)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(web_ca.cert, web_ca.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Endpoint(HOST, f"127.0.0.1:{server.server_address[1]}")
    server.shutdown()
    server.server_close()


def needs_chromium() -> None:
    if not Path(CHROMIUM).is_file() or shutil.which("certutil") is None:
        pytest.skip("needs the Debian packages chromium and libnss3-tools "
                    "(scripts/bootstrap.sh)")


@pytest.fixture(scope="session")
def test_browser(web_ca: WebCA, fake_app: Endpoint,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Chromium as the suite launches it, trusting the test CA and mapped to the fake app."""
    needs_chromium()
    home = tmp_path_factory.mktemp("browser-home")
    trusting_home(home, web_ca.root)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=launch_args(fake_app), env=browser_env(home))
        yield browser
        browser.close()


@pytest.fixture
def session(test_browser: Browser, fake_app: Endpoint) -> Iterator[WebSession]:
    context = test_browser.new_context(locale="de-DE")
    context.set_default_timeout(10_000)
    web = WebSession(context, fake_app, 10, "Login at /admin/ succeeds")
    yield web
    with contextlib.suppress(PlaywrightError):
        context.close()
