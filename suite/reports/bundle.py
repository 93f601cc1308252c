"""Writes every report of a run from its record: JUnit, Cucumber JSON, gate, living docs.

Each report is written to a temporary name and renamed into place, so a reader never sees
half a file.  A report that cannot be rendered does not stop the others: the rest are
written, then one error names every report that failed.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from suite.errors import SuiteError
from suite.reports import cucumber, junit, leaks, living_docs, markdown
from suite.reports import record as rec
from suite.reports.gate import build_gate

log = logging.getLogger("suite.reports")

GATE_SCHEMA_FILE = Path(__file__).with_name("gate.schema.json")
#: The files this module writes, in the order it writes them.
NAMES = ("junit.xml", "cucumber.json", "gate.json", "gate.md", "living-docs.html")


class ReportFailed(SuiteError):
    """One or more reports could not be written; ``written`` lists those that were."""

    def __init__(self, message: str, written: list[Path]) -> None:
        super().__init__(message)
        self.written = written


@lru_cache(maxsize=1)
def gate_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(GATE_SCHEMA_FILE.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def write_all(record: Mapping[str, Any], reports_dir: Path,
              secrets: Iterable[str] = ()) -> list[Path]:
    """Render every report into ``reports_dir``; returns the files written.

    Secret values (and their base64 forms) are masked in the record before anything is
    rendered, as a second line behind the plugin's own redaction.
    """
    rec.require_record(record)
    for problem in rec.check_record(record)[:20]:
        log.warning("run record departs from run.schema.json at %s; the reports fill in "
                    "defaults", problem)
    forms = leaks.redactor(secrets)
    safe: Mapping[str, Any] = leaks.redact(dict(record), forms)  # type: ignore[assignment]
    reports_dir = Path(reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)

    gate = build_gate(safe)
    for error in gate_validator().iter_errors(gate):
        log.warning("gate.json departs from gate.schema.json: %s", error.message)
    renderers: dict[str, Callable[[], bytes]] = {
        "junit.xml": lambda: junit.render(safe),
        "cucumber.json": lambda: _json(cucumber.render(safe)),
        "gate.json": lambda: _json(gate),
        "gate.md": lambda: markdown.render(gate).encode("utf-8"),
        "living-docs.html": lambda: living_docs.render(safe, reports_dir).encode("utf-8"),
    }

    written, failed = [], []
    for name in NAMES:
        try:
            path = _write(reports_dir / name, renderers[name]())
        except Exception as error:  # noqa: BLE001 - one broken report must not cost the others
            log.error("report %s could not be written: %s", name, error, exc_info=True)
            failed.append(f"{name} ({type(error).__name__}: {leaks.redact(str(error), forms)})")
            continue
        log.info("report written: %s", path)
        written.append(path)
    if failed:
        raise ReportFailed(
            f"expected {len(NAMES)} reports in {reports_dir}, wrote {len(written)}; failed: "
            f"{'; '.join(failed)}. Next: fix the record or the renderer, then regenerate with "
            f"`python -m suite.reports {reports_dir / 'run.json'}`", written)
    return written


def _json(value: object) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _write(path: Path, content: bytes) -> Path:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
