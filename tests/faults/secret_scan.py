"""The sandbox's secret values, and where a suite run let one out (plain or base64).

Collected from `.sandbox/secrets/` (public parts such as the age recipient left out), the
decrypted SOPS values' secret leaves, and the app role's password Secret.  A finding names
the secret's origin and the place, never the value.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

from sandbox import layout
from tests.conftest import SuiteRun
from tests.faults.edits import ADMIN_KUBECONFIG, APPS_REPO, VALUES, read_values, sh

SECRET_LINE = re.compile(r'secret\s+"([^"]+)"|token:\s*(\S+)|^(AGE-SECRET-KEY-\S+)$')


def _file_secrets(path: Path) -> list[str]:
    """The secret values in one file of .sandbox/secrets (public parts left out)."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError):
        return []
    lines = [line.strip() for line in text.splitlines()
             if line.strip() and not line.strip().startswith("#")]
    found = [next(g for g in m.groups() if g) for line in lines
             for m in [SECRET_LINE.search(line)] if m]
    if path.name.endswith("htpasswd"):
        found += [line.split(":", 1)[1] for line in lines if ":" in line]
    if not found and len(lines) == 1 and not lines[0].startswith(("{", "[")):
        found.append(lines[0])
    return [value for value in found if len(value) >= 8]


def _k8s_secret(namespace: str, name: str, key: str) -> str | None:
    out = sh(layout.ROOT / ".venv" / "bin" / "kubectl", "--kubeconfig", ADMIN_KUBECONFIG,
             "-n", namespace, "get", "secret", name, "-o", f"jsonpath={{.data.{key}}}",
             check=False, timeout=30)
    return base64.b64decode(out).decode() if out.strip() else None


def sandbox_secrets() -> dict[str, str]:
    """Every secret value of the sandbox, keyed by a label that names where it comes from."""
    from fixtures.sops import secret_leaves

    found: dict[str, str] = {}
    for path in sorted(layout.SECRETS.glob("*")):
        for index, value in enumerate(_file_secrets(path), start=1):
            found[f".sandbox/secrets/{path.name}#{index}"] = value
    if (APPS_REPO / VALUES).exists():
        for index, value in enumerate(secret_leaves(read_values()), start=1):
            if len(value) >= 8:
                found[f"{VALUES} secret leaf #{index}"] = value
    password = _k8s_secret("databases", "gitea-db-vergabe", "password")
    if password:
        found["Secret databases/gitea-db-vergabe password"] = password
    return found


def forms(value: str) -> set[str]:
    raw = value.encode()
    out = {value}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        encoded = encode(raw).decode()
        out |= {encoded, encoded.rstrip("=")}
    return {form for form in out if len(form) >= 8}


def leaks(run: SuiteRun, secrets: dict[str, str]) -> list[str]:
    """Where a secret (plain or base64) shows up: labels and places, never the value."""
    found: list[str] = []
    files = [p for p in run.reports.rglob("*") if p.is_file()] if run.reports.exists() else []
    contents = {p: p.read_bytes() for p in files}
    for label, value in secrets.items():
        variants = forms(value)
        if any(form in run.output for form in variants):
            found.append(f"{label} in the terminal output")
        for path, data in contents.items():
            if any(form.encode() in data for form in variants):
                found.append(f"{label} in {path.relative_to(run.reports)}")
    return found
