"""Every failure kind the suite knows, one exception each.

    SuiteError                      base: a one-paragraph message an operator can act on
    ├── TargetError                 the target file is malformed or incomplete
    ├── ClusterUnreachable          the target's cluster (or another endpoint) does not answer
    ├── SecretsUnavailable          a secret could not be read (key file, SOPS, env)
    ├── ProductionGuard             a write to production that was not asked for explicitly
    ├── ProvisioningLocked          another run holds the provisioning lease
    ├── ReleaseLocked               the Helm release is stuck in pending-* or failed
    ├── CommandFailed               an external command exited non-zero
    └── Outcome                     a scenario ends in something other than pass/fail
        ├── Missing                 absent state that --provision would create
        ├── Blocked                 an operator must act outside the suite
        └── NotEvaluated            a task this one depends on is not done

Messages say what was expected, what was found, where, and what to do next.  They are
redacted before they reach any output (see :mod:`suite.redact`).
"""

from __future__ import annotations


class SuiteError(Exception):
    """Base of every suite error."""


class TargetError(SuiteError):
    """The target file is malformed: names the file, the key and what is expected."""


class ClusterUnreachable(SuiteError):
    """An endpoint of the target does not answer."""


class SecretsUnavailable(SuiteError):
    """A secret could not be loaded."""


class ProductionGuard(SuiteError):
    """Refusal to write to production without an explicit choice."""


class ProvisioningLocked(SuiteError):
    """Another provisioning run holds the lease."""


class ReleaseLocked(SuiteError):
    """The Helm release cannot be upgraded safely."""


class CommandFailed(SuiteError):
    """An external command failed."""


class Outcome(SuiteError):
    """A scenario outcome beyond pass/fail; `kind` names it for the reports."""

    kind = "outcome"

    def __init__(self, message: str, *, next_action: str = "", who: str = "") -> None:
        self.message = message
        self.next_action = next_action
        self.who = who
        text = message
        if next_action:
            text += f" Next: {next_action}"
        super().__init__(text)


class Missing(Outcome):
    """State is absent; --provision would create it (the message carries the plan)."""

    kind = "missing"


class Blocked(Outcome):
    """Only an operator can unblock this; the message says who, what and how it is verified."""

    kind = "blocked"


class NotEvaluated(Outcome):
    """A prerequisite task is not done, so this check is not run."""

    kind = "not_evaluated"
