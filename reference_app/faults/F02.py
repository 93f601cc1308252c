"""F02: SECURE_SSL_REDIRECT on, SECURE_PROXY_SSL_HEADER unset behind the ingress: redirect loop.

Traefik ends TLS and forwards plain HTTP with X-Forwarded-Proto: https. With the header not
trusted (by Django, and by gunicorn, which would otherwise report the https scheme itself),
every request looks like http, and SecurityMiddleware answers 301 to the same https URL: the
browser gets the same Location again and again (ERR_TOO_MANY_REDIRECTS).

/healthz and /healthz/db stay exempt from the redirect (kubelet probes speak plain HTTP, and
the pod must stay ready for the fault to be seen through the ingress); over HTTPS they still
answer 200, but their JSON says "https": false, which a health check must treat as failure.

Helm-only equivalent: DJANGO_SECURE_PROXY_SSL_HEADER=false, FORWARDED_ALLOW_IPS="" (empty).
"""

from __future__ import annotations

from pathlib import Path

from ._patch import append, gunicorn_trusts_no_proxy, prod_settings

FAULT_ID = "F02"


def apply(app_dir: Path) -> None:
    """Stops trusting X-Forwarded-Proto while the redirect to https stays on."""
    append(
        FAULT_ID,
        prod_settings(app_dir),
        """
# The ingress already speaks https to the browser; no proxy header needed here.
SECURE_PROXY_SSL_HEADER = None
""",
    )
    gunicorn_trusts_no_proxy(FAULT_ID, app_dir)
