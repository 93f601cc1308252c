"""HTMX: Fragment der Liste mit Vary: HX-Request, Filter, Anlegen per hx-post mit CSRF-Kopfzeile,
Ereignis für die Liste, Formularfehler als Fragment, 403 ohne Kopfzeile."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from ausschreibungen.models import Auftraggeber, Ausschreibung, Verfahrensart

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def test_liste_als_fragment_fuer_htmx(
    angemeldet: Client, ausschreibung_anlegen: Callable[..., Ausschreibung]
) -> None:
    ausschreibung_anlegen(titel="Schulbau Nord")
    antwort = angemeldet.get("/ausschreibungen/liste/", **HX)
    html = antwort.content.decode()
    assert antwort.status_code == 200
    assert "HX-Request" in antwort["Vary"]
    assert "<html" not in html
    assert html.lstrip().startswith("<tr")
    assert "Schulbau Nord" in html


def test_liste_ohne_htmx_ist_ganze_seite(angemeldet: Client) -> None:
    antwort = angemeldet.get("/ausschreibungen/liste/")
    assert "HX-Request" in antwort["Vary"]
    assert "<html" in antwort.content.decode()


def test_filter(angemeldet: Client, ausschreibung_anlegen: Callable[..., Ausschreibung]) -> None:
    ausschreibung_anlegen(titel="Schulbau Nord")
    ausschreibung_anlegen(titel="Straßenreinigung", status=Ausschreibung.Status.ENTWURF)
    html = angemeldet.get("/ausschreibungen/liste/", {"q": "schulbau"}, **HX).content.decode()
    assert "Schulbau Nord" in html
    assert "Straßenreinigung" not in html
    html = angemeldet.get("/ausschreibungen/liste/", {"status": "entwurf"}, **HX).content.decode()
    assert "Straßenreinigung" in html
    assert "Schulbau Nord" not in html
    html = angemeldet.get("/ausschreibungen/liste/", {"q": "gibt es nicht"}, **HX).content.decode()
    assert "Keine Ausschreibungen gefunden." in html


def test_dashboard_verdrahtet_htmx(angemeldet: Client) -> None:
    html = angemeldet.get("/").content.decode()
    assert 'hx-get="/ausschreibungen/liste/"' in html
    assert 'hx-post="/ausschreibungen/neu/"' in html
    assert re.search(r"hx-headers='\{\"X-CSRFToken\": \"[A-Za-z0-9]{64}\"\}'", html)
    formular = html[html.index('<form id="ausschreibung-formular"') :]
    formular = formular[: formular.index("</form>")]
    # The form carries no hidden token: the header is the only way the token travels.
    assert "csrfmiddlewaretoken" not in formular


def csrf_client(benutzer: User) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    client.force_login(benutzer)
    html = client.get("/").content.decode()
    token = re.search(r'"X-CSRFToken": "([A-Za-z0-9]+)"', html)
    assert token
    return client, token.group(1)


def formular() -> dict[str, str]:
    return {
        "titel": "Neubau Feuerwache",
        "vergabenummer": "VG-2026-100",
        "auftraggeber": str(Auftraggeber.objects.get().pk),
        "verfahrensart": str(Verfahrensart.objects.get(kuerzel="verhandlungsverfahren").pk),
        "abgabefrist": (timezone.localtime() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M"),
        "status": "veroeffentlicht",
    }


def test_anlegen_per_hx_post_mit_csrf_kopfzeile(stammdaten: None, benutzer: User) -> None:
    client, token = csrf_client(benutzer)
    antwort = client.post("/ausschreibungen/neu/", formular(), HTTP_X_CSRFTOKEN=token, **HX)
    assert antwort.status_code == 200
    assert antwort["HX-Trigger"] == "ausschreibungAngelegt"
    assert "wurde angelegt" in antwort.content.decode()
    neu = Ausschreibung.objects.get(vergabenummer="VG-2026-100")
    assert neu.erstellt_von == benutzer

    zeilen = client.get("/ausschreibungen/liste/", {"limit": "10"}, **HX).content.decode()
    assert f'<tr id="ausschreibung-{neu.pk}"' in zeilen
    assert "Neubau Feuerwache" in zeilen


def test_hx_post_ohne_csrf_kopfzeile_wird_abgewiesen(stammdaten: None, benutzer: User) -> None:
    client, _ = csrf_client(benutzer)
    antwort = client.post("/ausschreibungen/neu/", formular(), **HX)
    assert antwort.status_code == 403
    assert "X-CSRFToken" in antwort.content.decode()
    assert not Ausschreibung.objects.exists()


def test_formularfehler_kommen_als_fragment(stammdaten: None, benutzer: User) -> None:
    client, token = csrf_client(benutzer)
    daten = formular() | {"titel": ""}
    antwort = client.post("/ausschreibungen/neu/", daten, HTTP_X_CSRFTOKEN=token, **HX)
    html = antwort.content.decode()
    assert antwort.status_code == 200
    assert "HX-Trigger" not in antwort
    assert "<html" not in html
    assert "Dieses Feld ist zwingend erforderlich." in html


def test_doppelte_vergabenummer(
    stammdaten: None, benutzer: User, ausschreibung_anlegen: Callable[..., Ausschreibung]
) -> None:
    ausschreibung_anlegen(vergabenummer="VG-2026-100")
    client, token = csrf_client(benutzer)
    antwort = client.post("/ausschreibungen/neu/", formular(), HTTP_X_CSRFTOKEN=token, **HX)
    assert "Eine Ausschreibung mit dieser Vergabenummer gibt es schon." in antwort.content.decode()


def test_anlegen_ohne_htmx_leitet_zur_detailseite(stammdaten: None, angemeldet: Client) -> None:
    antwort = angemeldet.post("/ausschreibungen/neu/", formular())
    neu = Ausschreibung.objects.get(vergabenummer="VG-2026-100")
    assert antwort.status_code == 302
    assert antwort["Location"] == neu.get_absolute_url()


def test_kennzahlen_fragment(
    angemeldet: Client, ausschreibung_anlegen: Callable[..., Ausschreibung]
) -> None:
    ausschreibung_anlegen()
    html = angemeldet.get("/ausschreibungen/kennzahlen/", **HX).content.decode()
    assert "Ausschreibungen gesamt" in html
    assert "<html" not in html


def test_filter_und_formular_haben_verschiedene_ids(angemeldet: Client, stammdaten: None) -> None:
    html = angemeldet.get("/").content.decode()
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert 'id="filter_status"' in html
    assert 'id="id_status"' in html
