"""F01, F02, F03, F11: faults in the release's SOPS values and in how they are read.

Aspects:
- F01 CSRF_TRUSTED_ORIGINS without a scheme, with http, with another host and with a
  port: the values scenario names each origin's flaw, the trusted list, and that the CSRF
  origin check would refuse logins; deployed (with the app no longer trusting the
  ingress's scheme, as the deployments that meet this fault do), the browser's login and
  form post fail with the CSRF origin check;
- F02 the app not trusting X-Forwarded-Proto while SECURE_SSL_REDIRECT stays on (the Helm
  values of the catalogue's fault): the HTTPS health check shows the redirect loop with
  its chain of Location headers; with the redirect off as well, it still says the app
  takes https for http;
- F03 a DEBUG switch in the values: the values scenario says DEBUG is on in production;
- F11 the age key not where the target (or SOPS_AGE_KEY_FILE) says: every scenario that
  reads the values stops at once with the locations tried and the file's recipients, and
  provisioning changes nothing;
- each time: no other scenario of the selection changes, no secret in any output, and the
  scenarios pass again once the values (and the release) are back.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.faults.edits import (
    APPS_REPO,
    HOST,
    Restore,
    head,
    read_values,
    require_clean,
    reset,
    target_copy,
    write_values,
)
from tests.faults.harness import Bench, Probe, S, deploy

Values = dict[str, Any]


def edit_values(restore: Restore, mutate: Callable[[Values], None], message: str, *,
                redeploy: Bench | None = None) -> None:
    """Commit MUTATE(values); the removal (and a redeploy) registered first."""
    require_clean(APPS_REPO)
    original = head(APPS_REPO)
    if redeploy is not None:
        restore.add("the release deployed from the original values",
                    lambda: deploy(redeploy, "redeploy without the fault"))
    restore.add("the deployment repository's branch", lambda: reset(APPS_REPO, original))
    values = read_values()
    mutate(values)
    write_values(values, message)


def _env(**settings: str) -> Callable[[Values], None]:
    def mutate(values: Values) -> None:
        values.setdefault("env", {}).update(settings)
    return mutate


# -- F01 ---------------------------------------------------------------------------------
ORIGINS = {
    "no-scheme": (HOST, rf"'{re.escape(HOST)}' has no scheme"),
    "http": (f"http://{HOST}", r"has scheme http, but browsers reach the app over https"),
    "wrong-host": ("https://vergabe-teilnahme.whywhynot.de", r"names host "
                   r"vergabe-teilnahme\.whywhynot\.de, not " + re.escape(HOST)),
    "wrong-port": (f"https://{HOST}:8443", r"names port 8443"),
}
#: the app no longer takes the scheme from the ingress (Helm-only form of the fault)
UNTRUSTED_PROXY = {"DJANGO_SECURE_PROXY_SSL_HEADER": "false", "FORWARDED_ALLOW_IPS": ""}


def _origins_check(kind: str) -> list[str]:
    origin, flaw = ORIGINS[kind]
    return [r"CSRF_TRUSTED_ORIGINS \[", re.escape(origin), flaw,
            rf"the origin browsers send, https://{re.escape(HOST)}",
            r"CSRF origin check would refuse every login and form post \(403\)"]


@pytest.mark.parametrize("kind", list(ORIGINS))
def test_F01_csrf_trusted_origins_in_the_values(bench: Bench, restore: Restore,
                                                kind: str) -> None:
    probe = Probe(tests=(S.RELEASE_FILES, S.VALUES, S.RENDER),
                  expect={S.VALUES: _origins_check(kind)})
    baselines = bench.before([probe])
    began = time.monotonic()

    def mutate(values: Values) -> None:
        values["csrfTrustedOrigins"] = ORIGINS[kind][0]

    edit_values(restore, mutate, f"fault F01: CSRF origins {kind}")
    bench.with_fault(f"F01/{kind}", [probe], baselines, began)

    restore()
    bench.after([probe], baselines)


def test_F01_csrf_origin_check_fails_in_the_browser(bench: Bench, restore: Restore) -> None:
    csrf = [r"CSRF", r"403"]
    probes = [Probe(tests=(S.VALUES,), expect={S.VALUES: _origins_check("no-scheme")}),
              Probe(tests=(S.LOGIN, S.CREATE, S.LOGS), expect={
                  S.LOGIN: csrf, S.CREATE: csrf,
                  S.LOGS: [r"Origin checking failed", rf"https://{re.escape(HOST)}"]},
                  optional=frozenset({S.LOGS}))]
    baselines = bench.before(probes)
    began = time.monotonic()

    def mutate(values: Values) -> None:
        values["csrfTrustedOrigins"] = HOST
        _env(**UNTRUSTED_PROXY, DJANGO_SECURE_SSL_REDIRECT="false")(values)

    edit_values(restore, mutate, "fault F01: CSRF origin without scheme", redeploy=bench)
    deploy(bench, "deploy F01")
    bench.with_fault("F01/browser", probes, baselines, began)

    restore()
    bench.after(probes, baselines)


# -- F02 ---------------------------------------------------------------------------------
HTTPS_UNSEEN = [r'reports "https": false', r"SECURE_PROXY_SSL_HEADER", r"forwarded-allow-ips"]
LOOP = [r"a redirect loop: GET https://" + re.escape(HOST) + "/",
        r"30[18] Location: https://" + re.escape(HOST) + "/"]


@pytest.mark.parametrize("kind", ["redirect-loop", "http-behind-https"])
def test_F02_app_takes_https_for_http_behind_the_ingress(bench: Bench, restore: Restore,
                                                         kind: str) -> None:
    """The catalogue's redirect loop, and the same fault with the redirect switched off."""
    seen = HTTPS_UNSEEN + (LOOP if kind == "redirect-loop" else [r"-> HTTP 200"])
    probes = [Probe(tests=(S.HTTPS,), expect={S.HTTPS: seen}),
              Probe(tests=(S.HTTPS_DONE,), expect={S.HTTPS_DONE: seen})]
    settings = dict(UNTRUSTED_PROXY)
    if kind == "redirect-loop":
        probes.append(Probe(tests=(S.DASHBOARD,), expect={S.DASHBOARD: [r"redirect loop"]},
                            optional=frozenset({S.DASHBOARD})))
    else:
        settings["DJANGO_SECURE_SSL_REDIRECT"] = "false"
    baselines = bench.before(probes)
    began = time.monotonic()

    edit_values(restore, _env(**settings), f"fault F02: X-Forwarded-Proto not trusted ({kind})",
                redeploy=bench)
    deploy(bench, "deploy F02")
    bench.with_fault(f"F02/{kind}", probes, baselines, began)

    restore()
    bench.after(probes, baselines)


