"""Secret values never reach output: every loaded secret is registered here and masked.

A secret is registered the moment it is loaded (from a SOPS file, a key file, an env
variable, a Kubernetes Secret).  :func:`redact` replaces each value, and its base64
forms, with `***`; every log record (see :func:`install_logging_filter`) and every
report pass text through it.
"""

from __future__ import annotations

import base64
import logging
import threading
from typing import Any

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


def _scrub(record: logging.LogRecord) -> None:
    """Mask secrets in RECORD's message and in the text of its exception, in place."""
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a broken log call must not break the run
        # logging would print the raw arguments to stderr: mask them as one text instead
        message = f"{record.msg} (arguments that did not fit: {record.args!r})"
    record.msg, record.args = redact(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(_FORMATTER.formatException(record.exc_info))


_FORMATTER = logging.Formatter()
_installed = False


def install_logging_filter() -> None:
    """Mask secrets in every log record, whichever logger made it and handler takes it.

    A filter on the root logger sees only records logged to the root itself, and handlers
    added later (pytest's capture, --log-file) would miss a handler filter, so the records
    are scrubbed where they are made, once: in the record factory.
    """
    global _installed
    if _installed:
        return
    make = logging.getLogRecordFactory()

    def scrubbed(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        _scrub(record)
        return record

    logging.setLogRecordFactory(scrubbed)
    _installed = True
