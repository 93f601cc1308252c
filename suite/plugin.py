"""The suite's pytest plugin: target selection, outcomes, dependencies, the run record.

Options: `--target NAME`, `--provision`, `--plan`, `--reports-dir`, `--screenshots`,
`--gate T04,T05`.  Scenarios end passed, failed, or in one of the workplan outcomes
MISSING, BLOCKED, NOT EVALUATED (see :mod:`suite.errors`); the terminal shows them by
name, the reports carry them, and any of them makes the gate fail.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from suite import __version__, graph, redact, state, targets, workplan
from suite.errors import NotEvaluated, Outcome, ProductionGuard, SuiteError, TargetError

log = logging.getLogger("suite")

FEATURE_ORDER = ("t01", "t02", "t03", "t04", "t05", "t06", "t07", "t08", "safety", "completion")
OUTCOME_WORDS = {"missing": ("M", "MISSING"), "blocked": ("B", "BLOCKED"),
                 "not_evaluated": ("N", "NOT EVALUATED")}
INFO_KEY = pytest.StashKey[dict[str, Any]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("vergabe", "executable workplan")
    group.addoption("--target", default=os.environ.get("VERGABE_TARGET", "sandbox"),
                    help="target name (targets/NAME.toml) or path; default: sandbox")
    group.addoption("--provision", action="store_true",
                    help="create what is missing before asserting it")
    group.addoption("--plan", action="store_true",
                    help="print the whole provisioning plan and change nothing")
    group.addoption("--reports-dir", default="reports", help="where reports go (default reports)")
    group.addoption("--screenshots", choices=("failure", "always"), default="failure",
                    help="browser screenshots on failure only (default) or always")
    group.addoption("--gate", default="",
                    help="judge only these tasks, comma-separated (e.g. T04,T05)")


def _explicit_target(config: pytest.Config) -> str | None:
    args = list(config.invocation_params.args)
    for index, arg in enumerate(args):
        if arg == "--target" and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith("--target="):
            return arg.split("=", 1)[1]
    return None


def pytest_configure(config: pytest.Config) -> None:
    redact.install_logging_filter()
    try:
        target = targets.load(config.getoption("target"))
    except TargetError as exc:
        raise pytest.UsageError(str(exc)) from None
    provision = bool(config.getoption("provision"))
    plan_only = bool(config.getoption("plan"))
    if provision and plan_only:
        raise pytest.UsageError("--provision and --plan exclude each other: --plan shows what "
                                "--provision would change, without changing it.")
    if provision and target.production and _explicit_target(config) != target.name:
        raise pytest.UsageError(str(ProductionGuard(
            f"--provision would write to production target '{target.name}', but the target "
            "came from a default or the environment. Name it on the command line "
            f"(--target {target.name}) if you really mean to change production.")))
    plan = None
    source = target.get("target.workplan")
    if source:
        path = Path(source) if Path(source).is_absolute() else targets.ROOT / source
        try:
            plan = workplan.load(path)
        except TargetError as exc:
            log.warning("%s", exc)
    state.start(state.Run(target=target, workplan=plan, provision=provision,
                          plan_only=plan_only))


def pytest_report_header(config: pytest.Config) -> list[str]:
    run = state.active()
    if run is None:
        return []
    mode = "provision" if run.provision else "plan only" if run.plan_only else "check only"
    return [run.target.header(), f"mode: {mode} · suite {__version__}"]


def _feature_rank(item: pytest.Item) -> int:
    stem = Path(str(item.path)).stem
    for rank, prefix in enumerate(FEATURE_ORDER):
        if stem.startswith(prefix):
            return rank
    return len(FEATURE_ORDER)


def _scenario_info(item: pytest.Item) -> dict[str, Any] | None:
    from pytest_bdd.scenario import scenario_wrapper_template_registry

    function = getattr(item, "obj", None)
    template = scenario_wrapper_template_registry.get(function) if callable(function) else None
    if template is None:
        return None
    tags = sorted(set(template.tags) | set(template.feature.tags))
    return {"nodeid": item.nodeid, "feature": template.feature.name,
            "feature_file": os.path.relpath(template.feature.filename, targets.ROOT),
            "line": template.line_number, "name": template.name, "tags": tags,
            "tasks": [tag for tag in tags if tag in graph.DEPENDS_ON],
            "group": ([tag for tag in tags if tag in graph.DEPENDS_ON]
                      or [tag for tag in tags if tag in ("safety", "completion")] or ["-"]),
            "steps": [], "evidence": [], "outcome": "not run", "reason": "",
            "next_action": "", "who": "", "duration_s": 0.0}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    indexed = list(enumerate(items))
    indexed.sort(key=lambda pair: (_feature_rank(pair[1]), pair[0]))
    items[:] = [item for _, item in indexed]
    for item in items:
        info = _scenario_info(item)
        if info is not None:
            item.stash[INFO_KEY] = info


@pytest.fixture(autouse=True)
def _prerequisites(request: pytest.FixtureRequest) -> None:
    """A scenario whose prerequisite task ran in this session and is not done is skipped."""
    info = request.node.stash.get(INFO_KEY, None)
    run = state.active()
    if info is None or run is None:
        return
    # Nothing else is tried against a target whose cluster does not answer: each check
    # then ends at once with the same one line, and no request goes anywhere else.
    cluster = request.getfixturevalue("kube_session")
    if isinstance(cluster, SuiteError):
        raise cluster
    if run.plan_only:
        return
    from suite import traceability

    needs = [(task, dep) for task in info["tasks"] for dep in graph.DEPENDS_ON.get(task, ())]
    needs += [(item, dep) for item in traceability.items_for(info["name"])
              for dep in graph.CRITERIA_DEPEND_ON.get(item, ())]
    for task, dep in needs:
        bad = Counter(o for o in run.task_outcomes(dep) if o != "passed")
        if bad:
            title = run.workplan.tasks[dep].title if run.workplan and dep in \
                run.workplan.tasks else dep
            summary = ", ".join(f"{n} {o.replace('_', ' ')}" for o, n in bad.items())
            raise NotEvaluated(
                f"{task} depends on {dep} ({title}), which is not done in this run "
                f"({summary}).", next_action=f"make {dep} pass first (pytest -m {dep}).")


def pytest_bdd_before_scenario(request: pytest.FixtureRequest, feature: Any,
                               scenario: Any) -> None:
    run = state.active()
    if run is not None:
        run.cache["scenario_planned"] = []


def pytest_bdd_before_step(request: pytest.FixtureRequest, feature: Any, scenario: Any,
                           step: Any, step_func: Any) -> None:
    request.node.stash.setdefault(INFO_KEY, {}).setdefault("_t", {})["step"] = time.monotonic()
    run = state.active()
    planned = run.cache.get("scenario_planned") if run is not None else None
    if run is not None and run.plan_only and planned and step.type != "given":
        from suite.errors import Missing

        summary = "; ".join(f"{c.action} {c.object}" for c in planned)
        raise Missing(f"--plan: would {summary} (nothing was changed).")


def _step_record(request: pytest.FixtureRequest, step: Any, outcome: str) -> None:
    info = request.node.stash.get(INFO_KEY, None)
    if info is None:
        return
    began = info.get("_t", {}).get("step", time.monotonic())
    info["steps"].append({"keyword": step.keyword, "text": redact.redact(step.name),
                          "line": step.line_number, "outcome": outcome,
                          "duration_s": round(time.monotonic() - began, 3)})


def pytest_bdd_after_step(request: pytest.FixtureRequest, feature: Any, scenario: Any,
                          step: Any, step_func: Any, step_func_args: Any) -> None:
    _step_record(request, step, "passed")


def pytest_bdd_step_error(request: pytest.FixtureRequest, feature: Any, scenario: Any,
                          step: Any, step_func: Any, step_func_args: Any,
                          exception: Exception) -> None:
    kind = exception.kind if isinstance(exception, Outcome) else "failed"
    _step_record(request, step, kind)
    info = request.node.stash.get(INFO_KEY, None)
    if info is not None:
        info["failed_step"] = f"{step.keyword} {step.name} (line {step.line_number})"


def _short(exc: BaseException) -> str:
    """The exception's message without a traceback wall; unexpected errors name their type."""
    if isinstance(exc, (AssertionError, SuiteError)):
        text = str(exc).split("\nassert ")[0]
    else:
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        where = f" at {tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb else ""
        text = f"{type(exc).__name__}{where}: {exc}"
    return redact.redact(text.strip())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    info = item.stash.get(INFO_KEY, None)
    if info is None or report.when == "teardown" and report.passed:
        return
    info["duration_s"] = round(info.get("duration_s", 0.0) + report.duration, 3)
    if call.excinfo is not None and report.failed:
        exc = call.excinfo.value
        kind = exc.kind if isinstance(exc, Outcome) else "failed"
        message = _short(exc)
        run = state.active()
        if run is not None and run.plan_only and run.planned and kind == "failed":
            # --plan applies nothing, so a check on state that the plan would create
            # first is not a failure yet: it is evaluated once the plan is applied
            kind = "not_evaluated"
            message = ("--plan: not evaluated, the state it checks comes from the plan "
                       f"(it found: {message[:300]})")
            report.user_properties.append(("wp_outcome", kind))
        step = info.get("failed_step")
        report.longrepr = (f"{info['feature_file']}:{info['line']} {info['name']}\n"
                           + (f"  step: {step}\n" if step else "") + f"  {kind.upper()}: "
                           + message)
        info["outcome"] = kind
        info["reason"] = message
        if isinstance(exc, Outcome):
            info["next_action"] = redact.redact(exc.next_action)
            info["who"] = exc.who
            report.user_properties.append(("wp_outcome", kind))
    elif report.when == "call" and report.passed:
        info["outcome"] = "passed"
    elif report.skipped:
        info["outcome"] = "skipped"
        info["reason"] = redact.redact(str(report.longrepr[-1]) if isinstance(
            report.longrepr, tuple) else str(report.longrepr))


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config
                             ) -> tuple[str, str, str] | None:
    for key, value in getattr(report, "user_properties", ()):
        if key == "wp_outcome" and value in OUTCOME_WORDS:
            letter, word = OUTCOME_WORDS[value]
            return value, letter, word
    return None


