"""Assertion and waiting helpers: every failure says expected, found, and what to do next.

Checks come in pairs: :func:`problem_*` style functions elsewhere return a text (or
None) describing what is wrong; :func:`expect` turns such a finding into a failed
scenario.  :func:`eventually` polls with an explicit deadline and interval, logs
"waiting for X: Y so far", and on timeout shows the last state it observed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from suite import redact

log = logging.getLogger("suite.check")
T = TypeVar("T")


def fail(expected: str, found: str, next_step: str) -> None:
    __tracebackhide__ = True
    raise AssertionError(redact.redact(f"expected {expected}; found {found}. Next: {next_step}"))


def expect(ok: bool, expected: str, found: str, next_step: str) -> None:
    __tracebackhide__ = True
    if not ok:
        fail(expected, found, next_step)


def eventually(probe: Callable[[], tuple[bool, str]], what: str, *, deadline: float,
               interval: float, next_step: str) -> str:
    """Poll PROBE (returns (done, observed state)) until done; return the final state."""
    __tracebackhide__ = True
    from suite import state

    run = state.active()
    if run is not None and run.plan_only:
        deadline = 0.0  # --plan changes nothing, so nothing it looks at can change: one look
    began = time.monotonic()
    report_at = began + 10
    observed = "nothing observed yet"
    while True:
        done, observed = probe()
        if done:
            return observed
        now = time.monotonic()
        if now - began >= deadline:
            fail(f"{what} within {deadline:.0f}s (polled every {interval:g}s)",
                 f"after {now - began:.0f}s: {observed}", next_step)
        if now >= report_at:
            log.info("waiting for %s: %s so far", what, redact.redact(observed))
            report_at = now + 10
        time.sleep(interval)
