"""The container image built from the Dockerfile template, with podman on the host.

Aspects: the image builds from a fresh copy of the fixture; it runs its own CMD as uid 10001
with a HEALTHCHECK and no secret in its environment; /healthz answers; the Vite manifest and the
hashed assets are in it and served; its size stays reasonable. F05 and F13 built the same way
lose the manifest (no stylesheet on the page) and the non-root user.

Skipped unless RUN_IMAGE_TESTS=1 (run-tests.sh --image) and the base images exist.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import copy_app
from reference_app import faults

PODMAN = os.environ.get("PODMAN", str(Path(__file__).resolve().parents[2] / ".sandbox/bin/podman"))
BASES = ("docker.io/library/node:20-slim", "docker.io/library/python:3.13-slim")
MAX_SIZE_MB = 400

pytestmark = pytest.mark.skipif(
    os.environ.get("RUN_IMAGE_TESTS") != "1", reason="image tests need RUN_IMAGE_TESTS=1"
)


def podman(*args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PODMAN, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str | None], str]:
    for base in BASES:
        if podman("image", "exists", base).returncode != 0:
            pytest.skip(f"base image {base} is not there yet")
    built: dict[str | None, str] = {}

    def make(fault_id: str | None) -> str:
        if fault_id not in built:
            app = copy_app(tmp_path_factory.mktemp(fault_id or "normal") / "vergabe-teilnahme")
            if fault_id:
                faults.apply(fault_id, app)
            tag = f"localhost/vergabe-teilnahme-test:{(fault_id or 'normal').lower()}"
            done = podman("build", "--format", "docker", "-t", tag, str(app), timeout=1200)
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
            built[fault_id] = tag
        return built[fault_id]

    return make


@pytest.fixture
def start(request: pytest.FixtureRequest) -> Iterator[Callable[[str], str]]:
    names: list[str] = []

    def run(image: str) -> str:
        name = f"vt-test-{uuid.uuid4().hex[:8]}"
        names.append(name)
        env = {
            "DJANGO_SECRET_KEY": "image-test-" + uuid.uuid4().hex * 2,
            "DATABASE_URL": "sqlite:////tmp/test.sqlite3",
            "ALLOWED_HOSTS": "vergabe-teilnahme.whywhynot.de",
            "CSRF_TRUSTED_ORIGINS": "https://vergabe-teilnahme.whywhynot.de",
        }
        flags = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
        done = podman("run", "-d", "--name", name, *flags, image)
        assert done.returncode == 0, done.stderr
        return name

    yield run
    for name in names:
        podman("rm", "-f", "-t", "2", name)


def fetch(container: str, path: str) -> tuple[int, str]:
    """GET `path` from inside the container, as the ingress would (Host, X-Forwarded-Proto)."""
    script = (
        "import sys, urllib.request as u\n"
        "r = u.Request('http://127.0.0.1:8000' + sys.argv[1], headers={"
        "'Host': 'vergabe-teilnahme.whywhynot.de', 'X-Forwarded-Proto': 'https'})\n"
        "try:\n    x = u.urlopen(r, timeout=5); print(x.status); print(x.read().decode())\n"
        "except u.HTTPError as e:\n    print(e.code); print(e.read().decode())\n"
    )
    for _ in range(30):
        done = podman("exec", container, "python", "-c", script, path)
        if done.returncode == 0 and done.stdout:
            status, _, body = done.stdout.partition("\n")
            return int(status), body.rstrip("\n")
        time.sleep(1)
    raise AssertionError(f"no answer from {container} for {path}: {done.stderr[-500:]}")


def inspect(image: str) -> dict:
    return json.loads(podman("image", "inspect", image).stdout)[0]


def test_normal_image(build: Callable[[str | None], str], start: Callable[[str], str]) -> None:
    image = build(None)
    details = inspect(image)
    config = details["Config"]
    size_mb = details["Size"] / 1e6
    print(f"image {image}: {size_mb:.0f} MB")
    assert config["User"] == "10001:10001"
    assert config["WorkingDir"] == "/app"
    assert "8000/tcp" in config["ExposedPorts"]
    assert "/healthz" in " ".join(details["Healthcheck"]["Test"])
    assert not [e for e in config["Env"] if e.startswith(("DJANGO_SECRET_KEY", "DATABASE_URL"))]
    assert size_mb < MAX_SIZE_MB

    container = start(image)
    assert fetch(container, "/healthz") == (200, '{"status": "ok", "https": true}')
    status, html = fetch(container, "/accounts/login/")
    assert status == 200
    css = re.search(r'href="(/static/dist/assets/main-[^"]+\.css)"', html)
    assert css, html[:2000]
    assert fetch(container, css.group(1))[0] == 200
    user = podman("exec", container, "id", "-u").stdout.strip()
    assert user == "10001"
    top = podman("top", container, "user").stdout.split()
    assert "root" not in top[1:], top


def test_f05_image_has_no_manifest(
    build: Callable[[str | None], str], start: Callable[[str], str]
) -> None:
    container = start(build("F05"))
    status, html = fetch(container, "/accounts/login/")
    assert status == 200
    assert '<link rel="stylesheet"' not in html
    assert "vite: Einstieg frontend/main.js nicht eingebunden: Manifest fehlt" in html
    logs = podman("logs", container)
    assert "manifest.json fehlt" in logs.stdout + logs.stderr


def test_f13_image_runs_as_root(
    build: Callable[[str | None], str], start: Callable[[str], str]
) -> None:
    image = build("F13")
    assert inspect(image)["Config"].get("User", "") == ""
    container = start(image)
    assert fetch(container, "/healthz")[0] == 200
    assert podman("exec", container, "id", "-u").stdout.strip() == "0"
