"""PostgreSQL: the data plane of the cnpg cluster `gitea-db`, run as our own server.

Real PostgreSQL, but Debian bookworm's 15: PostgreSQL 16 and newer are not offered to this
machine's apt sources, so the sandbox runs 15 where production runs the version of its
cnpg image.  The cluster is ours, not the Debian service's: `initdb` into
`.sandbox/data/postgres`, the `postgres` binary started by us as the `postgres` user
(the server refuses to run as root), listening on 127.0.0.1 for the suite and on the
pod bridge's gateway address for pods.  Every network login needs a SCRAM password; the
superuser's is generated into `.sandbox/secrets/postgres-superuser.password`.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import time
from pathlib import Path

import psycopg

from sandbox import layout, proc
from sandbox.components.base import Component
from sandbox.errors import SandboxError
from sandbox.operators import host

BINDIR = Path("/usr/lib/postgresql/15/bin")
DATA = layout.DATA / "postgres"
SOCKETS = layout.RUN / "postgres"
PASSWORD_FILE = "postgres-superuser.password"  # noqa: S105 - a file name, not a password
SUPERUSER = "postgres"
OS_USER = "postgres"

_HBA = """\
# Written by the sandbox on every start (sandbox/components/postgres.py).
# TYPE  DATABASE  USER  ADDRESS          METHOD
local   all       all                    scram-sha-256
host    all       all   127.0.0.1/32     scram-sha-256
host    all       all   {pod_cidr:<16} scram-sha-256
"""


def superuser_password() -> str:
    return host.ensure_password(PASSWORD_FILE)


def connect(dbname: str = "postgres", *, user: str = SUPERUSER, password: str | None = None,
            address: str = "127.0.0.1", timeout: int = 5) -> psycopg.Connection:
    """A connection to the sandbox's PostgreSQL (the superuser's unless told otherwise)."""
    return psycopg.connect(host=address, port=layout.POSTGRES_PORT, dbname=dbname, user=user,
                           password=password if password is not None else superuser_password(),
                           connect_timeout=timeout, autocommit=True)


class Postgres(Component):
    """Debian's PostgreSQL 15 as the sandbox's own cluster (real)."""

    name = "postgres"
    daemons = ("postgres",)
    start_deadline = 60.0

    def version(self) -> str:
        try:
            return (DATA / "PG_VERSION").read_text().strip() + " (bookworm)"
        except OSError:
            return "15 (bookworm)"

    def address(self) -> str:
        return f"127.0.0.1,{layout.BRIDGE_IP}:{layout.POSTGRES_PORT}"

    def build(self) -> None:
        if not (BINDIR / "postgres").exists():
            raise SandboxError(self.name, f"PostgreSQL 15 is not installed ({BINDIR} is "
                               "missing)", hint="Run scripts/bootstrap.sh; it installs "
                               "Debian's postgresql package.")

    def start(self) -> None:
        if proc.running(self.daemons[0]):
            return
        proc.wait_for(self.name, f"the pod bridge address {layout.BRIDGE_IP}",
                      host.bridge_ready, deadline=60)
        for address in ("127.0.0.1", layout.BRIDGE_IP):
            proc.require_free_port(self.name, address, layout.POSTGRES_PORT)
        self._initdb()
        (DATA / "pg_hba.conf").write_text(_HBA.format(pod_cidr=layout.POD_CIDR))
        _chown(DATA / "pg_hba.conf")
        SOCKETS.mkdir(parents=True, exist_ok=True)
        _chown(SOCKETS)
        proc.start(self.daemons[0], _as_postgres([
            str(BINDIR / "postgres"), "-D", str(DATA),
            "-c", f"listen_addresses=127.0.0.1,{layout.BRIDGE_IP}",
            "-c", f"port={layout.POSTGRES_PORT}",
            "-c", f"unix_socket_directories={SOCKETS}",
            "-c", "password_encryption=scram-sha-256",
            # statements that fail are not written to the log: they may carry passwords
            "-c", "log_min_error_statement=panic",
            "-c", "max_connections=100",
        ]))

    def healthy(self) -> bool | str:
        if not proc.running(self.daemons[0]):
            return "process postgres is not running"
        for address in ("127.0.0.1", layout.BRIDGE_IP):
            try:
                with connect(address=address, timeout=2) as conn:
                    conn.execute("select 1")
            except psycopg.Error as exc:
                return f"no SCRAM login on {address}:{layout.POSTGRES_PORT} yet " \
                       f"({str(exc).strip().splitlines()[0] if str(exc).strip() else exc})"
        return True

    def stop(self) -> None:
        pid = proc.read_pid(self.daemons[0])
        if pid is not None and proc.pid_alive(pid):
            os.kill(pid, signal.SIGINT)  # "fast" shutdown: roll back clients, checkpoint
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and proc.pid_alive(pid):
                time.sleep(0.2)
        proc.stop(self.daemons[0])

    def _initdb(self) -> None:
        if (DATA / "PG_VERSION").exists():
            return
        password = superuser_password()
        partial = DATA.with_name("postgres.partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True, mode=0o700)
        _chown(partial)
        pwfile = layout.DATA / "postgres-initdb.pw"
        pwfile.unlink(missing_ok=True)
        handle = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(handle, "w") as out:
            out.write(password + "\n")
        _chown(pwfile)
        try:
            proc.run(self.name, _as_postgres([
                str(BINDIR / "initdb"), "-D", str(partial), "-U", SUPERUSER,
                "--auth=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8",
                "--locale=C.UTF-8"]), hint="See the output above; remove "
                ".sandbox/data/postgres.partial and run `python -m sandbox up` again.")
        finally:
            pwfile.unlink(missing_ok=True)
        partial.rename(DATA)


def _uid_gid() -> tuple[int, int]:
    try:
        entry = pwd.getpwnam(OS_USER)
    except KeyError as exc:
        raise SandboxError("postgres", f"the system user '{OS_USER}' does not exist",
                           hint="Install Debian's postgresql package (scripts/bootstrap.sh); "
                           "it creates the user.") from exc
    return entry.pw_uid, entry.pw_gid


def _chown(path: Path) -> None:
    uid, gid = _uid_gid()
    os.chown(path, uid, gid)


def _as_postgres(argv: list[str]) -> list[str]:
    """Run ARGV as the postgres system user (PostgreSQL refuses to run as root)."""
    if os.geteuid() != 0:
        return argv
    return ["setpriv", f"--reuid={OS_USER}", f"--regid={OS_USER}", "--init-groups", "--",
            *argv]
