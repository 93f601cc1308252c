"""The features as a whole: traceability and step matching.

Aspects:
- every workplan item (task, completion criterion, safety rule, target state) has at least
  one scenario, and every name in the traceability table is a real scenario;
- every scenario proves at least one workplan item;
- every step of every feature matches exactly one step definition of its kind;
- every scenario carries its task tag, and @smoke scenarios contain no provisioning step.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import pytest
from pytest_bdd.feature import get_features
from pytest_bdd.steps import step_function_context_registry

from suite import traceability, workplan

ROOT = Path(__file__).resolve().parents[2]
FEATURES = sorted(str(p) for p in (ROOT / "features").glob("*.feature"))
WORKPLAN = ROOT.parent / "shared" / "workplan" / "RAILIANCE-WP-0002.md"


def _templates() -> list:
    return [scenario for feature in get_features(FEATURES)
            for scenario in feature.scenarios.values()]


def _root_plugins() -> list[str]:
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.pytest_plugins)


def _step_contexts() -> list:
    for plugin in _root_plugins():
        if plugin.startswith("steps."):
            importlib.import_module(plugin)
    return list(step_function_context_registry.values())


def _rendered_steps(template) -> list[tuple[str, str, int]]:
    """(type, text, line) of each step, an outline's placeholders filled from its examples."""
    params = {}
    for examples in template.examples:
        rows = list(examples.as_contexts())
        if rows:
            params = rows[0]
            break
    out = []
    for step in template.steps:
        text = step.name
        for key, value in params.items():
            text = text.replace(f"<{key}>", str(value))
        out.append((step.type, text, step.line_number))
    return out


def test_every_workplan_item_has_a_scenario() -> None:
    if not WORKPLAN.is_file():
        pytest.skip(f"the workplan is not at {WORKPLAN}")
    items = workplan.load(WORKPLAN).items()
    missing = sorted(set(items) - set(traceability.TABLE))
    assert not missing, (f"expected every workplan item in suite/traceability.py; found no "
                         f"entry for {missing}. Next: map each to the scenarios that prove it.")
    extra = sorted(set(traceability.TABLE) - set(items))
    assert not extra, (f"expected only items of the workplan in the table; found {extra}, "
                       "which the workplan does not have. Next: remove or rename them.")


def test_every_table_name_is_a_scenario() -> None:
    names = {template.name for template in _templates()}
    unknown = sorted({name for names_ in traceability.TABLE.values() for name in names_}
                     - names)
    assert not unknown, (f"expected every scenario named in suite/traceability.py to exist in "
                         f"features/; found no scenario called {unknown}. Next: fix the name.")
    empty = sorted(item for item, names_ in traceability.TABLE.items() if not names_)
    assert not empty, f"expected scenarios for every item; {empty} have none. Next: add them."


def test_every_scenario_proves_an_item() -> None:
    orphans = sorted(t.name for t in _templates() if not traceability.items_for(t.name))
    assert not orphans, (f"expected every scenario to prove a workplan item; found {orphans} "
                         "mapped to nothing. Next: add them to suite/traceability.py.")


def test_every_step_matches_exactly_one_definition() -> None:
    contexts = _step_contexts()
    problems = []
    for template in _templates():
        for kind, text, line in _rendered_steps(template):
            matches = [c for c in contexts if c.type in (kind, None)
                       and c.parser.is_matching(text)]
            if len(matches) != 1:
                names = [c.step_func.__name__ for c in matches]
                problems.append(f"{Path(template.feature.filename).name}:{line} {kind} "
                                f"'{text}' matches {len(matches)} {names}")
    assert not problems, ("expected each step to match exactly one step definition; found:\n"
                          + "\n".join(problems) + "\nNext: add or disambiguate the step.")


def test_every_scenario_has_its_task_tag() -> None:
    allowed = {"T01", "T02", "T03", "T04", "T05", "T06", "T07", "T08", "safety", "completion"}
    untagged = sorted(t.name for t in _templates()
                      if not (set(t.tags) | set(t.feature.tags)) & allowed)
    assert not untagged, (f"expected a task tag on every scenario; {untagged} have none. "
                          "Next: tag the feature.")


def test_smoke_scenarios_do_not_provision() -> None:
    writers = ("is deployed", "exists", "is applied", "is published", "is built", "has the",
               "are declared", "is declared", "has run", "has completed", "I run the seed")
    offenders = []
    for template in _templates():
        if "smoke" not in set(template.tags) | set(template.feature.tags):
            continue
        for kind, text, _line in _rendered_steps(template):
            if kind == "given" and any(w in text for w in writers) and "logged in" not in text:
                offenders.append(f"{template.name}: {text}")
    assert not offenders, (f"expected @smoke scenarios to be read-only; these provision: "
                           f"{offenders}. Next: drop @smoke or the provisioning step.")
