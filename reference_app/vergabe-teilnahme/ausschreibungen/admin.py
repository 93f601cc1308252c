"""Django-Verwaltung: Ausschreibungen, Auftraggeber und Verfahrensarten."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Auftraggeber, Ausschreibung, Verfahrensart


@admin.register(Ausschreibung)
class AusschreibungAdmin(admin.ModelAdmin):
    """Ausschreibungen mit Suche nach Titel, Vergabenummer und Auftraggeber."""

    list_display = [
        "vergabenummer",
        "titel",
        "auftraggeber",
        "verfahrensart",
        "abgabefrist",
        "status",
    ]
    list_filter = ["status", "verfahrensart"]
    search_fields = ["titel", "vergabenummer", "auftraggeber__name"]
    date_hierarchy = "abgabefrist"
    readonly_fields = ["erstellt_am", "erstellt_von"]

    def save_model(self, request: HttpRequest, obj: Ausschreibung, form: Any, change: bool) -> None:
        if not change:
            obj.erstellt_von = request.user
        super().save_model(request, obj, form, change)


@admin.register(Auftraggeber)
class AuftraggeberAdmin(admin.ModelAdmin):
    """Auftraggeber mit Ort."""

    list_display = ["name", "ort", "email"]
    search_fields = ["name", "ort"]


@admin.register(Verfahrensart)
class VerfahrensartAdmin(admin.ModelAdmin):
    """Verfahrensarten (Stammdaten aus manage.py seed)."""

    list_display = ["name", "kuerzel", "reihenfolge"]
    ordering = ["reihenfolge"]
