"""Einstellungen für die lokale Entwicklung: DEBUG an, PostgreSQL aus docker-compose.dev.yml.

DATABASE_URL überschreibt die Vorgabe, z. B. für eine andere lokale Datenbank.
"""

from __future__ import annotations

import os

import dj_database_url

from .base import *  # noqa: F403

DEBUG = True
SECRET_KEY = "dev-nur-lokal-nicht-geheim"  # noqa: S105 - never used outside a developer machine
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]
CSRF_TRUSTED_ORIGINS = ["http://localhost:8000", "http://127.0.0.1:8000"]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://vergabe:vergabe@127.0.0.1:5432/vergabe"),
        conn_max_age=60,
    )
}
