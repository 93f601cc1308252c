"""Fixtures: a fresh copy of the vergabe-teilnahme fixture with the scaffolded Dockerfile and a
stand-in for the Vite build output, and a runner for tests/probe.py against such a copy."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REFERENCE_APP = Path(__file__).resolve().parents[1]
FIXTURE = REFERENCE_APP / "vergabe-teilnahme"
TEMPLATES = REFERENCE_APP.parent / "provisioning" / "templates" / "app"
PROBE = Path(__file__).with_name("probe.py")
HOST = "vergabe-teilnahme.whywhynot.de"
NOT_SOURCES = shutil.ignore_patterns(
    "node_modules", ".venv", "dist", "staticfiles", "__pycache__", "*.pyc", "*.sqlite3"
)
MANIFEST = {
    "frontend/main.js": {
        "file": "assets/main-PROBE1.js",
        "src": "frontend/main.js",
        "isEntry": True,
        "css": ["assets/main-PROBE2.css"],
    }
}


@dataclass
class Probe:
    """What tests/probe.py observed, and the app's log while it ran."""

    result: dict[str, Any]
    log: str


def copy_app(target: Path) -> Path:
    """The fixture as the sandbox lays it into a repository, plus Dockerfile and build output."""
    shutil.copytree(FIXTURE, target, ignore=NOT_SOURCES)
    shutil.copyfile(TEMPLATES / "Dockerfile", target / "Dockerfile")
    shutil.copyfile(TEMPLATES / "dockerignore", target / ".dockerignore")
    dist = target / "static" / "dist"
    (dist / ".vite").mkdir(parents=True)
    (dist / "assets").mkdir()
    (dist / ".vite" / "manifest.json").write_text(json.dumps(MANIFEST), encoding="utf-8")
    (dist / "assets" / "main-PROBE1.js").write_text("console.log('probe');\n", encoding="utf-8")
    (dist / "assets" / "main-PROBE2.css").write_text("h1{color:#0b4f6c}\n", encoding="utf-8")
    return target


@pytest.fixture
def app_copy(tmp_path: Path) -> Path:
    return copy_app(tmp_path / "vergabe-teilnahme")


@pytest.fixture
def probe(tmp_path: Path) -> Callable[..., Probe]:
    def run(app_dir: Path, **env_changes: str) -> Probe:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "DATABASE"))}
        env.update(
            DJANGO_SECRET_KEY="probe-" + "k" * 60,
            DATABASE_URL=f"sqlite:///{tmp_path / 'probe.sqlite3'}",
            ALLOWED_HOSTS=HOST,
            CSRF_TRUSTED_ORIGINS=f"https://{HOST}",
            PYTHONDONTWRITEBYTECODE="1",
        )
        env.update(env_changes)
        out = tmp_path / "probe.json"
        done = subprocess.run(
            [sys.executable, str(PROBE), str(out)],
            cwd=app_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        log = done.stdout + done.stderr
        assert done.returncode == 0, log
        return Probe(json.loads(out.read_text(encoding="utf-8")), log)

    return run
