"""App-Konfiguration der Ausschreibungen."""

from django.apps import AppConfig

LEERE_AUSWAHL = "– Bitte auswählen –"


class AusschreibungenConfig(AppConfig):
    """Ausschreibungen, Auftraggeber und Verfahrensarten."""

    name = "ausschreibungen"
    verbose_name = "Ausschreibungen"

    def ready(self) -> None:
        # NOTE: Django 6.1 labels empty choices "- Select an option -", and its German
        # catalogue has no translation yet; Django documents overwriting the label in ready().
        # Remove once django/conf/locale/de translates BLANK_CHOICE_LABEL.
        from django.db.models import fields

        fields.BLANK_CHOICE_LABEL = LEERE_AUSWAHL
