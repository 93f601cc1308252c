"""F05: the Vite manifest is left out of the image: pages render without stylesheet and script.

The Dockerfile copies only static/dist/assets/ from the asset stage, so the hashed CSS and JS
are collected and served, but the template tag cannot find the manifest that maps the entry
frontend/main.js to them. Every page then renders with the comment
"<!-- vite: Einstieg frontend/main.js nicht eingebunden: Manifest fehlt -->" instead of the
<link>/<script> tags, and the log says "vite_assets: Vite-Manifest .../manifest.json fehlt".
Without the script, HTMX and Alpine.js do not run either.
"""

from __future__ import annotations

from pathlib import Path

from ._patch import dockerfile, replace_once

FAULT_ID = "F05"


def apply(app_dir: Path) -> None:
    """Narrows the Dockerfile's copy of the build output to the assets directory."""
    replace_once(
        FAULT_ID,
        dockerfile(app_dir),
        "COPY --from=assets /build/static/dist/ static/dist/",
        "COPY --from=assets /build/static/dist/assets/ static/dist/assets/",
    )
