"""Template-Tag vite_assets: Tags aus dem Manifest, Importe mit CSS, fehlendes Manifest oder
fehlender Einstieg als Kommentar plus Fehler im Log (die Seite rendert ohne Stylesheet)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.template import Context, Template
from django.test import override_settings

from ausschreibungen.templatetags import vite


def render(entry: str = "frontend/main.js") -> str:
    return Template('{% load vite %}{% vite_assets "' + entry + '" %}').render(Context())


def test_tags_aus_dem_manifest() -> None:
    html = render()
    assert '<link rel="stylesheet" href="/static/dist/assets/main-TEST5678.css">' in html
    assert '<script type="module" src="/static/dist/assets/main-TEST1234.js"></script>' in html


def test_css_aus_importen(tmp_path: Path) -> None:
    manifest = {
        "frontend/main.js": {
            "file": "assets/main.js",
            "isEntry": True,
            "imports": ["_teil.js"],
            "css": ["assets/main.css"],
        },
        "_teil.js": {"file": "assets/teil.js", "css": ["assets/teil.css"]},
    }
    datei = tmp_path / "manifest.json"
    datei.write_text(json.dumps(manifest))
    with override_settings(VITE_MANIFEST_PATH=datei, DEBUG=True):
        css, js = vite.entry_files("frontend/main.js")
    assert css == ["assets/teil.css", "assets/main.css"]
    assert js == ["assets/main.js"]


def test_fehlendes_manifest(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with override_settings(VITE_MANIFEST_PATH=tmp_path / "fehlt.json"):
        html = render()
    assert html == "<!-- vite: Einstieg frontend/main.js nicht eingebunden: Manifest fehlt -->"
    assert "<link" not in html
    assert "fehlt.json fehlt" in caplog.text
    assert "ohne Stylesheet" in caplog.text


def test_fehlender_einstieg(caplog: pytest.LogCaptureFixture) -> None:
    html = render("frontend/admin.js")
    assert "Einstieg frontend/admin.js nicht eingebunden: Einstieg fehlt im Manifest" in html
    assert "vorhanden: frontend/main.js" in caplog.text
