"""The reports of a suite run: JUnit XML, Cucumber JSON, the gate, living documentation.

Everything is derived from the one run record the plugin writes (``run.json``), so a kept
record regenerates the same reports (``python -m suite.reports reports/run.json``).

    write_all(record, reports_dir, secrets) -> list[Path]   every report, secrets masked
    secret_scan(paths, secrets) -> list[str]                 "file: found secret #N (kind)"
    gate_passed(record) -> bool                              the exit code's source
    build_gate(record) -> dict                               gate.json as a dict
"""

from __future__ import annotations

from suite.reports.bundle import NAMES, ReportFailed, write_all
from suite.reports.gate import build_gate, gate_passed
from suite.reports.leaks import secret_scan
from suite.reports.record import RecordInvalid, load_record

__all__ = ["NAMES", "RecordInvalid", "ReportFailed", "build_gate", "gate_passed", "load_record",
           "secret_scan", "write_all"]
