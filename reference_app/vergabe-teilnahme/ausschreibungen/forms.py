"""Formulare: Anlegen einer Ausschreibung und Filter der Liste."""

from __future__ import annotations

from django import forms

from .models import Ausschreibung

FELD = (
    "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm "
    "shadow-sm focus:border-vergabe-500 focus:outline-none focus:ring-2 focus:ring-vergabe-200"
)


class AusschreibungForm(forms.ModelForm):
    """Neue Ausschreibung; erstellt_von setzt die View aus der Anmeldung."""

    class Meta:
        model = Ausschreibung
        fields = [
            "titel",
            "vergabenummer",
            "auftraggeber",
            "verfahrensart",
            "abgabefrist",
            "status",
        ]
        widgets = {
            "titel": forms.TextInput(
                attrs={"class": FELD, "placeholder": "z. B. Reinigung Rathaus"}
            ),
            "vergabenummer": forms.TextInput(attrs={"class": FELD, "placeholder": "VG-2026-001"}),
            "auftraggeber": forms.Select(attrs={"class": FELD}),
            "verfahrensart": forms.Select(attrs={"class": FELD}),
            "abgabefrist": forms.DateTimeInput(
                attrs={"class": FELD, "type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "status": forms.Select(attrs={"class": FELD}),
        }


class FilterForm(forms.Form):
    """Suchbegriff und Status für die Liste der Ausschreibungen."""

    q = forms.CharField(
        label="Suche",
        required=False,
        widget=forms.SearchInput(
            attrs={"class": FELD, "placeholder": "Titel, Vergabenummer oder Auftraggeber"}
        ),
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Alle Status"), *Ausschreibung.Status.choices],
        widget=forms.Select(attrs={"class": FELD}),
    )
