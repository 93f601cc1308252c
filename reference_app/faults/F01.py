"""F01: CSRF_TRUSTED_ORIGINS holds the app host without https://: login and hx-post create get 403.

Django compares the browser's Origin first with the request's own scheme and host; only when
they differ does it consult CSRF_TRUSTED_ORIGINS. Behind a correctly trusted ingress they never
differ, and a wrong list is harmless. The deployments that meet this fault are the ones that
"fixed" CSRF errors with the list instead of trusting X-Forwarded-Proto: this patch builds that
deployment. The app no longer learns the scheme from the ingress (neither Django nor gunicorn
trusts X-Forwarded-Proto, and it does not redirect to https itself), and every trusted origin is
rewritten to the app host with `http://` (an app that "speaks http behind TLS"). A browser at
https://HOST then sends Origin https://HOST, the app sees http://HOST, the list holds
http://HOST: Django answers 403 and logs "Forbidden (Origin checking failed - https://HOST does
not match any trusted origins.)" on the django.security.csrf logger.

With `scheme=""` the origins lose their scheme entirely (the literal catalogue wording); Django
then also refuses `manage.py migrate` and `check` with system check 4_0.E001.

Helm-only equivalent: CSRF_TRUSTED_ORIGINS=http://HOST, DJANGO_SECURE_PROXY_SSL_HEADER=false,
DJANGO_SECURE_SSL_REDIRECT=false, FORWARDED_ALLOW_IPS="" (empty).
"""

from __future__ import annotations

from pathlib import Path

from ._patch import append, gunicorn_trusts_no_proxy, prod_settings

FAULT_ID = "F01"


def apply(app_dir: Path, scheme: str = "http://") -> None:
    """Rewrites the trusted origins to `scheme` + host and stops trusting the ingress."""
    append(
        FAULT_ID,
        prod_settings(app_dir),
        f"""
# TLS ends at the ingress, so this app speaks http; its origins are listed that way.
CSRF_TRUSTED_ORIGINS = [{scheme!r} + o.split("://", 1)[-1] for o in CSRF_TRUSTED_ORIGINS]
SECURE_PROXY_SSL_HEADER = None
SECURE_SSL_REDIRECT = False
""",
    )
    gunicorn_trusts_no_proxy(FAULT_ID, app_dir)
