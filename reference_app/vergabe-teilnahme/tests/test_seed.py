"""`manage.py seed`: Verfahrensarten und Demo-Auftraggeber laden, zweimal ohne Dubletten."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from ausschreibungen.models import Auftraggeber, Verfahrensart

pytestmark = pytest.mark.django_db

ERWARTET = [
    "Offenes Verfahren",
    "Nicht offenes Verfahren",
    "Verhandlungsverfahren",
    "Wettbewerblicher Dialog",
    "Innovationspartnerschaft",
]


def seed() -> str:
    ausgabe = StringIO()
    call_command("seed", stdout=ausgabe)
    return ausgabe.getvalue()


def test_seed_laedt_verfahrensarten_und_demo_auftraggeber() -> None:
    ausgabe = seed()
    assert list(Verfahrensart.objects.values_list("name", flat=True)) == ERWARTET
    assert Auftraggeber.objects.count() == 1
    assert "Verfahrensarten: 5 angelegt, 0 aktualisiert" in ausgabe
    assert "Auftraggeber: 1 angelegt, 0 aktualisiert" in ausgabe


def test_seed_zweimal_legt_nichts_doppelt_an() -> None:
    seed()
    vorher = (Verfahrensart.objects.count(), Auftraggeber.objects.count())
    ausgabe = seed()
    nachher = (Verfahrensart.objects.count(), Auftraggeber.objects.count())
    assert vorher == nachher == (5, 1)
    assert "Verfahrensarten: 0 angelegt, 5 aktualisiert" in ausgabe
    assert "Auftraggeber: 0 angelegt, 1 aktualisiert" in ausgabe


def test_seed_repariert_geaenderte_stammdaten() -> None:
    seed()
    Verfahrensart.objects.filter(kuerzel="offenes-verfahren").update(name="Offen (alt)")
    seed()
    assert Verfahrensart.objects.get(kuerzel="offenes-verfahren").name == "Offenes Verfahren"
    assert Verfahrensart.objects.count() == 5
