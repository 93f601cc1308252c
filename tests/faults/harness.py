"""The fault tests' bench: suite runs with secret checks, baselines, and expectations.

Every fault test follows one pattern: a baseline run of a selection of scenarios on the
converged sandbox, the fault injected (its removal registered first), the same selection
run again, the fault removed, and the selection run a third time.  :class:`Bench` runs
the suite as a subprocess (:func:`tests.conftest.run_suite`), checks each run's output and
report files for every secret value of the sandbox, and compares outcomes between runs.
The edits themselves live in :mod:`tests.faults.edits`.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, SuiteRun, run_suite
from tests.faults.secret_scan import leaks, sandbox_secrets

DOC = ROOT / "docs" / "faults.md"

#: the selection that builds, pushes and deploys the app repository's HEAD
DEPLOY_IMAGE = ("--provision", "-m", "(T03 or T05 or T07) and provisioning")
#: the selection that redeploys the release from the committed values
DEPLOY_VALUES = ("--provision", "-m", "T05", "-k", "release_is_deployed")


# -- runs -------------------------------------------------------------------------------
def scenario(run: SuiteRun, test: str) -> dict[str, Any] | None:
    """The scenario record whose node id ends in TEST (`test_…` or `test_…[PARAM]`)."""
    for item in run.record.get("scenarios", []):
        nodeid = item["nodeid"].split("::", 1)[-1]
        if nodeid == test or nodeid.split("[", 1)[0] == test and "[" not in test:
            return item  # type: ignore[no-any-return]
    return None


def outcomes(run: SuiteRun) -> dict[str, str]:
    return {s["nodeid"].split("::", 1)[-1]: s["outcome"] for s in run.record.get("scenarios", [])}


def summary(run: SuiteRun) -> str:
    return "\n".join(f"  {s['nodeid'].split('::', 1)[-1]}: {s['outcome']} — {s['reason'][:300]}"
                     for s in run.record.get("scenarios", [])) or f"  (no record)\n" \
        f"{run.output[-1500:]}"


@dataclass
class Observation:
    fault: str
    test: str
    outcome: str
    reason: str
    seconds: float


@dataclass
class Probe:
    """A selection of scenarios run before, with and after a fault.

    EXPECT maps each scenario (test id) the fault must turn red to the patterns its reason
    must match; every other scenario of the selection must end as in the baseline.
    Scenarios in OPTIONAL are judged only when they pass in the baseline (browser checks on
    a sandbox without a browser).
    """

    tests: tuple[str, ...]
    expect: dict[str, list[str]]
    args: tuple[str, ...] = ()
    outcome: dict[str, str] = field(default_factory=dict)
    optional: frozenset[str] = frozenset()
    fault_args: tuple[str, ...] = ()  # arguments of the run with the fault only

    @property
    def selection(self) -> tuple[str, ...]:
        return ("-k", " or ".join(self.tests), *self.args)


@dataclass
class Bench:
    """Runs the suite for the fault tests; one per session."""

    base: Path
    counter: int = 0
    baselines: dict[tuple[str, ...], SuiteRun] = field(default_factory=dict)
    converged: bool = False
    observations: list[Observation] = field(default_factory=list)
    timings: list[tuple[str, float]] = field(default_factory=list)
    extra_secrets: dict[str, str] = field(default_factory=dict)

    def run(self, label: str, *args: str, timeout: float = 1800) -> SuiteRun:
        """One suite run in its own reports folder; fails on any secret in its output."""
        self.counter += 1
        folder = self.base / f"{self.counter:03d}-{re.sub(r'[^A-Za-z0-9]+', '-', label)}"
        began = time.monotonic()
        run = run_suite(folder, *args, timeout=timeout)
        self.timings.append((label, time.monotonic() - began))
        found = leaks(run, sandbox_secrets() | self.extra_secrets)
        assert not found, (f"expected no secret value in the output or reports of `{label}`; "
                           f"found {', '.join(found)} (reports in {folder}). Next: find the "
                           "step that prints it unredacted.")
        return run

    def converge(self) -> None:
        """Provision everything once per session (only when a baseline is not green)."""
        if self.converged:
            return
        self.converged = True
        self.baselines.clear()
        run = self.run("converge", "--provision")
        if run.returncode != 0:
            print(f"note: --provision did not turn everything green:\n{summary(run)}")

    def baseline(self, selection: tuple[str, ...], required: list[str]) -> SuiteRun:
        """The selection's outcomes on the converged sandbox; REQUIRED scenarios must pass."""
        run = self.baselines.get(selection) or self.run("baseline", *selection)
        missing = [t for t in required if (scenario(run, t) or {}).get("outcome") != "passed"]
        if missing and not self.converged:
            self.converge()
            run = self.run("baseline", *selection)
            missing = [t for t in required
                       if (scenario(run, t) or {}).get("outcome") != "passed"]
        if missing:
            pytest.skip(f"the scenario(s) {missing} do not pass on this sandbox even after "
                        f"--provision, so no fault can be shown by them:\n{summary(run)}")
        self.baselines[selection] = run
        return run

    def before(self, probes: list[Probe]) -> list[SuiteRun]:
        """Baselines of every probe; a required scenario that does not pass skips the test."""
        return [self.baseline(p.selection, [t for t in p.expect if t not in p.optional])
                for p in probes]

    def with_fault(self, fault: str, probes: list[Probe], baselines: list[SuiteRun],
                   began: float) -> list[SuiteRun]:
        """Run every probe with the fault in place and check what it must show."""
        runs = []
        for probe, baseline in zip(probes, baselines, strict=True):
            run = self.run(f"{fault} injected", *probe.selection, *probe.fault_args)
            for test, patterns in probe.expect.items():
                if test in probe.optional and \
                        (scenario(baseline, test) or {}).get("outcome") != "passed":
                    continue
                found = expect_detected(run, test, patterns,
                                        outcome=probe.outcome.get(test, "failed"))
                observe(self, fault, found, time.monotonic() - began)
                expect_documented(fault, found["reason"], found["name"])
            expect_unchanged(baseline, run, except_for=set(probe.expect))
            runs.append(run)
        return runs

    def after(self, probes: list[Probe], baselines: list[SuiteRun]) -> list[SuiteRun]:
        """Run every probe once the fault is removed: each ends as in its baseline."""
        runs = []
        for probe, baseline in zip(probes, baselines, strict=True):
            run = self.run("restored", *probe.selection)
            expect_restored(baseline, run)
            runs.append(run)
        return runs


