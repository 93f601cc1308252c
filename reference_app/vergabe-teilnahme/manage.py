#!/usr/bin/env python
"""Verwaltungsbefehle von vergabe-teilnahme (Django manage.py)."""

import os
import sys


def main() -> None:
    """Führt einen Django-Verwaltungsbefehl aus; ohne Vorgabe mit den Entwicklungseinstellungen."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vergabe_teilnahme.settings.dev")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
