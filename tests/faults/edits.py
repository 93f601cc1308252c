"""Edits of what the sandbox set up, for the fault tests, and the list that undoes them.

Its git repositories (commit on the current branch, reset to a commit), the SOPS values
(decrypted in memory, encrypted for the repository's recipients), Kubernetes objects as
the sandbox's admin, and copies of the sandbox's target file.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox import layout
from tests.conftest import ROOT

APPS_REPO = layout.REPOS / "railiance-apps"
APP_REPO = layout.REPOS / "vergabe-teilnahme"
VALUES = "helm/vergabe-teilnahme-values.sops.yaml"
AGE_KEY = layout.SECRETS / "age.key"
ADMIN_KUBECONFIG = layout.STATE / "kubeconfig" / "admin.yaml"
SOPS = ROOT / ".venv" / "bin" / "sops"
HELM = layout.BIN / "helm"
NAMESPACE = "vergabe-teilnahme"
RELEASE = "vergabe-teilnahme"
HOST = layout.APP_HOST


# -- commands ---------------------------------------------------------------------------
def sh(*argv: str | Path, input: str | None = None, env: dict[str, str] | None = None,
       cwd: Path | None = None, timeout: float = 180, check: bool = True) -> str:
    """Run a command; on failure say which one, with its last lines (never its input)."""
    full = dict(os.environ)
    full.update(env or {})
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, input=input,
                          env=full, cwd=cwd, timeout=timeout, check=False)
    if check and done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-8:])
        raise AssertionError(f"expected `{' '.join(str(a) for a in argv[:4])} …` to exit 0; "
                             f"found exit {done.returncode}:\n{tail}")
    return done.stdout


def git(repo: Path, *args: str, check: bool = True) -> str:
    return sh("git", "-c", "user.name=fault-test", "-c", "user.email=fault-test@localhost",
              "-C", repo, *args, check=check).strip()


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD")


def require_clean(repo: Path) -> None:
    dirty = git(repo, "status", "--porcelain", "--untracked-files=no")
    if dirty:
        pytest.fail(f"expected {repo.name} without uncommitted changes before a fault is "
                    f"injected; found:\n{dirty}\nNext: commit or discard them (they are not "
                    "the fault test's).")


def commit(repo: Path, message: str, *paths: str) -> str:
    git(repo, "add", "--", *paths)
    git(repo, "commit", "-q", "-m", message)
    return head(repo)


def reset(repo: Path, sha: str) -> None:
    """Put REPO's current branch back at SHA (what a fault test committed goes away)."""
    if head(repo) != sha or git(repo, "status", "--porcelain"):
        git(repo, "reset", "-q", "--hard", sha)
        git(repo, "clean", "-qfd")


# -- SOPS values ------------------------------------------------------------------------
def sops_env() -> dict[str, str]:
    return {"SOPS_AGE_KEY_FILE": str(AGE_KEY)}


def read_values() -> dict[str, Any]:
    """The decrypted values (kept in memory only)."""
    text = sh(SOPS, "-d", "--output-type", "json", APPS_REPO / VALUES, env=sops_env())
    data: dict[str, Any] = json.loads(text)
    return data


def write_values(data: dict[str, Any], message: str) -> str:
    """Encrypt DATA for the repository's recipients, commit it; returns the new HEAD."""
    path = APPS_REPO / VALUES
    encrypted = sh(SOPS, "--encrypt", "--input-type", "yaml", "--output-type", "yaml",
                   "--filename-override", path, "/dev/stdin", input=yaml.safe_dump(data),
                   env=sops_env(), cwd=APPS_REPO)
    path.write_text(encrypted)
    return commit(APPS_REPO, message, VALUES)


# -- target files -----------------------------------------------------------------------
def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))


def target_copy(folder: Path, **changes: dict[str, Any]) -> Path:
    """targets/sandbox.toml with CHANGES ({section: {key: value}}) applied, written to FOLDER."""
    data = tomllib.loads((ROOT / "targets" / "sandbox.toml").read_text())
    for section, keys in changes.items():
        data.setdefault(section, {}).update(keys)
    lines = ["# a copy of targets/sandbox.toml made by a fault test"]
    for section, keys in data.items():
        lines.append(f"\n[{section}]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in keys.items()]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "fault-target.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


# -- Kubernetes as the sandbox's admin --------------------------------------------------
def kubectl(*args: str, input: str | None = None, check: bool = True) -> str:
    return sh(layout.ROOT / ".venv" / "bin" / "kubectl", "--kubeconfig", ADMIN_KUBECONFIG,
              *args, input=input, check=check, timeout=120)


def get_json(*args: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(kubectl("get", *args, "-o", "json"))
    return data


def wait_for(what: str, probe: Callable[[], bool], *, deadline: float = 120,
             interval: float = 1.0) -> None:
    began = time.monotonic()
    while not probe():
        if time.monotonic() - began > deadline:
            raise AssertionError(f"expected {what} within {deadline:.0f}s; it did not happen. "
                                 "Next: look at .sandbox/logs/operators.log.")
        time.sleep(interval)


# -- restoring ---------------------------------------------------------------------------
class Restore:
    """Undo steps registered before a fault is injected; run once, last registered first."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, Callable[[], None]]] = []

    def add(self, what: str, step: Callable[[], None]) -> None:
        self.steps.append((what, step))

    def __call__(self) -> None:
        errors = []
        while self.steps:
            what, step = self.steps.pop()
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - every step gets its chance
                errors.append(f"{what}: {exc}")
        if errors:
            raise AssertionError("restoring the sandbox failed: " + "; ".join(errors))
