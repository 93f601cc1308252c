"""Secret values never reach output: every loaded secret is registered here and masked.

A secret is registered the moment it is loaded (from a SOPS file, a key file, an env
variable, a Kubernetes Secret).  :func:`redact` replaces each value, and its base64
forms, with `***`; the logging filter and every report pass text through it.
"""

from __future__ import annotations

import base64
import logging
import threading

_LOCK = threading.Lock()
_SECRETS: set[str] = set()
MASK = "***"


def _forms(value: str) -> set[str]:
    raw = value.encode()
    forms = {value}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        encoded = encode(raw).decode()
        forms.add(encoded)
        forms.add(encoded.rstrip("="))
    return {form for form in forms if len(form) >= 6}


def register(*values: str | None) -> None:
    """Remember secret values (short or empty ones are ignored: too many false hits)."""
    with _LOCK:
        for value in values:
            if value and len(value) >= 6:
                _SECRETS.add(value)


def secrets() -> list[str]:
    with _LOCK:
        return sorted(_SECRETS)


def redact(text: str) -> str:
    if not text:
        return text
    with _LOCK:
        values = sorted({form for value in _SECRETS for form in _forms(value)},
                        key=len, reverse=True)
    for form in values:
        if form in text:
            text = text.replace(form, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Logging filter that masks every registered secret in the formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken log call must not break the run
            return True
        record.msg, record.args = redact(message), None
        return True


def install_logging_filter() -> None:
    flt = RedactingFilter()
    root = logging.getLogger()
    root.addFilter(flt)
    for handler in root.handlers:
        handler.addFilter(flt)
