"""Gesundheitsprüfung für kubelet-Proben und den Ingress: /healthz und /healthz/db.

Die Middleware antwortet, bevor Host-Prüfung, Sitzung oder Anmeldung greifen: kubelet fragt
mit der Pod-IP als Host, die in keinem ALLOWED_HOSTS steht, und eine Probe soll nie eine
Sitzung anlegen. /healthz berührt die Datenbank nicht (Lebendigkeit des Prozesses);
/healthz/db prüft zusätzlich mit SELECT 1, ob die Datenbank antwortet (503, wenn nicht).
Das Feld "https" zeigt, ob die Anwendung die Anfrage als HTTPS erkennt: hinter dem Ingress
muss es true sein, sonst wird X-Forwarded-Proto nicht ausgewertet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

PROCESS_PATHS = frozenset({"/healthz", "/healthz/"})
DATABASE_PATHS = frozenset({"/healthz/db", "/healthz/db/"})


class HealthMiddleware:
    """Beantwortet die Gesundheitspfade selbst und reicht alles andere weiter."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("GET", "HEAD"):
            if request.path in PROCESS_PATHS:
                return process_health(request)
            if request.path in DATABASE_PATHS:
                return database_health(request)
        return self.get_response(request)


def process_health(request: HttpRequest) -> JsonResponse:
    """200 mit kurzem JSON, ohne Datenbank."""
    return _no_store(JsonResponse({"status": "ok", "https": request.is_secure()}))


def database_health(request: HttpRequest) -> JsonResponse:
    """200, wenn die Datenbank SELECT 1 beantwortet, sonst 503 mit der Fehlerart."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        # The driver's message can name host and role; the log and the body get its kind only.
        kind = type(error).__name__
        logger.warning("healthz/db: Datenbank nicht erreichbar (%s)", kind)
        body = {"status": "fehler", "datenbank": "nicht erreichbar", "fehlerart": kind}
        return _no_store(JsonResponse(body, status=503))
    finally:
        connection.close_if_unusable_or_obsolete()
    body = {"status": "ok", "datenbank": "ok", "https": request.is_secure()}
    return _no_store(JsonResponse(body))


def _no_store(response: JsonResponse) -> JsonResponse:
    response["Cache-Control"] = "no-store"
    return response
