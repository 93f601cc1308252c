"""App-Konfiguration der Ausschreibungen."""

from django.apps import AppConfig


class AusschreibungenConfig(AppConfig):
    """Ausschreibungen, Auftraggeber und Verfahrensarten."""

    name = "ausschreibungen"
    verbose_name = "Ausschreibungen"
