"""Fehlerseite für abgewiesene CSRF-Prüfungen, auf Deutsch und mit verständlichem Grund.

Django nennt den Grund nur auf Englisch und zeigt ihn ohne DEBUG gar nicht. Die Seite sagt
hier auf Deutsch, was fehlte; die Liste der vertrauenswürdigen Herkünfte zeigt sie nicht.
Django selbst schreibt den englischen Grund bereits als Warnung des Loggers
django.security.csrf ins Log ("Forbidden (...): /pfad").
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.middleware import csrf
from django.shortcuts import render

GRUND_CSRF_FEHLT = (
    "Das CSRF-Token fehlt: weder das Formularfeld noch die Kopfzeile X-CSRFToken kam an."
)


def csrf_fehler(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: 403 mit deutscher Erklärung des Grundes."""
    context = {"grund": deutscher_grund(request, reason)}
    return render(request, "403_csrf.html", context, status=403)


def deutscher_grund(request: HttpRequest, reason: str) -> str:
    """Übersetzt Djangos Grund (REASON_* in django.middleware.csrf) ins Deutsche."""
    if reason.startswith("Origin checking failed"):
        herkunft = request.META.get("HTTP_ORIGIN", "(keine)")
        return (
            f"Die Herkunft der Anfrage ({herkunft}) gehört nicht zu den vertrauenswürdigen "
            "Herkünften dieser Anwendung."
        )
    if reason == csrf.REASON_NO_CSRF_COOKIE:
        return "Das CSRF-Cookie fehlt. Bitte laden Sie die Seite neu; Cookies müssen erlaubt sein."
    if reason.startswith("CSRF token missing"):
        return GRUND_CSRF_FEHLT
    if reason == csrf.REASON_NO_REFERER or reason == csrf.REASON_MALFORMED_REFERER:
        return "Die Anfrage kam ohne gültigen Referer an."
    if reason.startswith("Referer checking failed"):
        return "Die Anfrage kam von einer Seite, der diese Anwendung nicht vertraut."
    return "Das CSRF-Token ist ungültig oder abgelaufen. Bitte laden Sie die Seite neu."
