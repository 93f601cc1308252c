"""Dashboard und Seiten: Anmeldung nötig, Kennzahlen, neueste Ausschreibungen, Detail, Admin."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from ausschreibungen.models import Ausschreibung
from tests.conftest import PASSWORT

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "pfad", ["/", "/ausschreibungen/", "/ausschreibungen/liste/", "/ausschreibungen/neu/"]
)
def test_ohne_anmeldung_zur_anmeldeseite(client: Client, pfad: str) -> None:
    antwort = client.get(pfad)
    assert antwort.status_code == 302
    assert antwort["Location"] == f"/accounts/login/?next={pfad}"


def test_anmelden_fuehrt_zum_dashboard(client: Client, benutzer: User) -> None:
    antwort = client.post("/accounts/login/", {"username": "erika", "password": PASSWORT})
    assert antwort.status_code == 302
    assert antwort["Location"] == "/"


def test_falsches_passwort_deutsche_meldung(client: Client, benutzer: User) -> None:
    antwort = client.post("/accounts/login/", {"username": "erika", "password": "falsch"})
    assert antwort.status_code == 200
    assert "Bitte Benutzername und Passwort eingeben" in antwort.content.decode()


def test_dashboard_zeigt_kennzahlen_und_neueste(
    angemeldet: Client, ausschreibung_anlegen: Callable[..., Ausschreibung]
) -> None:
    for _ in range(12):
        ausschreibung_anlegen()
    ausschreibung_anlegen(status=Ausschreibung.Status.ENTWURF, titel="Neuester Entwurf")
    antwort = angemeldet.get("/")
    html = antwort.content.decode()
    assert antwort.status_code == 200
    assert 'id="kennzahl-gesamt" class="mt-1 text-2xl font-semibold text-slate-900">13<' in html
    assert 'id="kennzahl-entwuerfe" class="mt-1 text-2xl font-semibold text-slate-700">1<' in html
    assert html.count('<tr id="ausschreibung-') == 10
    assert "Neuester Entwurf" in html
    assert 'class="text-3xl font-bold tracking-tight text-vergabe-700">Übersicht</h1>' in html


def test_dashboard_bindet_vite_assets_ein(angemeldet: Client) -> None:
    html = angemeldet.get("/").content.decode()
    assert '<link rel="stylesheet" href="/static/dist/assets/main-TEST5678.css">' in html
    assert '<script type="module" src="/static/dist/assets/main-TEST1234.js"></script>' in html


def test_detailseite(
    angemeldet: Client, ausschreibung_anlegen: Callable[..., Ausschreibung]
) -> None:
    a = ausschreibung_anlegen(titel="Glasreinigung")
    html = angemeldet.get(a.get_absolute_url()).content.decode()
    assert "Glasreinigung" in html
    assert "Offenes Verfahren" in html
    assert "Veröffentlicht" in html


def test_verwaltung_hat_ausschreibung(admin_client: Client) -> None:
    antwort = admin_client.get("/admin/ausschreibungen/ausschreibung/")
    assert antwort.status_code == 200
    assert "Ausschreibungen" in antwort.content.decode()
    assert admin_client.get("/admin/ausschreibungen/ausschreibung/add/").status_code == 200
