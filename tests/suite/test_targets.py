"""Target files and secret redaction.

Aspects:
- both shipped targets load and validate;
- a malformed file (bad TOML, missing key, wrong type, unknown key) fails with the file,
  the key and what is expected — one paragraph, no traceback — also through pytest;
- an `env:` value that is not set names the variable when it is needed;
- registered secrets are masked in plain and base64 form.
"""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest

from suite import redact, targets
from suite.errors import TargetError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["sandbox", "production"])
def test_shipped_targets_load(name: str) -> None:
    target = targets.load(name)
    assert target.name == name, f"expected target name {name}; found {target.name}. Next: fix it."


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "broken.toml"
    path.write_text(text)
    return path


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "[target\nname = 1")
    with pytest.raises(TargetError) as info:
        targets.load(str(path))
    assert str(path) in str(info.value) and "not valid TOML" in str(info.value), (
        f"expected the file and 'not valid TOML' in the message; found {info.value}. "
        "Next: fix suite/targets.py's message.")


def test_missing_and_wrong_keys_are_listed(tmp_path: Path) -> None:
    text = (ROOT / "targets" / "sandbox.toml").read_text()
    text = text.replace('context = "sandbox"\n', "").replace("production = false",
                                                             'production = "no"')
    text = text.replace('[tls]\n', '[tls]\ncolour = "blue"\n')
    with pytest.raises(TargetError) as info:
        targets.load(str(_write(tmp_path, text)))
    message = str(info.value)
    for needle in ("[cluster] context is missing", "[target] production should be true or "
                   "false", "[tls] colour is not a known key"):
        assert needle in message, (f"expected '{needle}' in the message; found: {message}. "
                                   "Next: fix the validation in suite/targets.py.")


def test_unset_env_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAILIANCE_APPS_REPO", raising=False)
    target = targets.load("production")
    with pytest.raises(TargetError) as info:
        target.path("deploy.repo")
    assert "RAILIANCE_APPS_REPO" in str(info.value), (
        f"expected the variable's name; found {info.value}. Next: fix Target.require.")


def test_malformed_target_through_pytest_is_one_paragraph(tmp_path: Path) -> None:
    path = _write(tmp_path, "[target]\nname = 'x'\n")
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                           f"--target={path}", "features/t01_inventory.feature"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    output = done.stdout + done.stderr
    assert done.returncode != 0, "expected a non-zero exit for a malformed target; found 0."
    assert "Traceback" not in output and "is malformed" in output, (
        f"expected one clear paragraph; found:\n{output[-1500:]}\nNext: raise UsageError.")


def test_secrets_are_masked_plain_and_base64() -> None:
    value = "s3cr3t-value-for-redaction"
    redact.register(value)
    encoded = base64.b64encode(value.encode()).decode()
    text = redact.redact(f"a {value} b {encoded} c")
    assert value not in text and encoded not in text, (
        f"expected both forms masked; found {text}. Next: fix suite/redact.py.")


def test_provision_refuses_production_from_the_environment(tmp_path: Path) -> None:
    import os

    env = dict(os.environ, VERGABE_TARGET="production")
    done = subprocess.run([sys.executable, "-m", "pytest", "features/", "--provision",
                           f"--reports-dir={tmp_path}"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env=env, check=False)
    output = done.stdout + done.stderr
    assert done.returncode != 0 and "Name it on the command line" in output, (
        f"expected --provision to refuse a production target taken from the environment; "
        f"found rc {done.returncode}:\n{output[-800:]}\nNext: fix the guard in suite/plugin.py.")
    assert not (tmp_path / "run.json").exists(), "expected no run at all; a run.json exists."
