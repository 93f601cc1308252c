"""Datenmodell: Darstellung, eindeutige Vergabenummer, Sortierung, Fristen, deutsche Namen."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from ausschreibungen.models import Auftraggeber, Ausschreibung, Verfahrensart

pytestmark = pytest.mark.django_db


def test_darstellung_nennt_vergabenummer_und_titel(
    ausschreibung_anlegen: Callable[..., Ausschreibung],
) -> None:
    a = ausschreibung_anlegen(titel="Winterdienst", vergabenummer="VG-2026-777")
    assert str(a) == "VG-2026-777 – Winterdienst"
    assert a.get_absolute_url() == f"/ausschreibungen/{a.pk}/"


def test_vergabenummer_ist_eindeutig(ausschreibung_anlegen: Callable[..., Ausschreibung]) -> None:
    ausschreibung_anlegen(vergabenummer="VG-1")
    with pytest.raises(IntegrityError):
        ausschreibung_anlegen(vergabenummer="VG-1")


def test_neueste_zuerst(ausschreibung_anlegen: Callable[..., Ausschreibung]) -> None:
    erste = ausschreibung_anlegen()
    zweite = ausschreibung_anlegen()
    assert list(Ausschreibung.objects.all()) == [zweite, erste]


def test_frist_abgelaufen(ausschreibung_anlegen: Callable[..., Ausschreibung]) -> None:
    vorbei = ausschreibung_anlegen(abgabefrist=timezone.now() - timedelta(hours=1))
    offen = ausschreibung_anlegen(abgabefrist=timezone.now() + timedelta(hours=1))
    assert vorbei.frist_abgelaufen
    assert not offen.frist_abgelaufen


def test_status_vorgabe_ist_entwurf() -> None:
    assert Ausschreibung._meta.get_field("status").default == Ausschreibung.Status.ENTWURF


def test_verfahrensart_ist_fremdschluessel_auf_referenztabelle() -> None:
    feld = Ausschreibung._meta.get_field("verfahrensart")
    assert feld.related_model is Verfahrensart
    assert Ausschreibung._meta.get_field("auftraggeber").related_model is Auftraggeber


@pytest.mark.parametrize(
    ("modell", "einzahl", "mehrzahl"),
    [
        (Ausschreibung, "Ausschreibung", "Ausschreibungen"),
        (Verfahrensart, "Verfahrensart", "Verfahrensarten"),
        (Auftraggeber, "Auftraggeber", "Auftraggeber"),
    ],
)
def test_deutsche_modellnamen(modell: type, einzahl: str, mehrzahl: str) -> None:
    assert modell._meta.verbose_name == einzahl
    assert modell._meta.verbose_name_plural == mehrzahl
