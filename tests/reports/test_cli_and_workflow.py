"""`python -m suite.reports` on a kept run.json, and the Gitea Actions smoke workflow.

Aspects:
- the CLI regenerates all five reports from run.json, beside it or into --out
- --gate makes a failed gate exit 1; a passing gate exits 0
- a record that is missing, not JSON or of another schema exits 2 with a message that
  says what was expected, what was found and what to do
- secrets given through --secrets-file are masked in what is written and never printed
- write_all returns exactly the files it wrote
- the workflow runs on a schedule and by hand, runs `pytest -m smoke --target production`
  without --provision, takes secrets only from the secrets context into env vars/files,
  and uploads reports/ always, also when the suite failed
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from suite.reports import NAMES, write_all

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".gitea" / "workflows" / "smoke.yaml"
Record = dict[str, Any]


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "suite.reports", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


def keep(record: Record, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "run.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    return path


def test_cli_regenerates_everything_beside_the_record(fresh: Record, tmp_path: Path) -> None:
    kept = keep(fresh, tmp_path / "reports")

    result = cli(kept)

    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in kept.parent.iterdir()) == sorted([*NAMES, "run.json"])
    assert "FAIL: 1 of 8 requested task(s) done" in result.stdout


def test_cli_writes_into_out(converged: Record, tmp_path: Path) -> None:
    kept = keep(converged, tmp_path / "kept")

    result = cli(kept, "--out", tmp_path / "elsewhere", "--gate")

    assert result.returncode == 0, result.stderr
    assert {p.name for p in (tmp_path / "elsewhere").iterdir()} == set(NAMES)


def test_cli_gate_exit_code(failing: Record, tmp_path: Path) -> None:
    result = cli(keep(failing, tmp_path), "--gate")

    assert result.returncode == 1
    assert "FAIL" in result.stdout


@pytest.mark.parametrize("content, expected", [
    (None, "expected a run record at"),
    ("{not json", "expected JSON in"),
    ('{"schema": "other/1"}', "to declare schema 'vergabe-acceptance/run/1', found 'other/1'"),
])
def test_cli_refuses_what_is_not_a_record(content: str | None, expected: str,
                                          tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")

    result = cli(path)

    assert result.returncode == 2
    assert expected in result.stderr and "next:" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_masks_secrets_and_never_prints_them(failing: Record, tmp_path: Path) -> None:
    secret = "cli-secret-value-42"  # noqa: S105 - a made-up value the test hunts for
    failing["scenarios"][0]["reason"] = f"token {secret} was refused"
    kept = keep(failing, tmp_path)
    (tmp_path / "secrets.txt").write_text(secret + "\n", encoding="utf-8")

    result = cli(kept, "--out", tmp_path / "out", "--secrets-file", tmp_path / "secrets.txt")

    assert result.returncode == 0, result.stderr
    assert secret not in result.stdout + result.stderr
    for name in NAMES:
        assert secret not in (tmp_path / "out" / name).read_text(encoding="utf-8")


def test_write_all_returns_the_files_it_wrote(converged: Record, tmp_path: Path) -> None:
    written = write_all(converged, tmp_path / "new" / "reports", [])

    assert [p.name for p in written] == list(NAMES)
    assert all(p.is_file() and p.stat().st_size > 0 for p in written)
    assert sorted(p.name for p in (tmp_path / "new" / "reports").iterdir()) == sorted(NAMES)


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def test_workflow_runs_on_schedule_and_by_hand(workflow: dict[Any, Any]) -> None:
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert isinstance(triggers, dict), f"expected triggers under `on:`, found {triggers!r}"

    assert triggers["schedule"][0]["cron"]
    assert "workflow_dispatch" in triggers


def test_workflow_runs_the_smoke_suite_against_production(workflow: dict[Any, Any]) -> None:
    steps = workflow["jobs"]["smoke"]["steps"]
    runs = [step.get("run", "") for step in steps]

    suite = next(run for run in runs if "pytest" in run)
    assert "-m smoke" in suite and "--target production" in suite
    assert "--provision" not in "\n".join(runs)


def test_workflow_takes_secrets_only_from_the_secrets_context(workflow: dict[Any, Any]) -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    steps = workflow["jobs"]["smoke"]["steps"]
    env = {k: v for step in steps for k, v in (step.get("env") or {}).items()}

    assert env["KUBECONFIG_CONTENT"] == "${{ secrets.RAILIANCE01_KUBECONFIG }}"
    assert env["SOPS_AGE_KEY"] == "${{ secrets.SOPS_AGE_KEY }}"
    smoke_password = "${{ secrets.VERGABE_SMOKE_PASSWORD }}"  # noqa: S105 - a reference, no value
    assert env["VERGABE_SMOKE_PASSWORD"] == smoke_password
    assert "umask 077" in text and 'rm -rf "$SECRETS_DIR"' in text
    assert "AGE-SECRET-KEY" not in text and "client-key-data" not in text


def test_workflow_uploads_reports_always(workflow: dict[Any, Any]) -> None:
    steps = workflow["jobs"]["smoke"]["steps"]
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact"))

    assert upload["if"] == "always()"
    assert upload["with"]["path"] == "reports/"
