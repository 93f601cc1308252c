"""Template-Tag `vite_assets`: bindet einen Einstieg des Vite-Builds über sein Manifest ein.

Vite schreibt nach static/dist/ Dateien mit Hash im Namen und dazu .vite/manifest.json, das
jeden Einstieg (z. B. frontend/main.js) auf seine Dateien abbildet. Der Tag liest das Manifest
und gibt <link rel="stylesheet"> und <script type="module"> aus, deren Adressen über den
Static-Speicher von Django laufen (in Produktion also mit dem Hash von collectstatic).

Fehlt das Manifest oder der Einstieg, rendert die Seite trotzdem, nur ohne Stylesheet und
Skript: der Tag schreibt dann einen Fehler ins Log und einen HTML-Kommentar, der den
fehlenden Einstieg nennt. In Produktion wird das Manifest einmal gelesen und behalten.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()
logger = logging.getLogger(__name__)


class ManifestError(Exception):
    """Das Vite-Manifest fehlt, ist kaputt oder kennt den Einstieg nicht.

    `reason` ist kurz und ohne Pfade (für den HTML-Kommentar), die Meldung ausführlich (Log).
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@lru_cache(maxsize=4)
def _cached_manifest(path: str) -> dict[str, Any]:
    return _read_manifest(path)


def _read_manifest(path: str) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(
            "Manifest fehlt", f"Vite-Manifest {path} fehlt (npm run build gelaufen?)"
        ) from None
    except (OSError, ValueError) as error:
        raise ManifestError(
            "Manifest nicht lesbar", f"Vite-Manifest {path} ist nicht lesbar: {error}"
        ) from error


def manifest() -> dict[str, Any]:
    """Das Manifest; mit DEBUG bei jedem Aufruf frisch gelesen, sonst einmal."""
    path = str(settings.VITE_MANIFEST_PATH)
    if settings.DEBUG:
        return _read_manifest(path)
    return _cached_manifest(path)


def entry_files(entry: str) -> tuple[list[str], list[str]]:
    """CSS- und JS-Dateien (relativ zu static/dist/) eines Einstiegs samt Importen."""
    chunks = manifest()
    if entry not in chunks:
        known = ", ".join(sorted(name for name, chunk in chunks.items() if chunk.get("isEntry")))
        raise ManifestError(
            "Einstieg fehlt im Manifest",
            f"Einstieg {entry} fehlt im Vite-Manifest (vorhanden: {known or 'keiner'})",
        )

    css: list[str] = []
    seen: set[str] = set()

    def collect(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        chunk = chunks[name]
        for imported in chunk.get("imports", []):
            collect(imported)
        for sheet in chunk.get("css", []):
            if sheet not in css:
                css.append(sheet)

    collect(entry)
    main = chunks[entry]["file"]
    if main.endswith(".css"):
        return [main, *[sheet for sheet in css if sheet != main]], []
    return css, [main]


@register.simple_tag
def vite_assets(entry: str) -> SafeString:
    """<link>- und <script>-Tags eines Vite-Einstiegs; bei Fehlern nur ein Kommentar."""
    try:
        css, js = entry_files(entry)
    except ManifestError as error:
        logger.error("vite_assets: %s; die Seite wird ohne Stylesheet/Skript ausgeliefert", error)
        return format_html("<!-- vite: Einstieg {} nicht eingebunden: {} -->", entry, error.reason)

    prefix = settings.VITE_STATIC_PREFIX
    links = format_html_join(
        "\n", '<link rel="stylesheet" href="{}">', ((static(prefix + s),) for s in css)
    )
    scripts = format_html_join(
        "\n", '<script type="module" src="{}"></script>', ((static(prefix + j),) for j in js)
    )
    return format_html("{}\n{}", links, scripts)
