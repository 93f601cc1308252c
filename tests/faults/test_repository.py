"""F15: a secret value in clear in a committed file of the deployment repository.

Aspects:
- a clear `SECRET_KEY:` in a YAML file, a DSN with its password in an env file, an API key
  in a manifest, and a value of the SOPS values pasted under an innocent key each fail the
  safety scenario;
- the message names the file and the key (or which decrypted value), never the value;
- no other safety scenario changes, and removing the commit turns the scenario green.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

import pytest

from tests.faults.edits import (
    APPS_REPO,
    VALUES,
    Restore,
    commit,
    head,
    read_values,
    require_clean,
    reset,
)
from tests.faults.harness import Bench, Probe, S


def _secret_key() -> tuple[str, str, str]:
    value = secrets.token_urlsafe(50)
    return "helm/debug-values.yaml", f"# quick test values\nSECRET_KEY: \"{value}\"\n", value


def _dsn() -> tuple[str, str, str]:
    password = secrets.token_urlsafe(24)
    text = (f"DATABASE_URL=postgres://vergabe:{password}@gitea-db-rw.databases.svc:5432/"
            "vergabe_db\n")
    return "vergabe.env", text, password


def _api_key() -> tuple[str, str, str]:
    value = secrets.token_hex(20)
    return "manifests/registry-mirror.yaml", f"mirror:\n  registryApiKey: {value}\n", value


def _pasted_value() -> tuple[str, str, str]:
    from fixtures.sops import secret_leaves

    value = next(v for v in secret_leaves(read_values()) if len(v) >= 20 and "://" not in v)
    return "notes/handover.md", f"# Handover\n\ndjango_signing: {value}\n", value


KINDS: dict[str, tuple[Callable[[], tuple[str, str, str]], list[str]]] = {
    "secret-key": (_secret_key, [r"helm/debug-values\.yaml:2 key SECRET_KEY"]),
    "dsn-password": (_dsn, [r"vergabe\.env:1", r"DSN with a password|DATABASE_URL"]),
    "api-key": (_api_key, [r"manifests/registry-mirror\.yaml:2 key registryApiKey"]),
    "pasted-value": (_pasted_value, [r"notes/handover\.md:3", r"decrypted secret"]),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_F15_clear_secret_in_the_deployment_repository(bench: Bench, restore: Restore,
                                                       kind: str) -> None:
    make, patterns = KINDS[kind]
    probe = Probe(tests=S.SAFETY_ALL, expect={S.NO_CLEAR_SECRET: [
        *patterns, r"encrypt the value with SOPS", r"rotate"]})
    baselines = bench.before([probe])
    began = time.monotonic()
    require_clean(APPS_REPO)
    original = head(APPS_REPO)
    restore.add("the deployment repository's branch", lambda: reset(APPS_REPO, original))
    relpath, text, value = make()
    bench.extra_secrets[f"F15 {kind} value"] = value

    path = APPS_REPO / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    commit(APPS_REPO, f"fault F15: {kind}", relpath)
    assert (APPS_REPO / VALUES).exists()
    bench.with_fault(f"F15/{kind}", [probe], baselines, began)

    restore()
    bench.after([probe], baselines)
