"""`python -m sandbox up | down | status | env | reset`: railiance01-in-a-box."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import time
import traceback

from sandbox import layout, proc
from sandbox.components.base import Component
from sandbox.errors import SandboxError

log = logging.getLogger("sandbox")

#: Start order; `down` runs it backwards.  Each entry is "module:Class".
ORDER: tuple[str, ...] = (
    # -- the node: real Kubernetes built from Go modules --------------------------------
    "network:PodNetwork",
    "kine:Kine",
    "apiserver:APIServer",
    "controlplane:ControllerManager",
    "controlplane:Scheduler",
    "containerd:Containerd",
    "kubelet:Kubelet",
    "kubeproxy:KubeProxy",
    "identity:SuiteIdentity",
    "tools:Tools",
    # -- images, registry, ingress --------------------------------------------------------
    "images:BaseImages",
    "registry:Registry",
    "traefik:Traefik",
    # -- platform: database, DNS, operators, the state the workplan starts from -----------
    "postgres:Postgres",
    "dns:DNS",
    "operators:PlatformOperators",
    "railiance01:ExistingState",
)


def components() -> list[Component]:
    found: list[Component] = []
    for entry in ORDER:
        module_name, class_name = entry.split(":")
        module = importlib.import_module(f"sandbox.components.{module_name}")
        found.append(getattr(module, class_name)())
    return found


def up(parts: list[Component]) -> None:
    layout.ensure_dirs()
    for part in parts:
        began = time.monotonic()
        try:
            part.build()
            part.start()
        except SandboxError:
            raise
        except Exception as exc:  # noqa: BLE001 - any other failure is a bug: say where
            trace = layout.LOGS / "sandbox-errors.log"
            with open(trace, "a") as out:
                traceback.print_exc(file=out)
            raise SandboxError(part.name, f"failed unexpectedly ({type(exc).__name__}: {exc})",
                               log=trace, hint="This is a bug of the sandbox, not of your "
                               "machine: the traceback is in that log. Run `python -m sandbox "
                               "up` again after fixing it; it resumes.") from exc
        proc.wait_for(part.name, f"{part.name} to become healthy", part.healthy,
                      deadline=part.start_deadline,
                      name=part.daemons[0] if part.daemons else None)
        log.info("%-20s up in %.1fs", part.name, time.monotonic() - began)


def down(parts: list[Component]) -> None:
    for part in reversed(parts):
        try:
            part.stop()
        except SandboxError as exc:
            log.error("%s", exc)
        log.info("%-20s stopped", part.name)


def status(parts: list[Component]) -> int:
    lines = [part.status() for part in parts]
    for line in lines:
        print(line.line())
    return 0 if all(line.healthy for line in lines) else 1


def env() -> None:
    from sandbox import environment

    for key, value in environment.variables().items():
        print(f"export {key}={value}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("command", choices=("up", "down", "status", "env", "reset"))
    parser.add_argument("--only", help="comma-separated component names (for debugging)")
    parser.add_argument("-q", "--quiet", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    try:
        parts = components()
        if args.only:
            wanted = set(args.only.split(","))
            parts = [part for part in parts if part.name in wanted]
        if args.command == "up":
            began = time.monotonic()
            up(parts)
            print(f"sandbox is up ({time.monotonic() - began:.0f}s). "
                  "`python -m sandbox status` lists its parts; "
                  "`eval \"$(python -m sandbox env)\"` sets KUBECONFIG and friends.")
            return 0
        if args.command == "down":
            down(parts)
            return 0
        if args.command == "status":
            return status(parts)
        if args.command == "reset":
            from sandbox import reset

            reset.reset()
            print("the workplan's state is removed: the sandbox is as the workplan finds it")
            return 0
        env()
        return 0
    except SandboxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; run the same command again to resume", file=sys.stderr)
        return 130
