"""The script that reads the app container's facts, and the lock around reading them.

Aspects:
- the script runs under a plain Python (here: the suite's own, in an empty folder) and
  prints one JSON line with every fact: uid and user, PID 1's command line, the TCP table,
  the assets check's output, and, where Django cannot start, an empty settings fact and
  the reason the migration plan could not be read;
- a reader that waits for another past the limit gets a one-line error, not a hang.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fixtures import hosts
from steps.registry import VITE_CHECK
from suite.errors import CommandFailed


def test_the_facts_script_prints_every_fact(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run([sys.executable, "-"], input=f"VITE = {VITE_CHECK!r}\n"
                          f"{hosts.FACTS_PY}", capture_output=True, text=True, cwd=tmp_path,
                          env=env, timeout=60, check=False)

    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0 and lines, (
        f"expected the script to exit 0 with a JSON line; it exited {done.returncode}: "
        f"{done.stderr[-500:]}")
    facts = json.loads(lines[-1])
    assert facts["uid"] == str(os.getuid()), f"expected this process's uid; found {facts}"
    assert set(facts) >= {"uid", "user", "cmdline", "tcp", "vite", "settings"}, facts
    assert json.loads(facts["vite"])["manifest"] == [], (
        f"expected the assets check to find no manifest in an empty folder; found "
        f"{facts['vite']}")
    assert facts["settings"] == "" and "migrations_error" in facts, (
        f"expected no settings and a reason for the missing migration plan without Django "
        f"settings; found {facts}")


def test_a_reader_waiting_too_long_gets_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hosts, "EXEC_TIMEOUT_S", -29.8)
    anything: Any = None

    with hosts._READING, pytest.raises(CommandFailed, match="took longer than 0s"):
        hosts.container_facts(anything, anything, anything)
