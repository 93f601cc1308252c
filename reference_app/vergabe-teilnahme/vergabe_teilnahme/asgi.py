"""ASGI-Einstieg (derzeit ungenutzt; der Container startet gunicorn mit WSGI)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vergabe_teilnahme.settings.prod")

application = get_asgi_application()