def pytest_runtest_logfinish(nodeid: str, location: tuple[str, int | None, str]) -> None:
    return None


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    info = item.stash.get(INFO_KEY, None)
    run = state.active()
    if info is None or run is None:
        return
    for task in info["group"]:
        run.results.setdefault(task, []).append(info["outcome"])
    if info not in run.scenarios:
        run.scenarios.append(info)


def _repositories(run: state.Run) -> dict[str, dict[str, str]]:
    """The commit and branch of each repository the run checked (when it exists here)."""
    import subprocess

    found: dict[str, dict[str, str]] = {}
    for key in ("app.repo", "deploy.repo"):
        try:
            path = run.target.path(key)
        except SuiteError:
            continue
        if not (path / ".git").exists():
            continue
        def git(*args: str, where: Path = path) -> str:
            return subprocess.run(["git", "-C", str(where), *args], capture_output=True,
                                  text=True, check=False, timeout=10).stdout.strip()
        found[path.name] = {"path": str(path), "commit": git("rev-parse", "HEAD"),
                            "branch": git("branch", "--show-current")}
    return found


def _record(run: state.Run, session: pytest.Session) -> dict[str, Any]:
    plan = run.workplan
    finished = dt.datetime.now(dt.UTC)
    subset = [t.strip() for t in session.config.getoption("gate").split(",") if t.strip()]
    markexpr = session.config.getoption("markexpr") or ""
    record: dict[str, Any] = {
        "schema": "vergabe-acceptance/run/1", "suite_version": __version__,
        "target": {"name": run.target.name, "production": run.target.production,
                   "context": run.target.get("cluster.context"),
                   "cluster": run.cache.get("cluster_server", ""),
                   "host": run.target.get("app.host"),
                   "description": run.target.get("target.description", "")},
        "started": run.started.isoformat(), "finished": finished.isoformat(),
        "duration_s": round((finished - run.started).total_seconds(), 2),
        "options": {"provision": run.provision, "plan": run.plan_only, "markexpr": markexpr,
                    "subset": subset or (["smoke"] if "smoke" in markexpr else None),
                    "args": [redact.redact(a) for a in session.config.invocation_params.args]},
        "repositories": run.repositories or _repositories(run),
        "workplan": {
            "id": plan.id if plan else workplan.WORKPLAN_ID, "title": plan.title if plan else "",
            "goal": plan.goal if plan else "",
            "tasks": [{"id": tid, "wp_id": f"{workplan.WORKPLAN_ID}-{tid}",
                       "title": plan.tasks[tid].title if plan and tid in plan.tasks else tid,
                       "done_when": plan.tasks[tid].done_when if plan and tid in plan.tasks
                       else "", "depends_on": list(graph.DEPENDS_ON[tid]),
                       "owner": graph.OWNERS[tid], "workplan_status": "todo"}
                      for tid in graph.TASK_ORDER],
            "completion_criteria": [{"id": k, "text": v} for k, v in
                                    (plan.completion_criteria.items() if plan else [])],
            "safety_contract": [{"id": k, "text": v} for k, v in
                                (plan.safety_contract.items() if plan else [])],
            "target_state": [{"id": k, "text": v} for k, v in
                             (plan.target_state.items() if plan else [])]},
        "scenarios": [{k: v for k, v in s.items() if not k.startswith("_")}
                      for s in run.scenarios],
        "changes": [c.as_dict() for c in run.changes],
        "planned": [c.as_dict() for c in run.planned],
        "facts": run.facts,
        "previous_green": None,
    }
    from suite import traceability

    for scenario in record["scenarios"]:
        scenario["items"] = traceability.items_for(scenario["name"])
    return record


