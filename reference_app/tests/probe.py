"""Drives a copy of vergabe-teilnahme under its production settings, as the ingress would.

Run with the copy as working directory: `python probe.py RESULT.json`. It migrates a SQLite
database, seeds twice, collects static files, creates a user and then makes the requests a
browser behind Traefik makes (Host, X-Forwarded-Proto: https, Origin on POST), with the WSGI
scheme that gunicorn would report given the Dockerfile's FORWARDED_ALLOW_IPS. The observations
go to RESULT.json; the app's log goes to stdout/stderr for the caller to read.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

HOST = "vergabe-teilnahme.whywhynot.de"
ORIGIN = f"https://{HOST}"
PASSWORD = "Probe-Passwort-2026!"  # noqa: S105 - a throwaway user in a throwaway database


def gunicorn_scheme(app_dir: Path) -> str:
    """https if gunicorn would trust X-Forwarded-Proto from the ingress, else http."""
    dockerfile = app_dir / "Dockerfile"
    if not dockerfile.exists():
        dockerfile = Path(__file__).resolve().parents[2] / "provisioning/templates/app/Dockerfile"
    match = re.search(r'FORWARDED_ALLOW_IPS="([^"]*)"', dockerfile.read_text(encoding="utf-8"))
    return "https" if match and match.group(1).strip() else "http"


def redirect_chain(client: Any, path: str, limit: int = 5) -> list[str]:
    """The Location headers met when following redirects of GET `path`, at most `limit`."""
    chain: list[str] = []
    for _ in range(limit):
        response = client.get(path)
        if response.status_code not in (301, 302, 307, 308):
            break
        chain.append(response["Location"])
        path = re.sub(r"^https?://[^/]+", "", response["Location"]) or "/"
    return chain


def main(result_path: str) -> None:
    app_dir = Path.cwd()
    sys.path.insert(0, str(app_dir))
    os.environ["DJANGO_SETTINGS_MODULE"] = "vergabe_teilnahme.settings.prod"

    import django

    django.setup()
    from ausschreibungen.models import Auftraggeber, Verfahrensart
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    seeds = []
    for _ in range(2):
        call_command("seed", verbosity=0)
        seeds.append([Verfahrensart.objects.count(), Auftraggeber.objects.count()])
    User.objects.create_user("probe", "probe@example.invalid", PASSWORD)

    scheme = gunicorn_scheme(app_dir)
    environ = {"HTTP_HOST": HOST, "HTTP_X_FORWARDED_PROTO": "https", "wsgi.url_scheme": scheme}
    client = Client(enforce_csrf_checks=True, raise_request_exception=False, **environ)
    result: dict[str, Any] = {"debug": settings.DEBUG, "gunicorn_scheme": scheme, "seeds": seeds}

    health = client.get("/healthz")
    result["healthz"] = [health.status_code, health.json() if health.status_code == 200 else None]
    result["redirects_dashboard"] = redirect_chain(client, "/")
    missing = client.get("/gibt-es-nicht/")
    result["not_found"] = [missing.status_code, "URLconf" in missing.content.decode()]

    login_page = client.get("/accounts/login/")
    result["login_page"] = login_page.status_code
    token = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else ""
    login = client.post(
        "/accounts/login/",
        {"username": "probe", "password": PASSWORD, "csrfmiddlewaretoken": token},
        HTTP_ORIGIN=ORIGIN,
    )
    result["login"] = [login.status_code, login.get("Location")]
    if login.status_code == 403:
        client.force_login(User.objects.get(username="probe"))

    dashboard = client.get("/")
    html = dashboard.content.decode()
    result["dashboard"] = dashboard.status_code
    result["stylesheet"] = '<link rel="stylesheet"' in html
    header = re.search(r'"X-CSRFToken": "([A-Za-z0-9]+)"', html)
    extra = {"HTTP_X_CSRFTOKEN": header.group(1)} if header else {}
    create = client.post(
        "/ausschreibungen/neu/",
        {
            "titel": "Probe",
            "vergabenummer": "PROBE-1",
            "auftraggeber": Auftraggeber.objects.first().pk,
            "verfahrensart": Verfahrensart.objects.first().pk,
            "abgabefrist": "2031-01-01T12:00",
            "status": "entwurf",
        },
        HTTP_ORIGIN=ORIGIN,
        HTTP_HX_REQUEST="true",
        **extra,
    )
    result["create_hx"] = [create.status_code, create.get("HX-Trigger"), bool(header)]

    Path(result_path).write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
