"""How the suite starts Chromium, without the sandbox.

Aspects:
- the version check accepts the installed Chromium and Playwright, and majors within the
  window; it refuses a browser that is too old or too new with one paragraph naming both
  versions and what to do, and never suggests `playwright install`;
- a Chromium whose `--version` says an old major is refused as Blocked before launch;
- the NSS database of the throwaway HOME holds every certificate of the bundle as a
  trusted CA ("C,,"); a bundle without a certificate is a target error;
- the launch arguments map the app host to the target's address and every other name to
  NOTFOUND, and never switch certificate checks off;
- Chromium's environment holds the throwaway HOME and PATH, nothing of the suite's
  environment (where secrets live);
- screenshot and trace names are ASCII words of the scenario name, never a secret;
- the secret check finds a registered secret, and its base64 form, in files and in the
  members of a zip (a Playwright trace);
- the superuser's credentials come from the variable the target names (registered as a
  secret at once), and a missing variable or values file says where to look, not a value.
"""

from __future__ import annotations

import base64
import dataclasses
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from fixtures import browser
from fixtures.browser import Endpoint
from fixtures.sops import Sops
from suite import redact, targets
from suite.errors import Blocked, Missing, SecretsUnavailable, TargetError
from tests.browser.conftest import WebCA


def test_the_installed_pair_fits() -> None:
    if not Path(browser.CHROMIUM).is_file():
        pytest.skip("needs the Debian package chromium")
    found = browser.installed_chromium()
    assert found.count(".") == 3
    assert browser.version_problem(found, browser.expected_chromium(), "1.65.2") is None


@pytest.mark.parametrize("found", ["159.0.1.2", "155.0.1.2", "160.0.1.2"])
def test_majors_in_the_window_fit(found: str) -> None:
    assert browser.version_problem(found, "159.0.8154.6", "1.65.2") is None


@pytest.mark.parametrize(("found", "word", "remedy"),
                         [("120.0.6099.1", "older", "apt-get install --only-upgrade chromium"),
                          ("170.0.1.1", "newer", "Playwright release built for Chromium 170")])
def test_a_real_mismatch_is_refused(found: str, word: str, remedy: str) -> None:
    problem = browser.version_problem(found, "159.0.8154.6", "1.65.2")
    assert problem is not None
    assert f"Chromium {found}" in problem and "Playwright 1.65.2" in problem
    assert "159.0.8154.6" in problem and word in problem and remedy in problem
    assert "never run `playwright install`" in problem
    assert "\n" not in problem


def test_an_old_chromium_is_blocked_before_launch(tmp_path: Path) -> None:
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\necho 'Chromium 120.0.6099.1 built on Debian'\n")
    fake.chmod(0o755)
    with pytest.raises(Blocked) as raised:
        browser.check_version(str(fake))
    assert "Chromium 120.0.6099.1" in str(raised.value)
    assert raised.value.kind == "blocked"


def test_the_nss_database_trusts_every_root_of_the_bundle(tmp_path: Path, web_ca: WebCA
                                                          ) -> None:
    if shutil.which("certutil") is None:
        pytest.skip("needs the Debian package libnss3-tools")
    bundle = tmp_path / "bundle.crt"
    bundle.write_text(web_ca.root.read_text() + "\n" + web_ca.cert.read_text())
    subjects = browser.trusting_home(tmp_path / "home", bundle)
    assert subjects == ["CN=browser test CA", "CN=app.smoke.test"]
    listing = subprocess.run(["certutil", "-L", "-d", f"sql:{tmp_path / 'home/.pki/nssdb'}"],
                             capture_output=True, text=True, check=True).stdout
    assert listing.count("C,,") == 2


def test_a_bundle_without_certificates_is_a_target_error(tmp_path: Path) -> None:
    if shutil.which("certutil") is None:
        pytest.skip("needs the Debian package libnss3-tools")
    empty = tmp_path / "empty.crt"
    empty.write_text("no certificate here\n")
    with pytest.raises(TargetError, match="holds no PEM certificate"):
        browser.trusting_home(tmp_path / "home", empty)


def test_names_resolve_only_to_the_target_and_tls_stays_checked() -> None:
    args = browser.launch_args(Endpoint("vergabe-teilnahme.whywhynot.test", "127.0.0.2"))
    rules = next(a for a in args if a.startswith("--host-resolver-rules="))
    assert rules == ("--host-resolver-rules=MAP vergabe-teilnahme.whywhynot.test 127.0.0.2, "
                     "MAP * ~NOTFOUND, EXCLUDE localhost")
    assert not [a for a in args if "ignore-certificate" in a or "insecure" in a]
    assert "--disable-background-networking" in args and "--no-proxy-server" in args


def test_chromium_gets_no_environment_of_the_suite(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERGABE_SMOKE_PASSWORD", "not-for-the-browser-91x")
    env = browser.browser_env(tmp_path)
    assert env["HOME"] == str(tmp_path)
    assert set(env) == {"HOME", "PATH", "LANG"}


def test_file_names_are_words_of_the_scenario_never_a_secret() -> None:
    redact.register("Geheim-Wort-8812")
    assert browser.slug("Login at /admin/ succeeds") == "login-at-admin-succeeds"
    assert browser.slug("Übersicht lädt") == "ubersicht-ladt"
    named = browser.slug("Smoke with Geheim-Wort-8812 inside")
    assert "8812" not in named and "geheim" not in named
    assert browser.slug("///") == "scenario"


def test_a_secret_is_found_in_files_and_zip_members(tmp_path: Path) -> None:
    secret = "trace-secret-Vx71-password"  # noqa: S105 - a made-up value to look for
    redact.register(secret)
    clean, plain, zipped = tmp_path / "clean.txt", tmp_path / "plain.txt", tmp_path / "t.zip"
    clean.write_text("nothing to see")
    plain.write_text(f"password={base64.b64encode(secret.encode()).decode()}")
    with zipfile.ZipFile(zipped, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("trace.network", f'{{"postData": "password={secret}"}}')
    assert not browser.leaks_secret(clean)
    assert browser.leaks_secret(plain)
    assert browser.leaks_secret(zipped)


VARIABLE = "SMOKE_TEST_PASSWORD"


def _target(**app: str) -> targets.Target:
    sandbox = targets.load("sandbox")
    data = {section: dict(values) for section, values in sandbox.data.items()}
    data["app"].update(app)
    return dataclasses.replace(sandbox, data=data)


def test_credentials_from_the_named_variable_are_registered(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMOKE_TEST_PASSWORD", "env-password-Lq93")
    target = _target(superuser="smoke-admin", superuser_password_env=VARIABLE)
    found = browser.superuser_credentials(target, Sops(target))
    assert (found.username, found.password) == ("smoke-admin", "env-password-Lq93")
    assert "env-password-Lq93" not in repr(found)
    assert redact.redact("pw env-password-Lq93") == "pw ***"


def test_a_missing_password_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMOKE_TEST_PASSWORD", raising=False)
    target = _target(superuser="smoke-admin", superuser_password_env=VARIABLE)
    with pytest.raises(SecretsUnavailable, match="SMOKE_TEST_PASSWORD, which is not set"):
        browser.superuser_credentials(target, Sops(target))


def test_missing_values_say_who_writes_them(tmp_path: Path) -> None:
    target = _target()
    data = {section: dict(values) for section, values in target.data.items()}
    data["deploy"]["repo"] = str(tmp_path)
    target = dataclasses.replace(target, data=data)
    with pytest.raises(Missing, match="do not exist"):
        browser.superuser_credentials(target, Sops(target))
