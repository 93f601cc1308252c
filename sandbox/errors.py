"""The one error the sandbox raises: a component that could not be brought up.

Its message is one paragraph an operator can act on: which component, what happened,
where its log is, and the likely cause.  The CLI prints it and exits non-zero; nothing
else of the traceback is shown.
"""

from __future__ import annotations

from pathlib import Path


class SandboxError(Exception):
    """A sandbox component failed; the message says which, why, and what to do."""

    def __init__(self, component: str, what: str, *, log: Path | None = None,
                 hint: str = "") -> None:
        self.component = component
        self.what = what
        self.log = log
        self.hint = hint
        parts = [f"sandbox component '{component}': {what}."]
        if log is not None:
            parts.append(f"Its log is {log}.")
        if hint:
            parts.append(hint)
        super().__init__(" ".join(parts))
