"""docs/faults.md: the detection table covers the catalogue and names real scenarios.

Aspects:
- every fault of the catalogue (F01–F15) has at least one row;
- every row names a scenario of features/ and quotes a non-empty excerpt;
- (the excerpts themselves are checked against the suite's messages by the fault tests.)
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT
from tests.faults.harness import DOC, rows

CATALOGUE = [f"F{number:02d}" for number in range(1, 16)]


def _scenario_names() -> set[str]:
    names = set()
    for feature in (ROOT / "features").glob("*.feature"):
        names |= {m.group(1).strip() for m in re.finditer(
            r"^\s*Scenario(?: Outline)?:\s*(.+)$", feature.read_text(), re.M)}
    return names


@pytest.mark.parametrize("fault", CATALOGUE)
def test_every_fault_has_a_row(fault: str) -> None:
    found = [r for r in rows() if r[0].split("/", 1)[0] == fault]
    assert found, f"expected a row for {fault} in {DOC.name}; there is none."


def test_rows_name_real_scenarios() -> None:
    names = _scenario_names()
    unknown = [(fault, name) for fault, name, _ in rows() if name not in names]
    assert not unknown, f"expected every row to name a scenario of features/; unknown {unknown}"
    empty = [(fault, name) for fault, name, excerpt in rows() if not excerpt.strip()]
    assert not empty, f"expected an excerpt in every row; empty in {empty}"