def expect_detected(run: SuiteRun, test: str, patterns: list[str], *,
                    outcome: str = "failed") -> dict[str, Any]:
    """TEST ended OUTCOME and its reason (and the terminal output) match every pattern."""
    __tracebackhide__ = True
    found = scenario(run, test)
    assert found is not None, (f"expected the scenario {test} in the run; it did not run.\n"
                               f"{summary(run)}")
    assert found["outcome"] == outcome, (
        f"expected {test} to end {outcome} with the fault in place; found {found['outcome']}"
        f" — {found['reason'][:400]}\nAll scenarios:\n{summary(run)}")
    missing = [p for p in patterns if not re.search(p, found["reason"], re.I | re.S)]
    assert not missing, (f"expected the reason of {test} to say {missing}; it says:\n"
                         f"{found['reason']}\nNext: make the step's message name the fault "
                         "in an operator's words.")
    first = re.escape(found["reason"][:60].split("\n")[0])
    assert re.search(first, run.output), (f"expected the reason of {test} in the terminal "
                                          f"output; output tail:\n{run.output[-1500:]}")
    return found


def observe(bench: Bench, fault: str, found: dict[str, Any], seconds: float) -> None:
    """Remember what the suite said about FAULT, for the session's summary table."""
    test = found["nodeid"].split("::", 1)[-1]
    bench.observations.append(Observation(fault, test, found["outcome"], found["reason"],
                                          seconds))


def expect_unchanged(before: SuiteRun, after: SuiteRun, *, except_for: set[str]) -> None:
    """Every scenario but EXCEPT_FOR ends as it did in BEFORE."""
    __tracebackhide__ = True
    was, now = outcomes(before), outcomes(after)
    changed = {t: (was.get(t), now.get(t)) for t in set(was) | set(now)
               if t not in except_for and t.split("[", 1)[0] not in except_for
               and was.get(t) != now.get(t)}
    assert not changed, (f"expected no other scenario to change state; found {changed}.\n"
                         f"{summary(after)}")


def expect_restored(before: SuiteRun, after: SuiteRun) -> None:
    """After the fault is removed every scenario of the selection ends as in the baseline."""
    __tracebackhide__ = True
    was, now = outcomes(before), outcomes(after)
    changed = {t: (was.get(t), now.get(t)) for t in set(was) | set(now) if was.get(t) != now.get(t)}
    assert not changed, (f"expected the selection to end as before the fault once it is "
                         f"removed; found {changed}.\n{summary(after)}")


