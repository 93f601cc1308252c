"""Produktionseinstellungen: DEBUG wird abgewiesen, fehlende Variablen werden beim Namen genannt
(nie mit Wert), TLS-Einstellungen für den Ingress, WhiteNoise, check --deploy ohne Befund."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent
GEHEIM = "s3cr3t-" + "x" * 60
UMGEBUNG = {
    "DJANGO_SETTINGS_MODULE": "vergabe_teilnahme.settings.prod",
    "DJANGO_SECRET_KEY": GEHEIM,
    "DATABASE_URL": "postgres://vergabe:pw-sehr-geheim@127.0.0.1:5432/vergabe_db",
    "ALLOWED_HOSTS": "vergabe-teilnahme.whywhynot.de",
    "CSRF_TRUSTED_ORIGINS": "https://vergabe-teilnahme.whywhynot.de",
}
LESEN = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DEBUG, s.SECURE_PROXY_SSL_HEADER, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, "
    "s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.STORAGES['staticfiles']['BACKEND'], "
    "s.CSRF_TRUSTED_ORIGINS, s.ALLOWED_HOSTS, sep='|')"
)


def starte(*args: str, **aenderungen: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "DATABASE"))}
    env.update(UMGEBUNG)
    for name, wert in aenderungen.items():
        if wert is None:
            env.pop(name, None)
        else:
            env[name] = wert
    return subprocess.run(
        [sys.executable, *args], cwd=APP, env=env, capture_output=True, text=True, timeout=120
    )


def test_prod_werte() -> None:
    ergebnis = starte("-c", LESEN)
    assert ergebnis.returncode == 0, ergebnis.stderr
    werte = ergebnis.stdout.strip().split("|")
    assert werte == [
        "False",
        "('HTTP_X_FORWARDED_PROTO', 'https')",
        "True",
        "True",
        "True",
        "31536000",
        "whitenoise.storage.CompressedManifestStaticFilesStorage",
        "['https://vergabe-teilnahme.whywhynot.de']",
        "['vergabe-teilnahme.whywhynot.de']",
    ]


@pytest.mark.parametrize("wert", ["True", "1", "on"])
def test_prod_weist_debug_ab(wert: str) -> None:
    ergebnis = starte("-c", LESEN, DJANGO_DEBUG=wert)
    assert ergebnis.returncode != 0
    assert "DJANGO_DEBUG ist eingeschaltet" in ergebnis.stderr


def test_debug_false_ist_erlaubt() -> None:
    assert starte("-c", LESEN, DJANGO_DEBUG="False").returncode == 0


@pytest.mark.parametrize("name", ["DATABASE_URL", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS"])
def test_fehlende_variable_wird_genannt(name: str) -> None:
    ergebnis = starte("-c", LESEN, **{name: None})
    assert ergebnis.returncode != 0
    assert f"Umgebungsvariable {name} fehlt" in ergebnis.stderr
    assert GEHEIM not in ergebnis.stderr + ergebnis.stdout
    assert "pw-sehr-geheim" not in ergebnis.stderr + ergebnis.stdout


def test_fehlender_secret_key_wird_genannt() -> None:
    ergebnis = starte("-c", LESEN, DJANGO_SECRET_KEY=None)
    assert "Umgebungsvariable DJANGO_SECRET_KEY oder SECRET_KEY fehlt" in ergebnis.stderr


def test_secret_key_auch_als_secret_key() -> None:
    assert starte("-c", LESEN, DJANGO_SECRET_KEY=None, SECRET_KEY=GEHEIM).returncode == 0


def test_kaputte_database_url_verraet_kein_passwort() -> None:
    ergebnis = starte("-c", LESEN, DATABASE_URL="mysqlx://vergabe:pw-sehr-geheim@db/x")
    assert ergebnis.returncode != 0
    assert "DATABASE_URL ist keine gültige Datenbank-URL" in ergebnis.stderr
    assert "pw-sehr-geheim" not in ergebnis.stderr


def test_proxy_schalter_aus() -> None:
    ergebnis = starte("-c", LESEN, DJANGO_SECURE_PROXY_SSL_HEADER="false")
    assert ergebnis.stdout.split("|")[1] == "None"


def test_check_deploy_ohne_befund() -> None:
    ergebnis = starte("manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert ergebnis.returncode == 0, ergebnis.stderr
    assert "System check identified no issues" in ergebnis.stdout
