"""A target that cannot be reached: fast, one clear line per check, nothing else tried.

Aspects:
- `pytest -m smoke --target production` on a machine without production's kubeconfig ends
  within 30 s, exits non-zero, names the missing setting once per check, no traceback;
- a sandbox target whose apiserver does not answer says so and how to bring it up.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, env: dict[str, str]) -> tuple[int, str, float]:
    began = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", "features/", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    return done.returncode, done.stdout + done.stderr, time.monotonic() - began


def test_production_smoke_without_kubeconfig(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    rc, output, seconds = _run("-m", "smoke", "--target", "production",
                               f"--reports-dir={tmp_path}", env=env)
    assert seconds < 30, f"expected the run to end within 30 s; it took {seconds:.0f} s."
    assert rc != 0, "expected a non-zero exit against an unreachable target; found 0."
    assert "Traceback" not in output, f"expected no traceback; found:\n{output[-1500:]}"
    lines = [line for line in output.splitlines() if "KUBECONFIG is not set" in line]
    assert len(lines) >= 10, (f"expected one line per check naming KUBECONFIG; found "
                              f"{len(lines)}. Output tail:\n{output[-1500:]}")


def test_sandbox_target_with_a_dead_apiserver(tmp_path: Path) -> None:
    target = (ROOT / "targets" / "sandbox.toml").read_text()
    kubeconfig = tmp_path / "dead.yaml"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: sandbox\nclusters:\n- name: dead\n"
        "  cluster: {server: 'https://127.0.0.1:9', insecure-skip-tls-verify: true}\n"
        "contexts:\n- name: sandbox\n  context: {cluster: dead, user: nobody}\n"
        "users:\n- name: nobody\n  user: {token: x}\n")
    path = tmp_path / "dead.toml"
    path.write_text(target.replace('kubeconfig = ".sandbox/kubeconfig/suite.yaml"',
                                   f'kubeconfig = "{kubeconfig}"'))
    rc, output, seconds = _run("-m", "T01", f"--target={path}", f"--reports-dir={tmp_path}",
                               env=dict(os.environ))
    assert rc != 0 and seconds < 30, f"expected a fast failure; rc {rc} after {seconds:.0f} s."
    assert "does not answer" in output and "python -m sandbox status" in output, (
        f"expected the unreachable-cluster line with its next step; found:\n{output[-1500:]}")
