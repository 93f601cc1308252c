"""The HTTP-01 solver: answers `/.well-known/acme-challenge/<token>` with the key authorization.

cert-manager runs this as a short-lived `acmesolver` pod behind a Service and an Ingress;
the stand-in runs it as a thread of the operators process, listening on the pod bridge's
gateway address (where Traefik reaches it through the solver Service's EndpointSlice).
"""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sandbox import layout

log = logging.getLogger("sandbox.operators.solver")

PORT = 8089
PREFIX = "/.well-known/acme-challenge/"
_tokens: dict[str, str] = {}
_lock = threading.Lock()
_server: ThreadingHTTPServer | None = None


def present(token: str, key_authorization: str) -> None:
    with _lock:
        _tokens[token] = key_authorization


def clean(token: str) -> None:
    with _lock:
        _tokens.pop(token, None)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        token = self.path[len(PREFIX):] if self.path.startswith(PREFIX) else ""
        with _lock:
            answer = _tokens.get(token)
        if answer is None:
            self.send_error(404)
            return
        body = answer.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        log.info("solver: %s %s", self.address_string(), format % args)


def serve(address: str = layout.BRIDGE_IP, port: int = PORT) -> None:
    """Start the solver once (a daemon thread)."""
    global _server
    if _server is not None:
        return
    _server = ThreadingHTTPServer((address, port), _Handler)
    threading.Thread(target=_server.serve_forever, name="http01-solver", daemon=True).start()
    log.info("HTTP-01 solver listening on %s:%d", address, port)
