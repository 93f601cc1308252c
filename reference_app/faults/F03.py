"""F03: production settings run with DEBUG=True (DJANGO_DEBUG defaults to on and is honoured).

The normal production settings refuse DJANGO_DEBUG and fail at start. This patch turns them into
those of a misconfigured app: DEBUG comes from DJANGO_DEBUG with a development default of
"True", so the image runs with DEBUG on unless the values switch it off. The app keeps serving
(whitenoise serves static files in DEBUG too) and prints a loud warning to stderr at start;
from outside, DEBUG shows as Django's technical 404 page ("Page not found (404)", "Using the
URLconf defined in vergabe_teilnahme.urls") for any unknown path.

Helm-only equivalent: none with the normal app, which refuses DJANGO_DEBUG; with this patch
applied, DJANGO_DEBUG=True (or nothing) keeps DEBUG on.
"""

from __future__ import annotations

from pathlib import Path

from ._patch import prod_settings, replace_once

FAULT_ID = "F03"

GUARD = """DEBUG = False
if env.flag("DJANGO_DEBUG", default=False):
    raise ImproperlyConfigured(
        "DJANGO_DEBUG ist eingeschaltet, die Produktionseinstellungen lassen DEBUG nicht zu. "
        "Entfernen Sie DJANGO_DEBUG aus den Helm-Werten."
    )
"""

HONOURED = """DEBUG = env.flag("DJANGO_DEBUG", default=True)
if DEBUG:
    import sys

    print(
        "WARNUNG: DEBUG ist in den Produktionseinstellungen eingeschaltet (DJANGO_DEBUG). "
        "Fehlerseiten zeigen Einstellungen und Quelltext!",
        file=sys.stderr,
        flush=True,
    )
"""


def apply(app_dir: Path) -> None:
    """Replaces the DEBUG guard of prod.py with a DJANGO_DEBUG switch that defaults to on."""
    replace_once(FAULT_ID, prod_settings(app_dir), GUARD, HONOURED)
