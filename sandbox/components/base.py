"""What every sandbox component offers: build, start, health, stop, and a status line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sandbox import proc


@dataclass(frozen=True)
class Status:
    """One line of `python -m sandbox status`."""

    name: str
    kind: str  # "real" or "stand-in"
    version: str
    address: str
    healthy: bool
    detail: str
    log: Path | None

    def line(self) -> str:
        health = "healthy" if self.healthy else f"NOT healthy ({self.detail})"
        log = str(self.log) if self.log else "-"
        return (f"{self.name:<20} {self.kind:<9} {self.version:<14} {self.address:<28} "
                f"{health}  log: {log}")


class Component:
    """A part of the sandbox.  Subclasses override what applies to them.

    `build` puts binaries and images into the cache (idempotent, no-op when cached);
    `start` brings the part up if it is not (idempotent); `healthy` returns True or a
    short text saying what is wrong; `stop` undoes `start` and leaves nothing behind.
    """

    name = "component"
    real = True
    #: the daemon names (see sandbox.proc) this component starts, for stop and status
    daemons: tuple[str, ...] = ()
    start_deadline = 60.0

    def version(self) -> str:
        return "-"

    def address(self) -> str:
        return "-"

    def build(self) -> None:
        """Fetch or compile what the component needs into the cache."""

    def start(self) -> None:
        """Start the component if it is not running."""

    def healthy(self) -> bool | str:
        for daemon in self.daemons:
            if not proc.running(daemon):
                return f"process {daemon} is not running"
        return True

    def stop(self) -> None:
        for daemon in reversed(self.daemons):
            proc.stop(daemon)

    def log(self) -> Path | None:
        return proc.log_path(self.daemons[0]) if self.daemons else None

    def status(self) -> Status:
        try:
            health = self.healthy()
        except Exception as exc:  # noqa: BLE001 - status must always print a line
            health = f"{type(exc).__name__}: {exc}"
        return Status(self.name, "real" if self.real else "stand-in", self.version(),
                      self.address(), health is True, "" if health is True else str(health),
                      self.log())
