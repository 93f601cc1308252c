"""Einstellungen für pytest: SQLite im Speicher, schnelle Passwort-Hashes, Test-Manifest."""

from __future__ import annotations

from .base import *  # noqa: F403
from .base import BASE_DIR

DEBUG = False
SECRET_KEY = "test-nur-fuer-pytest"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "localhost"]

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

VITE_MANIFEST_PATH = BASE_DIR / "tests" / "daten" / "manifest.json"
