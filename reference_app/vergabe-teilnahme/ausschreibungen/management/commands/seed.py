"""`manage.py seed`: lädt die Stammdaten (Verfahrensarten, Demo-Auftraggeber), beliebig oft.

Jede Zeile wird über ihren natürlichen Schlüssel mit update_or_create geschrieben: ein zweiter
Lauf legt nichts neu an und meldet "0 angelegt".
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from ausschreibungen.models import Auftraggeber, Verfahrensart

VERFAHRENSARTEN = [
    (
        "offenes-verfahren",
        "Offenes Verfahren",
        "Jedes interessierte Unternehmen kann ein Angebot abgeben (§ 15 VgV).",
    ),
    (
        "nicht-offenes-verfahren",
        "Nicht offenes Verfahren",
        "Nach öffentlichem Teilnahmewettbewerb werden ausgewählte Unternehmen zur Angebotsabgabe "
        "aufgefordert (§ 16 VgV).",
    ),
    (
        "verhandlungsverfahren",
        "Verhandlungsverfahren",
        "Der Auftraggeber verhandelt mit ausgewählten Unternehmen über die Angebote (§ 17 VgV).",
    ),
    (
        "wettbewerblicher-dialog",
        "Wettbewerblicher Dialog",
        "Dialog mit ausgewählten Unternehmen, um die Lösung für komplexe Vorhaben zu finden "
        "(§ 18 VgV).",
    ),
    (
        "innovationspartnerschaft",
        "Innovationspartnerschaft",
        "Entwicklung und anschließender Erwerb einer innovativen Leistung (§ 19 VgV).",
    ),
]

DEMO_AUFTRAGGEBER = {
    "name": "Stadt Musterstadt – Zentrale Vergabestelle",
    "ort": "Musterstadt",
    "email": "vergabestelle@musterstadt.example",
}


class Command(BaseCommand):
    help = "Lädt Verfahrensarten und einen Demo-Auftraggeber (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            neu, geaendert = self.verfahrensarten()
            self.stdout.write(f"Verfahrensarten: {neu} angelegt, {geaendert} aktualisiert")
            neu, geaendert = self.auftraggeber()
            self.stdout.write(f"Auftraggeber: {neu} angelegt, {geaendert} aktualisiert")
        self.stdout.write(self.style.SUCCESS("Stammdaten geladen."))

    def verfahrensarten(self) -> tuple[int, int]:
        neu = 0
        for reihenfolge, (kuerzel, name, beschreibung) in enumerate(VERFAHRENSARTEN, start=1):
            _, created = Verfahrensart.objects.update_or_create(
                kuerzel=kuerzel,
                defaults={"name": name, "beschreibung": beschreibung, "reihenfolge": reihenfolge},
            )
            neu += created
        return neu, len(VERFAHRENSARTEN) - neu

    def auftraggeber(self) -> tuple[int, int]:
        defaults = {key: value for key, value in DEMO_AUFTRAGGEBER.items() if key != "name"}
        _, created = Auftraggeber.objects.update_or_create(
            name=DEMO_AUFTRAGGEBER["name"], defaults=defaults
        )
        return int(created), int(not created)
