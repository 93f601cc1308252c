"""Produktionseinstellungen: der Container im Cluster, TLS endet am Ingress (Traefik).

Alles Umgebungsabhängige kommt aus Umgebungsvariablen; fehlt eine Pflichtvariable, bricht
der Start mit einer Meldung ab, die die Variable nennt (nie ihren Wert):

    DJANGO_SECRET_KEY (oder SECRET_KEY)  geheimer Schlüssel, mindestens 50 Zeichen
    DATABASE_URL                         postgres://rolle:passwort@host:5432/datenbank
    ALLOWED_HOSTS                        komma-getrennt, z. B. vergabe-teilnahme.whywhynot.de
    CSRF_TRUSTED_ORIGINS                 komma-getrennt, mit Schema: https://vergabe-teilnahme...

Schalter mit sicheren Vorgaben: DJANGO_SECURE_PROXY_SSL_HEADER (true: X-Forwarded-Proto des
Ingress gilt), DJANGO_SECURE_SSL_REDIRECT (true), DJANGO_HSTS_SECONDS (31536000),
DJANGO_CONN_MAX_AGE (60), DJANGO_LOG_LEVEL (INFO). DJANGO_DEBUG wird abgewiesen.
"""

from __future__ import annotations

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from . import env
from .base import *  # noqa: F403
from .base import LOGGING

# --- DEBUG -------------------------------------------------------------------------------
DEBUG = False
if env.flag("DJANGO_DEBUG", default=False):
    raise ImproperlyConfigured(
        "DJANGO_DEBUG ist eingeschaltet, die Produktionseinstellungen lassen DEBUG nicht zu. "
        "Entfernen Sie DJANGO_DEBUG aus den Helm-Werten."
    )

# --- Geheimnisse, Hosts, Datenbank -------------------------------------------------------
SECRET_KEY = env.required("DJANGO_SECRET_KEY", "SECRET_KEY")
ALLOWED_HOSTS = env.listing("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.listing("CSRF_TRUSTED_ORIGINS")

try:
    _database = dj_database_url.parse(
        env.required("DATABASE_URL"),
        conn_max_age=env.integer("DJANGO_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
except ValueError:
    # The parser's message may quote the URL, password included: say only what is wrong.
    raise ImproperlyConfigured(
        "DATABASE_URL ist keine gültige Datenbank-URL; erwartet wird "
        "postgres://rolle:passwort@host:5432/datenbank."
    ) from None
if _database.get("ENGINE") == "django.db.backends.postgresql":
    _database.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
DATABASES = {"default": _database}

# --- TLS am Ingress ----------------------------------------------------------------------
# Traefik ends TLS and forwards plain HTTP with X-Forwarded-Proto; Django must trust that
# header, or every request looks like http and SECURE_SSL_REDIRECT redirects for ever.
if env.flag("DJANGO_SECURE_PROXY_SSL_HEADER", default=True):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
else:
    SECURE_PROXY_SSL_HEADER = None
SECURE_SSL_REDIRECT = env.flag("DJANGO_SECURE_SSL_REDIRECT", default=True)
# kubelet probes speak plain HTTP to the pod: the health endpoints must not be redirected.
SECURE_REDIRECT_EXEMPT = [r"^healthz(/db)?/?$"]

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.integer("DJANGO_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = False
# Preloading is a decision for the registrable domain (whywhynot.de) and its owner, not for
# one application on a subdomain; hence the preload warning of check --deploy is silenced.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

# --- Statische Dateien: WhiteNoise mit Hash-Namen und Kompression -----------------------
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Logging nach stdout ------------------------------------------------------------------
LOG_LEVEL = env.choice("DJANGO_LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO")
LOGGING["root"]["level"] = LOG_LEVEL
for _logger in LOGGING["loggers"].values():
    _logger["level"] = LOG_LEVEL
