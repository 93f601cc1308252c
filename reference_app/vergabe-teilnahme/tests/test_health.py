"""Gesundheitsprüfung: /healthz ohne Datenbank und ohne Host-Prüfung, /healthz/db mit SELECT 1,
503 bei Datenbankfehlern, keine Umleitung auf HTTPS für die Proben, Erkennung von HTTPS."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.test import Client, override_settings

from vergabe_teilnahme import health


def test_healthz_antwortet_ohne_datenbank(client: Client) -> None:
    # No django_db mark: pytest-django fails the test on any database access.
    antwort = client.get("/healthz")
    assert antwort.status_code == 200
    assert antwort["Content-Type"] == "application/json"
    assert antwort.json() == {"status": "ok", "https": False}
    assert antwort["Cache-Control"] == "no-store"


def test_healthz_mit_pod_ip_als_host(client: Client) -> None:
    antwort = client.get("/healthz", HTTP_HOST="10.42.0.17:8000")
    assert antwort.status_code == 200


def test_healthz_head(client: Client) -> None:
    assert client.head("/healthz").status_code == 200


def test_healthz_meldet_https_hinter_dem_ingress(client: Client) -> None:
    with override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")):
        antwort = client.get("/healthz", HTTP_X_FORWARDED_PROTO="https")
    assert antwort.json()["https"] is True


@override_settings(SECURE_SSL_REDIRECT=True, SECURE_REDIRECT_EXEMPT=[r"^healthz(/db)?/?$"])
def test_proben_ueber_http_werden_nicht_umgeleitet(client: Client) -> None:
    assert client.get("/healthz", HTTP_HOST="10.42.0.17:8000").status_code == 200
    umgeleitet = client.get("/accounts/login/")
    assert umgeleitet.status_code == 301
    assert umgeleitet["Location"] == "https://testserver/accounts/login/"


@pytest.mark.django_db
def test_healthz_db_prueft_die_datenbank(client: Client) -> None:
    antwort = client.get("/healthz/db")
    assert antwort.status_code == 200
    assert antwort.json()["datenbank"] == "ok"


class KaputteVerbindung:
    def cursor(self) -> None:
        raise OperationalError("connection to server at db.example.invalid failed: secret")

    def close_if_unusable_or_obsolete(self) -> None:
        pass


def test_healthz_db_503_ohne_datenbank(
    client: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(health, "connection", KaputteVerbindung())
    antwort = client.get("/healthz/db")
    assert antwort.status_code == 503
    assert antwort.json() == {
        "status": "fehler",
        "datenbank": "nicht erreichbar",
        "fehlerart": "OperationalError",
    }
    assert "secret" not in antwort.content.decode()
    assert "secret" not in caplog.text


def test_nur_get_und_head(client: Client) -> None:
    # A POST is not a probe: it goes on to the URL resolver, which knows no /healthz.
    assert client.post("/healthz").status_code == 404
