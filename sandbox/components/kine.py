"""The cluster's datastore: kine, an etcd API on top of SQLite, bound to loopback.

Debian's etcd (3.4.23) is older than current apiservers accept; kine speaks the etcd v3
API the apiserver needs and keeps everything in one SQLite file under
.sandbox/data/kine.  It listens on 127.0.0.1 only (its default would be every address).
"""

from __future__ import annotations

import socket

from sandbox import gobuild, layout, proc
from sandbox.components.base import Component

DATA_DIR = layout.DATA / "kine"
METRICS_PORT = 2381


def binary() -> str:
    return str(layout.CACHE / f"kine-v{layout.KINE_VERSION}" / "kine")


class Kine(Component):
    name = "kine"
    daemons = ("kine",)
    start_deadline = 30.0

    def version(self) -> str:
        return f"v{layout.KINE_VERSION}"

    def address(self) -> str:
        return f"http://127.0.0.1:{layout.KINE_PORT}"

    def build(self) -> None:
        gobuild.go_install(self.name, "github.com/k3s-io/kine", f"v{layout.KINE_VERSION}",
                           layout.CACHE / f"kine-v{layout.KINE_VERSION}", "kine")

    def start(self) -> None:
        if proc.running("kine"):
            return
        for port in (layout.KINE_PORT, METRICS_PORT):
            proc.require_free_port(self.name, "127.0.0.1", port)
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        proc.start("kine", [
            binary(),
            f"--listen-address=127.0.0.1:{layout.KINE_PORT}",
            f"--endpoint=sqlite://{DATA_DIR / 'state.db'}?_journal=WAL&cache=shared"
            "&_busy_timeout=30000&_txlock=immediate",
            f"--metrics-bind-address=127.0.0.1:{METRICS_PORT}",
        ], cwd=DATA_DIR)

    def healthy(self) -> bool | str:
        base = super().healthy()
        if base is not True:
            return base
        try:
            with socket.create_connection(("127.0.0.1", layout.KINE_PORT), timeout=1):
                return True
        except OSError as exc:
            return f"127.0.0.1:{layout.KINE_PORT} does not answer ({exc.strerror})"
