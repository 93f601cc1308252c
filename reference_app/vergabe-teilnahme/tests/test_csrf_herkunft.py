"""CSRF und Herkunft hinter dem Ingress: gleiche Herkunft per X-Forwarded-Proto, deutsche 403-Seite
mit dem gesendeten Origin, wenn die Anwendung HTTPS nicht erkennt und die Liste nicht passt."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from tests.conftest import PASSWORT

pytestmark = pytest.mark.django_db

HOST = "vergabe-teilnahme.whywhynot.de"
HINTER_INGRESS = {
    "HTTP_HOST": HOST,
    "HTTP_X_FORWARDED_PROTO": "https",
    "HTTP_ORIGIN": f"https://{HOST}",
}


def anmeldung(client: Client) -> dict[str, str]:
    client.get("/accounts/login/", HTTP_HOST=HOST, HTTP_X_FORWARDED_PROTO="https")
    token = client.cookies["csrftoken"].value
    return {"username": "erika", "password": PASSWORT, "csrfmiddlewaretoken": token}


@override_settings(
    ALLOWED_HOSTS=[HOST],
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
    CSRF_TRUSTED_ORIGINS=[f"https://{HOST}"],
)
def test_anmeldung_hinter_ingress(benutzer: User) -> None:
    client = Client(enforce_csrf_checks=True)
    antwort = client.post("/accounts/login/", anmeldung(client), **HINTER_INGRESS)
    assert antwort.status_code == 302


@override_settings(
    ALLOWED_HOSTS=[HOST], SECURE_PROXY_SSL_HEADER=None, CSRF_TRUSTED_ORIGINS=[f"http://{HOST}"]
)
def test_falsche_herkunft_gibt_deutsche_403(benutzer: User) -> None:
    client = Client(enforce_csrf_checks=True)
    antwort = client.post("/accounts/login/", anmeldung(client), **HINTER_INGRESS)
    html = antwort.content.decode()
    assert antwort.status_code == 403
    assert "Zugriff verweigert (403)" in html
    assert f"Die Herkunft der Anfrage (https://{HOST}) gehört nicht zu den" in html
    assert f"http://{HOST}" not in html
