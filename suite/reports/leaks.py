"""Secret scan of written reports, and the redaction applied before anything is written.

A secret leaks in clear or base64-encoded (a Kubernetes Secret's ``data``, a basic-auth
header, a dockerconfigjson).  Base64 of a value that sits inside a larger encoded blob is
shifted by the value's byte offset modulo 3, so the scan looks for all three shifts, in
the standard and the URL-safe alphabet, with the characters that depend on neighbouring
bytes cut off.  That trimmed core is in every encoding of the value, padded or not.

Findings name the file and the secret's position in the list given (1-based); never the
value, never an encoded form of it.
"""

from __future__ import annotations

import base64
import html
import json
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

log = logging.getLogger("suite.reports")

#: Shorter values are not scanned: they would match by chance.
MIN_LENGTH = 6
MASK = "***"


def base64_cores(value: bytes) -> set[bytes]:
    """Every run of base64 characters that encodes ``value`` at any byte offset."""
    cores = set()
    for shift in range(3):
        data = b"\0" * shift + value
        full_groups, rest = divmod(len(data), 3)
        keep_front = (0, 2, 3)[shift]
        keep_tail = (0, 1, 2)[rest]
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(data)
            core = encoded[keep_front: 4 * full_groups + keep_tail]
            if len(core) >= MIN_LENGTH:
                cores.add(core)
    return cores


def plain_forms(value: str) -> set[bytes]:
    """The value as text in the formats reports are written in (raw, HTML/XML, JSON)."""
    forms = {value, html.escape(value, quote=True), html.escape(value, quote=False),
             json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    return {form.encode("utf-8") for form in forms}


def _files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        path = Path(path)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        elif path.is_file():
            yield path


def secret_scan(paths: Iterable[Path], secrets: Iterable[str]) -> list[str]:
    """Findings ``"<file>: found secret #N (plain|base64)"``; an empty list is a clean scan.

    Directories are searched recursively.  Secrets shorter than six characters are
    skipped (counted in the numbering all the same, so #N matches the caller's list).
    """
    wanted = [(index, value) for index, value in enumerate(secrets, start=1)
              if value and len(value) >= MIN_LENGTH]
    patterns = [(index, plain_forms(value), base64_cores(value.encode("utf-8")))
                for index, value in wanted]
    files = list(_files(paths))
    findings = []
    for path in files:
        content = path.read_bytes()
        for index, plain, cores in patterns:
            if any(form in content for form in plain):
                findings.append(f"{path}: found secret #{index} (plain)")
            if any(core in content for core in cores):
                findings.append(f"{path}: found secret #{index} (base64)")
    log.info("secret scan: %d secret(s) over %d file(s): %d finding(s)",
             len(wanted), len(files), len(findings))
    return findings


def redactor(secrets: Iterable[str]) -> list[str]:
    """The strings to mask, longest first: each secret and its whole base64 encodings."""
    forms: set[str] = set()
    for value in secrets:
        if not value or len(value) < MIN_LENGTH:
            continue
        forms.add(value)
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(value.encode("utf-8")).decode("ascii")
            forms.update({encoded, encoded.rstrip("=")})
    return sorted(forms, key=len, reverse=True)


def redact(value: object, forms: list[str]) -> object:
    """A copy of a JSON value with every form masked in every string (keys included)."""
    if not forms:
        return value
    if isinstance(value, str):
        for form in forms:
            if form in value:
                value = value.replace(form, MASK)
        return value
    if isinstance(value, dict):
        return {redact(key, forms): redact(inner, forms) for key, inner in value.items()}
    if isinstance(value, list | tuple):
        return [redact(inner, forms) for inner in value]
    return value
