"""Processes the sandbox starts: launched detached, tracked by pid file, stopped by pid.

Every daemon gets a log file under `.sandbox/logs/NAME.log` and a pid file under
`.sandbox/run/NAME.pid`.  `down` stops exactly the pids it recorded, nothing found by
name.  Commands run through :func:`run`, which logs one line per call and raises a
:class:`~sandbox.errors.SandboxError` naming the component on failure.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from sandbox import layout
from sandbox.errors import SandboxError

log = logging.getLogger("sandbox.proc")


def log_path(name: str) -> Path:
    return layout.LOGS / f"{name}.log"


def pid_path(name: str) -> Path:
    return layout.RUN / f"{name}.pid"


def read_pid(name: str) -> int | None:
    try:
        return int(pid_path(name).read_text().strip())
    except (OSError, ValueError):
        return None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not alive
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def running(name: str) -> bool:
    pid = read_pid(name)
    return pid is not None and pid_alive(pid)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def tail(path: Path, lines: int = 12) -> str:
    """The last LINES lines of a log, without terminal colour codes."""
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log yet)"
    return _ANSI.sub("", "\n".join(text[-lines:]))


def start(name: str, argv: Sequence[str], *, env: Mapping[str, str] | None = None,
          cwd: Path | None = None) -> int:
    """Start a daemon detached from this process; return its pid (reuse a live one)."""
    pid = read_pid(name)
    if pid is not None and pid_alive(pid):
        return pid
    layout.ensure_dirs()
    logfile = log_path(name)
    full_env = dict(os.environ)
    full_env.update(env or {})
    log.info("START %s: %s", name, shlex.join(argv))
    with open(logfile, "ab") as out:
        try:
            child = subprocess.Popen(  # noqa: S603 - argv is built by the sandbox itself
                list(argv), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=full_env, cwd=cwd, start_new_session=True)
        except OSError as exc:
            raise SandboxError(name, f"could not start {argv[0]} ({exc.strerror})",
                               log=logfile, hint="Is the program installed? Run "
                               "scripts/bootstrap.sh to install what the sandbox needs.") from exc
    pid_path(name).write_text(f"{child.pid}\n")
    return child.pid


def stop(name: str, *, timeout: float = 15.0) -> bool:
    """Stop the daemon recorded under NAME (its whole process group); True if it ran."""
    pid = read_pid(name)
    if pid is None:
        return False
    was_alive = pid_alive(pid)
    if was_alive:
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and pid_alive(pid):
            time.sleep(0.1)
        if pid_alive(pid):
            _signal_group(pid, signal.SIGKILL)
            time.sleep(0.2)
    pid_path(name).unlink(missing_ok=True)
    return was_alive


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def run(component: str, argv: Sequence[str], *, env: Mapping[str, str] | None = None,
        cwd: Path | None = None, input: str | bytes | None = None, timeout: float = 600,
        check: bool = True, hint: str = "") -> subprocess.CompletedProcess[str]:
    """Run a command to completion; on failure raise a SandboxError with its output."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    started = time.monotonic()
    text_input = input.decode() if isinstance(input, bytes) else input
    try:
        done = subprocess.run(  # noqa: S603
            list(argv), env=full_env, cwd=cwd, input=text_input, capture_output=True,
            text=True, timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise SandboxError(component, f"the program {argv[0]} is not installed",
                           hint=hint or "Run scripts/bootstrap.sh first.") from exc
    except subprocess.TimeoutExpired as exc:
        raise SandboxError(component, f"`{shlex.join(argv)}` did not finish within "
                           f"{timeout:.0f}s", hint=hint) from exc
    log.info("RUN %s: %s -> rc=%s in %.1fs", component, shlex.join(argv), done.returncode,
             time.monotonic() - started)
    if check and done.returncode != 0:
        output = (done.stderr or done.stdout).strip().splitlines()[-8:]
        raise SandboxError(component, f"`{shlex.join(argv[:4])}…` exited {done.returncode}: "
                           + " | ".join(output), hint=hint)
    return done


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def require_free_port(component: str, host: str, port: int) -> None:
    """Fail with a clear paragraph when a port the component needs is taken."""
    if port_in_use(host, port):
        raise SandboxError(component, f"port {host}:{port} is already in use by another "
                           "program", hint=f"Find it with `ss -ltnp 'sport = :{port}'`, stop "
                           "it, then run `python -m sandbox up` again.")


def wait_for(component: str, what: str, probe: Callable[[], bool | str], *,
             deadline: float = 60.0, interval: float = 0.5, name: str | None = None) -> None:
    """Poll PROBE until it returns True; a string return is the state observed so far.

    Stops early when the component's daemon (NAME) has died, and reports its log tail.
    """
    end = time.monotonic() + deadline
    last: bool | str = False
    next_report = time.monotonic() + 10
    while True:
        try:
            last = probe()
        except Exception as exc:  # noqa: BLE001 - any failure is "not yet"
            last = f"{type(exc).__name__}: {exc}"
        if last is True:
            return
        if name is not None and not running(name):
            raise SandboxError(component, f"the process died while waiting for {what}; last "
                               f"lines of its log:\n{tail(log_path(name))}",
                               log=log_path(name))
        now = time.monotonic()
        if now >= end:
            raise SandboxError(component, f"{what} not reached within {deadline:.0f}s (last "
                               f"observed: {last or 'no answer'})",
                               log=log_path(name) if name else None)
        if now >= next_report:
            log.info("waiting for %s: %s so far", what, last or "no answer")
            next_report = now + 10
        time.sleep(interval)
