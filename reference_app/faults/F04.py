"""F04: the dashboard references a static file collectstatic never saw: the dashboard answers 500.

With the manifest storage of WhiteNoise (strict by default) `{% static %}` raises
"ValueError: Missing staticfiles manifest entry for 'img/symbol-2026.svg'"; Django logs it on
the django.request logger with the traceback and serves the German 500 page. Only the
dashboard uses the image: login, the list and the health endpoints keep working.
"""

from __future__ import annotations

from pathlib import Path

from ._patch import replace_once

FAULT_ID = "F04"
MISSING_ASSET = "img/symbol-2026.svg"


def apply(app_dir: Path) -> None:
    """Points the dashboard's symbol image at a file that is not in static/."""
    template = app_dir / "ausschreibungen" / "templates" / "ausschreibungen" / "dashboard.html"
    replace_once(
        FAULT_ID, template, "{% static 'img/symbol.svg' %}", f"{{% static '{MISSING_ASSET}' %}}"
    )
