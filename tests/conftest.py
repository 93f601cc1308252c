"""Shared helpers for the project's tests: run the suite as an operator would."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class SuiteRun:
    returncode: int
    output: str
    record: dict[str, Any]
    reports: Path

    def outcomes(self, task: str) -> list[str]:
        return [s["outcome"] for s in self.record.get("scenarios", []) if task in s["tasks"]]

    def changes(self) -> list[dict[str, Any]]:
        return [c for c in self.record.get("changes", []) if c.get("applied")]


def run_suite(reports: Path, *args: str, timeout: float = 1800) -> SuiteRun:
    """`pytest features/ ARGS` in a subprocess, with its own reports folder."""
    done = subprocess.run([sys.executable, "-m", "pytest", "features/", "-q", "-p",
                           "no:randomly", f"--reports-dir={reports}", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, check=False)
    try:
        record = json.loads((reports / "run.json").read_text())
    except (OSError, ValueError):
        record = {}
    return SuiteRun(done.returncode, done.stdout + done.stderr, record, reports)
