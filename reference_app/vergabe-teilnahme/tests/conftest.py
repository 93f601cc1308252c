"""Gemeinsame Fixtures: Benutzer, angemeldeter Client, Stammdaten, Ausschreibungen."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from itertools import count

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from ausschreibungen.models import Auftraggeber, Ausschreibung, Verfahrensart

PASSWORT = "Vergabe-Test-2026!"


@pytest.fixture
def benutzer(db: None) -> User:
    return User.objects.create_user("erika", "erika@example.invalid", PASSWORT, first_name="Erika")


@pytest.fixture
def angemeldet(client: Client, benutzer: User) -> Client:
    client.force_login(benutzer)
    return client


@pytest.fixture
def stammdaten(db: None) -> None:
    call_command("seed", stdout=StringIO())


@pytest.fixture
def ausschreibung_anlegen(stammdaten: None, benutzer: User) -> Callable[..., Ausschreibung]:
    nummern = count(1)

    def anlegen(**werte: object) -> Ausschreibung:
        n = next(nummern)
        vorgaben: dict[str, object] = {
            "titel": f"Reinigung Schule {n}",
            "vergabenummer": f"VG-2026-{n:03d}",
            "auftraggeber": Auftraggeber.objects.first(),
            "verfahrensart": Verfahrensart.objects.get(kuerzel="offenes-verfahren"),
            "abgabefrist": timezone.now() + timedelta(days=14),
            "status": Ausschreibung.Status.VEROEFFENTLICHT,
            "erstellt_von": benutzer,
        }
        vorgaben.update(werte)
        return Ausschreibung.objects.create(**vorgaben)

    return anlegen
