"""Lesen der Umgebungsvariablen für die Einstellungen, mit klaren Fehlermeldungen.

Eine Meldung nennt immer nur den Namen einer Variablen, nie ihren Wert: Werte wie der
SECRET_KEY oder die Datenbank-DSN dürfen in keinem Log und keiner Ausgabe erscheinen.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

WAHR = frozenset({"1", "true", "yes", "on", "ja", "wahr"})
FALSCH = frozenset({"0", "false", "no", "off", "nein", "falsch", ""})


def required(*names: str) -> str:
    """Gibt den Wert der ersten gesetzten Variablen aus `names` zurück, sonst einen Fehler."""
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    wanted = " oder ".join(names)
    raise ImproperlyConfigured(
        f"Umgebungsvariable {wanted} fehlt oder ist leer; die Produktionseinstellungen "
        f"brauchen sie. Setzen Sie sie in den Helm-Werten bzw. im Secret des Deployments."
    )


def flag(name: str, default: bool) -> bool:
    """Liest einen Schalter (true/false, 1/0, on/off, ja/nein); Unbekanntes ist ein Fehler."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in WAHR:
        return True
    if value in FALSCH:
        return False
    raise ImproperlyConfigured(
        f"Umgebungsvariable {name} ist kein Schalter; erlaubt sind true/false, 1/0, on/off."
    )


def integer(name: str, default: int) -> int:
    """Liest eine ganze Zahl; ein anderer Wert ist ein Fehler, der nur den Namen nennt."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"Umgebungsvariable {name} muss eine ganze Zahl sein.") from None


def choice(name: str, allowed: tuple[str, ...], default: str) -> str:
    """Liest einen von mehreren erlaubten Werten (Groß-/Kleinschreibung egal)."""
    value = os.environ.get(name, "").strip().upper() or default
    if value not in allowed:
        raise ImproperlyConfigured(
            f"Umgebungsvariable {name} hat keinen erlaubten Wert; erlaubt: {', '.join(allowed)}."
        )
    return value


def listing(*names: str) -> list[str]:
    """Liest eine komma-getrennte Liste aus der ersten gesetzten Variablen (Pflicht)."""
    return [item.strip() for item in required(*names).split(",") if item.strip()]
