"""A 404 from the ingress controller itself is told apart from the app's own 404.

Aspects:
- Traefik's answer when no router matches (text/plain "404 page not found") is the
  ingress's, which a rollout causes for a moment, so the HTTPS check waits it out;
- the app's 404 page (HTML), or any other status, is not.
"""

from __future__ import annotations

import requests

from steps.tls import ingress_has_no_route


def answer(status: int, body: str, content_type: str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body.encode()
    response.headers["Content-Type"] = content_type
    return response


def test_traefiks_own_404_is_the_ingress() -> None:
    assert ingress_has_no_route(answer(404, "404 page not found\n", "text/plain; charset=utf-8"))


def test_the_apps_404_page_and_other_answers_are_not() -> None:
    assert not ingress_has_no_route(answer(404, "<h1>Nicht gefunden</h1>", "text/html"))
    assert not ingress_has_no_route(answer(200, "404 page not found", "text/plain"))
