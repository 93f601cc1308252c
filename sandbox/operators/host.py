"""Host-side facts the platform layer shares: secret files, and the pod bridge's address.

Secrets (passwords, keys) live in `.sandbox/secrets/`, one per file, mode 600.  They are
generated once and read by the components that need them; nothing here prints them.
"""

from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path

from sandbox import layout

SECRETS = layout.SECRETS


def secret_path(name: str) -> Path:
    return SECRETS / name


def write_secret(name: str, value: str) -> Path:
    """Write .sandbox/secrets/NAME with mode 600 (created that way, never world-readable)."""
    SECRETS.mkdir(parents=True, exist_ok=True)
    SECRETS.chmod(0o700)
    path = secret_path(name)
    path.unlink(missing_ok=True)
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(value)
    return path


def ensure_password(name: str, length: int = 32) -> str:
    """The password stored under NAME; generated once (URL-safe characters only)."""
    path = secret_path(name)
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    value = secrets.token_urlsafe(length)[:length]
    write_secret(name, value + "\n")
    return value


def address_present(address: str) -> bool:
    """True when ADDRESS is configured on an interface of this host (it can be bound)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((address, 0))
        except OSError:
            return False
    return True


def bridge_ready() -> bool | str:
    """Probe for sandbox.proc.wait_for: the pod bridge's gateway address exists."""
    if address_present(layout.BRIDGE_IP):
        return True
    return f"{layout.BRIDGE_IP} is not configured on {layout.BRIDGE} yet"
