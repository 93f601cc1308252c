"""Fault patches: each breaks exactly what the catalogue names and leaves the rest working.

Aspects: the unfaulted copy passes every probe (control); F01 origin check, F02 redirect loop,
F03 DEBUG on, F04 missing static file, F05 manifest left out, F06 missing CSRF header, F13 no
USER, F14 duplicate seed rows; one-line docstrings; anchors that moved raise instead of doing
nothing; the registry and its command line.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import HOST, REFERENCE_APP, Probe
from reference_app import faults

HEALTHY = {"status": "ok", "https": True}


def test_control_without_fault(app_copy: Path, probe: Callable[..., Probe]) -> None:
    r = probe(app_copy).result
    assert r["debug"] is False
    assert r["gunicorn_scheme"] == "https"
    assert r["healthz"] == [200, HEALTHY]
    assert r["redirects_dashboard"] == ["/accounts/login/?next=/"]
    assert r["login"] == [302, "/"]
    assert r["dashboard"] == 200
    assert r["stylesheet"] is True
    assert r["create_hx"] == [200, "ausschreibungAngelegt", True]
    assert r["not_found"] == [404, False]
    assert r["seeds"] == [[5, 1], [5, 1]]


def test_f01_origin_check_fails(app_copy: Path, probe: Callable[..., Probe]) -> None:
    faults.apply("F01", app_copy)
    p = probe(app_copy)
    assert p.result["login"] == [403, None]
    assert p.result["create_hx"][0] == 403
    assert p.result["dashboard"] == 200
    assert p.result["healthz"] == [200, {"status": "ok", "https": False}]
    assert f"Origin checking failed - https://{HOST} does not match any trusted origins" in p.log


def test_f01_bare_host_is_refused_by_django_checks(app_copy: Path) -> None:
    faults.module("F01").apply(app_copy, scheme="")
    text = (app_copy / "vergabe_teilnahme/settings/prod.py").read_text(encoding="utf-8")
    assert "[''" in text


def test_f02_redirect_loop(app_copy: Path, probe: Callable[..., Probe]) -> None:
    faults.apply("F02", app_copy)
    r = probe(app_copy).result
    assert r["redirects_dashboard"] == [f"https://{HOST}/"] * 5
    assert r["login_page"] == 301
    assert r["healthz"] == [200, {"status": "ok", "https": False}]


def test_f03_debug_on(app_copy: Path, probe: Callable[..., Probe]) -> None:
    faults.apply("F03", app_copy)
    p = probe(app_copy)
    assert p.result["debug"] is True
    assert p.result["not_found"] == [404, True]
    assert "WARNUNG: DEBUG ist in den Produktionseinstellungen eingeschaltet" in p.log
    assert p.result["login"] == [302, "/"]


def test_f04_missing_static_file(app_copy: Path, probe: Callable[..., Probe]) -> None:
    faults.apply("F04", app_copy)
    p = probe(app_copy)
    assert p.result["dashboard"] == 500
    assert "Missing staticfiles manifest entry for 'img/symbol-2026.svg'" in p.log
    assert p.result["login"] == [302, "/"]
    assert p.result["healthz"] == [200, HEALTHY]


def test_f05_manifest_not_copied(app_copy: Path, probe: Callable[..., Probe]) -> None:
    faults.apply("F05", app_copy)
    dockerfile = (app_copy / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY --from=assets /build/static/dist/assets/ static/dist/assets/" in dockerfile
    assert "COPY --from=assets /build/static/dist/ static/dist/" not in dockerfile
    # What the image then holds: the assets without .vite/manifest.json.
    shutil.rmtree(app_copy / "static" / "dist" / ".vite")
    p = probe(app_copy)
    assert p.result["stylesheet"] is False
    assert p.result["dashboard"] == 200
    assert "manifest.json fehlt" in p.log


def test_f06_htmx_without_csrf_header(app_copy: Path, probe: Callable[..., Probe]) -> None:
    faults.apply("F06", app_copy)
    p = probe(app_copy)
    assert p.result["create_hx"] == [403, None, False]
    assert "Forbidden (CSRF token missing.): /ausschreibungen/neu/" in p.log
    assert p.result["login"] == [302, "/"]


def test_f13_no_user(app_copy: Path) -> None:
    before = (app_copy / "Dockerfile").read_text(encoding="utf-8")
    assert "\nUSER 10001:10001\n" in before
    faults.apply("F13", app_copy)
    after = (app_copy / "Dockerfile").read_text(encoding="utf-8")
    assert "\nUSER " not in after


def test_f14_seed_duplicates(app_copy: Path, probe: Callable[..., Probe]) -> None:
    faults.apply("F14", app_copy)
    assert probe(app_copy).result["seeds"] == [[5, 1], [5, 2]]


def test_dockerfile_is_scaffolded_when_missing(tmp_path: Path, app_copy: Path) -> None:
    (app_copy / "Dockerfile").unlink()
    (app_copy / ".dockerignore").unlink()
    faults.apply("F13", app_copy)
    assert (app_copy / ".dockerignore").exists()
    assert "USER" not in (app_copy / "Dockerfile").read_text(encoding="utf-8").split("HEALTH")[0]


@pytest.mark.parametrize("fault_id", ["F03", "F04", "F05", "F06", "F13", "F14"])
def test_second_application_raises(app_copy: Path, fault_id: str) -> None:
    faults.apply(fault_id, app_copy)
    with pytest.raises(faults.FaultNotApplicable, match=fault_id):
        faults.apply(fault_id, app_copy)


def test_f01_and_f02_together(app_copy: Path) -> None:
    faults.apply("F01", app_copy)
    faults.apply("F02", app_copy)
    assert 'FORWARDED_ALLOW_IPS=""' in (app_copy / "Dockerfile").read_text(encoding="utf-8")


@pytest.mark.parametrize("fault_id", faults.FAULTS)
def test_one_line_docstring(fault_id: str) -> None:
    first = faults.describe(fault_id)
    assert first.startswith(f"{fault_id}: ")
    assert len(first) + 3 <= 100


def test_unknown_fault() -> None:
    with pytest.raises(KeyError, match="F01, F02"):
        faults.module("F99")


def test_normal_app_carries_no_fault() -> None:
    for path in (REFERENCE_APP / "vergabe-teilnahme").rglob("*"):
        if path.is_file() and "node_modules" not in path.parts and path.suffix in {".py", ".html"}:
            assert "symbol-2026" not in path.read_text(encoding="utf-8"), path


def test_command_line(app_copy: Path) -> None:
    listing = subprocess.run(
        [sys.executable, "-m", "reference_app.faults"],
        cwd=REFERENCE_APP.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    assert len(listing.stdout.splitlines()) == len(faults.FAULTS)
    done = subprocess.run(
        [sys.executable, "-m", "reference_app.faults", "F13", str(app_copy)],
        cwd=REFERENCE_APP.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "F13" in done.stdout