def deploy(bench: Bench, label: str, selection: tuple[str, ...] = DEPLOY_VALUES) -> None:
    """Deploy through the suite (`--provision`); the release scenario must pass."""
    run = bench.run(label, *selection)
    found = scenario(run, S.DEPLOYED) or {}
    assert found.get("outcome") == "passed", (
        f"expected the release to deploy ({label}); found {found.get('outcome')}: "
        f"{found.get('reason', run.output[-800:])}")


# -- docs/faults.md ----------------------------------------------------------------------
ROW = re.compile(r"^\|\s*(F\d\d(?:/[\w-]+)?)\s*\|\s*([^|]+?)\s*\|\s*`([^`]+)`\s*\|", re.M)


def rows() -> list[tuple[str, str, str]]:
    """(fault, scenario, excerpt) rows of docs/faults.md; fault is `F08` or `F08/kind`."""
    if not DOC.exists():
        return []
    return [(m.group(1), m.group(2), m.group(3)) for m in ROW.finditer(DOC.read_text())]


def expect_documented(fault: str, reason: str, scenario_name: str) -> None:
    """Each docs/faults.md row of FAULT (`F09` or `F09/kind`) for the scenario is in REASON."""
    __tracebackhide__ = True
    wanted = {fault, fault.split("/", 1)[0]}
    found = [excerpt for row_fault, name, excerpt in rows()
             if row_fault in wanted and name.strip().lower() == scenario_name.lower()]
    assert found, (f"expected a row for {fault} / {scenario_name!r} in {DOC.relative_to(ROOT)}; "
                   "there is none. Next: add the row with an excerpt of the message.")
    flat = " ".join(reason.split())
    for excerpt in found:
        assert " ".join(excerpt.split()) in flat, (
            f"expected the documented excerpt {excerpt!r} of {fault} in the observed message; "
            f"the suite now says:\n{reason}\nNext: update docs/faults.md (or the step).")


# -- the scenarios the faults are shown by (pytest-bdd test ids) -------------------------
class S:
    """Test ids of the suite's scenarios, as `-k` and the run record name them."""

    CHALLENGE = "test_the_registry_answers_with_an_oci_auth_challenge"
    TOKEN = "test_the_operator_has_a_packagecapable_registry_token"  # noqa: S105 - a name
    DOCKERFILE = "test_the_app_repository_has_a_production_dockerfile_and_dockerignore"
    LOCAL_IMAGE = "test_the_image_builds_and_answers_a_smoke_request_locally"
    DECLARED = "test_the_app_role_and_database_are_declared_in_the_shared_cluster"
    PRIVILEGE = "test_the_app_role_has_no_privilege_privilege"
    GRANTS = "test_the_app_roles_grants_are_scoped_to_its_own_database"
    DSN = "test_the_dsn_is_recorded_in_the_sops_values"
    RELEASE_FILES = "test_the_releases_files_are_in_the_deployment_repository"
    VALUES = "test_the_sops_values_carry_production_settings"
    RENDER = "test_make_vergabedeploy_renders_cleanly_with_dryrun"
    DEPLOYED = "test_the_release_is_deployed_in_its_dedicated_namespace"
    CERTIFICATE = "test_certmanager_issues_the_certificate_for_the_app_host"
    HTTPS = "test_the_app_host_serves_the_app_over_https_with_a_valid_chain"
    SEED = "test_the_seed_has_run_and_is_idempotent"
    CONTAINER = "test_the_app_container_runs_production_settings_as_a_nonroot_user"
    LOGIN = "test_login_at_admin_succeeds"
    DASHBOARD = "test_the_dashboard_renders_without_errors"
    STATIC = "test_static_assets_are_served_correctly"
    HTMX = "test_htmx_partial_requests_succeed"
    CREATE = "test_a_new_ausschreibung_can_be_created_and_saved"
    LOGS = "test_the_apps_logs_show_no_unexpected_errors"
    NO_CLEAR_SECRET = "test_no_plaintext_secret_stands_in_the_deployment_repository"  # noqa: S105
    ROLE_SCOPE = "test_the_app_role_is_dedicated_and_scoped_to_one_database"
    EXPOSURE = "test_nothing_is_exposed_before_its_certificate_is_issued"
    DEBUG_OFF = "test_production_settings_only_debug_off"
    SAFETY_ALL = ("test_no_plaintext_secret", "test_the_app_role_is_dedicated",
                  "test_nothing_is_exposed", "test_production_settings_only",
                  "test_the_gitea_ingress_keeps_working", "test_the_shared_database_clusters",
                  "test_the_app_database_starts_fresh")
    DB_SERVES = "test_a_dedicated_role_and_database_serve_the_app_from_the_shared_cluster"
    HTTPS_DONE = "test_the_app_host_serves_the_app_over_https_with_a_valid_certificate"