def _previous_green(reports: Path) -> dict[str, Any] | None:
    try:
        return json.loads((reports / "last-green.json").read_text())
    except (OSError, ValueError):
        return None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    run = state.active()
    if run is None:
        return
    from provisioning import lease

    lease.release(run)
    if not run.scenarios:
        return
    reports = Path(session.config.getoption("reports_dir"))
    if not reports.is_absolute():
        reports = Path(session.config.invocation_params.dir) / reports
    reports.mkdir(parents=True, exist_ok=True)
    record = _record(run, session)
    record["previous_green"] = _previous_green(reports)
    (reports / "run.json").write_text(json.dumps(record, indent=2, default=str))
    try:
        from suite import reports as reporting
    except ImportError:
        run.cache["gate_summary"] = "reports package not available; wrote run.json only"
        return
    try:
        written = reporting.write_all(record, reports, redact.secrets())
    except SuiteError as exc:
        written = list(getattr(exc, "written", []))
        run.cache["report_error"] = str(exc)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    findings = reporting.secret_scan([reports], redact.secrets())
    passed = reporting.gate_passed(record)
    if passed and not findings:
        (reports / "last-green.json").write_text(json.dumps(
            {"finished": record["finished"], "facts": record["facts"]}, default=str))
    run.cache["report_paths"] = [str(p) for p in [reports / "run.json", *written]]
    run.cache["secret_findings"] = findings
    run.cache["gate_passed"] = passed and not findings
    if findings or (not passed and session.exitstatus == 0):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config
                            ) -> None:
    run = state.active()
    if run is None or not run.scenarios:
        return
    tr = terminalreporter
    if run.planned:
        tr.section("provisioning plan (nothing was changed)")
        for change in run.planned:
            tr.write_line(f"{change.action.upper():8} {change.object}  [{change.provisioner}]")
            for line in change.diff.splitlines()[:20]:
                tr.write_line(f"           {line}")
    pending = [s for s in run.scenarios if s["outcome"] in OUTCOME_WORDS]
    if pending:
        tr.section("missing, blocked, not evaluated")
        for scenario in pending:
            word = OUTCOME_WORDS[scenario["outcome"]][1]
            tr.write_line(f"{word}: {scenario['feature_file']}:{scenario['line']} "
                          f"{scenario['name']}")
            tr.write_line(f"    {scenario['reason']}"
                          + (f" — who: {scenario['who']}" if scenario.get("who") else ""))
    tr.section("workplan")
    by_task: dict[str, Counter[str]] = {}
    for scenario in run.scenarios:
        for task in scenario["group"]:
            by_task.setdefault(task, Counter())[scenario["outcome"]] += 1
    order = [*graph.TASK_ORDER, "safety", "completion"]
    for task, counts in sorted(by_task.items(),
                               key=lambda kv: order.index(kv[0]) if kv[0] in order else 99):
        titles = {"safety": "Safety contract", "completion": "Completion criteria"}
        title = run.workplan.tasks[task].title if run.workplan and task in \
            run.workplan.tasks else titles.get(task, task)
        label = task if task in graph.DEPENDS_ON else ""
        summary = ", ".join(f"{n} {o.replace('_', ' ')}" for o, n in sorted(counts.items()))
        tr.write_line(f"{label:4} {title[:60]:60} {summary}")
    applied = [c for c in run.changes if c.applied]
    tr.write_line(f"provisioning: {len(applied)} change(s) made"
                  + ("" if applied or not run.provision else " — already converged"))
    for change in applied:
        tr.write_line(f"  {change.action:8} {change.object}")
    if run.cache.get("report_error"):
        tr.write_line(f"REPORTS: {run.cache['report_error']}", red=True)
    for finding in run.cache.get("secret_findings", []):
        tr.write_line(f"SECRET SCAN: {finding}", red=True)
    if "gate_passed" in run.cache:
        verdict = "PASS" if run.cache["gate_passed"] else "FAIL"
        tr.write_line(f"gate: {verdict}", green=verdict == "PASS", red=verdict == "FAIL")
    for path in run.cache.get("report_paths", []):
        tr.write_line(f"report: {path}")
