"""Einstellungen: base (gemeinsam), dev (lokal), prod (Container im Cluster), test (pytest).

Welche gilt, bestimmt DJANGO_SETTINGS_MODULE; manage.py nimmt ohne Vorgabe dev.
"""