# -- F03 (the values' side; the image's side is in test_app_image) -------------------------
def test_F03_debug_switched_on_in_the_values(bench: Bench, restore: Restore) -> None:
    probe = Probe(tests=(S.RELEASE_FILES, S.VALUES, S.RENDER), expect={S.VALUES: [
        r"DEBUG is on in production", r"env\.DJANGO_DEBUG=True", r"production settings only"]})
    baselines = bench.before([probe])
    began = time.monotonic()

    edit_values(restore, _env(DJANGO_DEBUG="True"), "fault F03: DEBUG on")
    bench.with_fault("F03/values", [probe], baselines, began)

    restore()
    bench.after([probe], baselines)


# -- F11 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["target-file", "environment"])
def test_F11_age_key_not_where_it_is_said_to_be(bench: Bench, restore: Restore,
                                                tmp_path: Path, kind: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "moved" / "keys.txt"
    if kind == "target-file":
        target = target_copy(tmp_path, deploy={"sops_age_key_file": str(missing)})
    else:
        target = target_copy(tmp_path, deploy={"sops_age_key_file": "env:SOPS_AGE_KEY_FILE"})
    stops = [rf"no age key to decrypt .*points at {re.escape(str(missing))}, which does not",
             rf"Locations tried: {re.escape(str(missing))}", r"\.config/sops/age/keys\.txt",
             r"recipient\(s\) age1[0-9a-z]{20,}",
             r"\[deploy\] sops_age_key_file of fault-target\.toml" if kind == "target-file"
             else r"SOPS_AGE_KEY_FILE \(which \[deploy\] sops_age_key_file names\)"]
    # T05 is not evaluated while T04 fails in the same run: the database's reader apart
    readers = [(S.RELEASE_FILES, S.VALUES, S.RENDER, S.DEPLOYED, S.NO_CLEAR_SECRET), (S.DSN,)]
    probes = [Probe(tests=tests, expect=dict.fromkeys(tests, stops), args=("--provision",),
                    fault_args=("--target", str(target))) for tests in readers]
    baselines = bench.before(probes)
    began = time.monotonic()

    if kind == "environment":
        monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(missing))
    restore.add("SOPS_AGE_KEY_FILE", monkeypatch.undo)
    runs = bench.with_fault(f"F11/{kind}", probes, baselines, began)
    changed = [(c["action"], c["object"]) for run in runs for c in run.changes()]
    assert not changed, f"expected the runs without the age key to change nothing; {changed}"

    restore()
    bench.after(probes, baselines)
