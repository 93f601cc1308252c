"""Datenmodell: Verfahrensart (Referenztabelle), Auftraggeber und Ausschreibung.

Verfahrensarten sind Stammdaten nach GWB/VgV und kommen aus `manage.py seed`. Auftraggeber
tragen keinen eindeutigen Namen: "Stadt Neustadt" gibt es in mehreren Ländern.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class Verfahrensart(models.Model):
    """Art des Vergabeverfahrens, z. B. offenes Verfahren."""

    kuerzel = models.SlugField("Kürzel", max_length=40, unique=True)
    name = models.CharField("Bezeichnung", max_length=100, unique=True)
    beschreibung = models.TextField("Beschreibung", blank=True)
    reihenfolge = models.PositiveSmallIntegerField("Reihenfolge", default=0)

    class Meta:
        ordering = ["reihenfolge", "name"]
        verbose_name = "Verfahrensart"
        verbose_name_plural = "Verfahrensarten"

    def __str__(self) -> str:
        return self.name


class Auftraggeber(models.Model):
    """Öffentlicher Auftraggeber, der eine Leistung ausschreibt."""

    name = models.CharField("Name", max_length=200)
    ort = models.CharField("Ort", max_length=100, blank=True)
    email = models.EmailField("E-Mail", blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "Auftraggeber"
        verbose_name_plural = "Auftraggeber"

    def __str__(self) -> str:
        return f"{self.name} ({self.ort})" if self.ort else self.name


class Ausschreibung(models.Model):
    """Eine Ausschreibung mit Vergabenummer, Frist und Bearbeitungsstand."""

    class Status(models.TextChoices):
        ENTWURF = "entwurf", "Entwurf"
        VEROEFFENTLICHT = "veroeffentlicht", "Veröffentlicht"
        IN_WERTUNG = "in_wertung", "In Wertung"
        ZUSCHLAG = "zuschlag", "Zuschlag erteilt"
        AUFGEHOBEN = "aufgehoben", "Aufgehoben"

    titel = models.CharField("Titel", max_length=200)
    vergabenummer = models.CharField(
        "Vergabenummer",
        max_length=50,
        unique=True,
        help_text="Aktenzeichen des Auftraggebers, z. B. VG-2026-014.",
        error_messages={"unique": "Eine Ausschreibung mit dieser Vergabenummer gibt es schon."},
    )
    auftraggeber = models.ForeignKey(
        Auftraggeber,
        on_delete=models.PROTECT,
        related_name="ausschreibungen",
        verbose_name="Auftraggeber",
    )
    verfahrensart = models.ForeignKey(
        Verfahrensart,
        on_delete=models.PROTECT,
        related_name="ausschreibungen",
        verbose_name="Verfahrensart",
    )
    abgabefrist = models.DateTimeField("Abgabefrist")
    status = models.CharField(
        "Status", max_length=20, choices=Status.choices, default=Status.ENTWURF
    )
    erstellt_am = models.DateTimeField("Erstellt am", auto_now_add=True)
    erstellt_von = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="Erstellt von",
        editable=False,
    )

    class Meta:
        ordering = ["-erstellt_am", "-id"]
        verbose_name = "Ausschreibung"
        verbose_name_plural = "Ausschreibungen"

    def __str__(self) -> str:
        return f"{self.vergabenummer} – {self.titel}"

    def get_absolute_url(self) -> str:
        return reverse("ausschreibung-detail", args=[self.pk])

    @property
    def frist_abgelaufen(self) -> bool:
        """Ob die Abgabefrist schon verstrichen ist."""
        return self.abgabefrist < timezone.now()
