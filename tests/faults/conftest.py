"""Fixtures of the fault tests: one bench per session, one restore list per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.edits import Restore
from tests.faults.harness import Bench


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the fault tests, and run them last: the main job's tests leave the sandbox
    converged, so the fault tests need not converge it a second time."""
    here = Path(__file__).parent
    ours = [item for item in items if here in Path(str(item.path)).parents]
    for item in ours:
        item.add_marker(pytest.mark.faults)
        if "bench" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.sandbox)
            item.add_marker(pytest.mark.slow)
    items[:] = [item for item in items if item not in ours] + ours


@pytest.fixture(scope="session")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    bench = Bench(tmp_path_factory.mktemp("fault-runs"))
    yield bench
    _write_summary(bench)


@pytest.fixture
def restore(request: pytest.FixtureRequest) -> Restore:
    """Register undo steps here *before* injecting; they run even when the test fails."""
    steps = Restore()
    request.addfinalizer(steps)
    return steps


def _write_summary(bench: Bench) -> None:
    lines = ["| fault | scenario | outcome | seconds | message |", "|---|---|---|---|---|"]
    for obs in bench.observations:
        message = " ".join(obs.reason.split()).replace("|", "\\|")
        lines.append(f"| {obs.fault} | {obs.test} | {obs.outcome} | {obs.seconds:.0f} | "
                     f"{message} |")
    lines += ["", "| run | seconds |", "|---|---|"]
    lines += [f"| {label} | {seconds:.0f} |" for label, seconds in bench.timings]
    (bench.base / "observed.md").write_text("\n".join(lines) + "\n")
    print(f"\nfault observations: {bench.base / 'observed.md'}")

