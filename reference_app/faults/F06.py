"""F06: HTMX posts go out without the X-CSRFToken header: creating an Ausschreibung gets 403.

The base template no longer sets hx-headers with the CSRF token, and the HTMX form carries no
hidden token field, so CsrfViewMiddleware rejects the hx-post with 403 and logs
"Forbidden (CSRF token missing.): /ausschreibungen/neu/"; the page shows "Die Anfrage wurde
abgelehnt (403)" in #hx-fehler. HTMX GETs (filter, list fragment) keep working, and so does the
ordinary login form, which posts its token as a form field.
"""

from __future__ import annotations

from pathlib import Path

from ._patch import replace_once

FAULT_ID = "F06"


def apply(app_dir: Path) -> None:
    """Removes the hx-headers attribute with the CSRF token from <body>."""
    replace_once(
        FAULT_ID,
        app_dir / "templates" / "base.html",
        """ hx-headers='{"X-CSRFToken": "{{ csrf_token }}"}'""",
        "",
    )
