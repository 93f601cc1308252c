"""WSGI-Einstieg für gunicorn; ohne Vorgabe gelten die Produktionseinstellungen."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vergabe_teilnahme.settings.prod")

application = get_wsgi_application()
