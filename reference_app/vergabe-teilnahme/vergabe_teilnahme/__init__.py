"""vergabe-teilnahme: Django-Projekt für die Teilnahme an öffentlichen Vergabeverfahren."""
