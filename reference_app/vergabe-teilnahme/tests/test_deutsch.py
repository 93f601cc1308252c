"""Deutsche Oberfläche: Sprache de-de, sichtbare Texte der Seiten auf Deutsch, keine englischen
Standardtexte, deutsche Fehlerseiten und Formularmeldungen, Verwaltung auf Deutsch."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.test import Client

from ausschreibungen.models import Ausschreibung

pytestmark = pytest.mark.django_db

# English words that would betray an untranslated text on a page of this app.
ENGLISCH = re.compile(
    r"\b(Login|Log in|Logout|Log out|Password|Username|Search|Submit|Save|Dashboard|Status: |"
    r"Not Found|Server Error|Forbidden|Welcome|Create|Details|Deadline|Title|Tender|Filter by|"
    r"This field is required|Home)\b"
)


class SichtbarerText(HTMLParser):
    """Sammelt den sichtbaren Text einer Seite (ohne script/style) und Platzhalter/Titel."""

    def __init__(self) -> None:
        super().__init__()
        self.teile: list[str] = []
        self.versteckt = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.versteckt += 1
        for name, wert in attrs:
            if name in ("placeholder", "title", "alt", "aria-label") and wert:
                self.teile.append(wert)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.versteckt -= 1

    def handle_data(self, data: str) -> None:
        if not self.versteckt and data.strip():
            self.teile.append(data.strip())


def sichtbar(html: str) -> str:
    parser = SichtbarerText()
    parser.feed(html)
    return " ".join(parser.teile)


def test_sprache() -> None:
    assert settings.LANGUAGE_CODE == "de-de"
    assert settings.TIME_ZONE == "Europe/Berlin"


def test_anmeldeseite_deutsch(client: Client) -> None:
    html = client.get("/accounts/login/").content.decode()
    text = sichtbar(html)
    assert '<html lang="de">' in html
    for wort in ("Anmelden", "Benutzername", "Passwort"):
        assert wort in text
    assert not ENGLISCH.search(text), ENGLISCH.search(text)


@pytest.mark.parametrize(
    "pfad", ["/", "/ausschreibungen/", "/ausschreibungen/neu/", "/ausschreibungen/{pk}/"]
)
def test_seiten_deutsch(
    angemeldet: Client, ausschreibung_anlegen: Callable[..., Ausschreibung], pfad: str
) -> None:
    a = ausschreibung_anlegen()
    text = sichtbar(angemeldet.get(pfad.format(pk=a.pk)).content.decode())
    assert not ENGLISCH.search(text), ENGLISCH.search(text)
    assert "Abmelden" in text


def test_404_deutsch(angemeldet: Client) -> None:
    antwort = angemeldet.get("/gibt-es-nicht/")
    assert antwort.status_code == 404
    text = sichtbar(antwort.content.decode())
    assert "Seite nicht gefunden (404)" in text
    assert not ENGLISCH.search(text)


def test_500_seite_deutsch() -> None:
    html = (settings.BASE_DIR / "templates" / "500.html").read_text(encoding="utf-8")
    assert "Serverfehler (500)" in sichtbar(html)


def test_pflichtfeld_meldung_deutsch(angemeldet: Client, stammdaten: None) -> None:
    antwort = angemeldet.post("/ausschreibungen/neu/", {}, HTTP_HX_REQUEST="true")
    text = sichtbar(antwort.content.decode())
    assert "Dieses Feld ist zwingend erforderlich." in text
    assert not ENGLISCH.search(text)


def test_verwaltung_deutsch(admin_client: Client) -> None:
    text = sichtbar(admin_client.get("/admin/").content.decode())
    assert "Vergabe-Teilnahme – Verwaltung" in text
    assert "Ausschreibungen" in text
    assert "Verfahrensarten" in text
    assert "Abmelden" in text


def test_verwaltungs_anmeldung_deutsch(client: Client) -> None:
    text = sichtbar(client.get("/admin/login/").content.decode())
    assert "Anmelden" in text
    assert "Passwort" in text


def test_leere_auswahl_deutsch(angemeldet: Client, admin_client: Client) -> None:
    for client, pfad in (
        (angemeldet, "/"),
        (admin_client, "/admin/ausschreibungen/ausschreibung/add/"),
    ):
        html = client.get(pfad).content.decode()
        assert "– Bitte auswählen –" in html
        assert "Select an option" not in html
