"""The SQL the cnpg stand-in runs on the sandbox's PostgreSQL: roles and databases.

What cloudnative-pg's instance manager does for `Cluster.spec.managed.roles` and for
`Database` objects, expressed as plain statements.  Passwords never travel in clear: the
stand-in sends a SCRAM-SHA-256 verifier it computes itself, so neither the server log nor
an error message can show the password.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import Any

import psycopg
from psycopg import sql

RESERVED_ROLES = ("postgres", "streaming_replica")
RESERVED_ROLE_PREFIXES = ("pg_", "cnpg_")
RESERVED_DATABASES = ("postgres", "template0", "template1")

_FLAGS = (  # (spec field, SQL keyword, pg_roles column, default)
    ("superuser", "SUPERUSER", "rolsuper", False),
    ("createdb", "CREATEDB", "rolcreatedb", False),
    ("createrole", "CREATEROLE", "rolcreaterole", False),
    ("inherit", "INHERIT", "rolinherit", True),
    ("login", "LOGIN", "rolcanlogin", False),
    ("replication", "REPLICATION", "rolreplication", False),
    ("bypassrls", "BYPASSRLS", "rolbypassrls", False),
)


def role_is_reserved(name: str) -> bool:
    return name in RESERVED_ROLES or name.startswith(RESERVED_ROLE_PREFIXES)


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for PASSWORD (RFC 5802 / 7677)."""
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = base64.b64encode
    return (f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}$"
            f"{b64(stored_key).decode()}:{b64(server_key).decode()}")


def roles_in_database(conn: psycopg.Connection) -> dict[str, dict[str, Any]]:
    """Every role with its attributes and memberships."""
    rows = conn.execute(
        "select r.rolname, r.rolsuper, r.rolcreatedb, r.rolcreaterole, r.rolinherit, "
        "r.rolcanlogin, r.rolreplication, r.rolbypassrls, r.rolconnlimit, "
        "coalesce(array(select g.rolname from pg_auth_members m join pg_roles g "
        "on g.oid = m.roleid where m.member = r.oid), '{}') "
        "from pg_roles r").fetchall()
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        found[row[0]] = {"rolsuper": row[1], "rolcreatedb": row[2], "rolcreaterole": row[3],
                         "rolinherit": row[4], "rolcanlogin": row[5], "rolreplication": row[6],
                         "rolbypassrls": row[7], "rolconnlimit": row[8],
                         "memberof": sorted(row[9])}
    return found


def _attributes(spec: dict[str, Any]) -> sql.Composed:
    parts: list[sql.Composable] = [
        sql.SQL(keyword if spec.get(field, default) else "NO" + keyword)
        for field, keyword, _column, default in _FLAGS]
    parts.append(sql.SQL("CONNECTION LIMIT {}").format(
        sql.Literal(int(spec.get("connectionLimit", -1)))))
    if spec.get("validUntil"):
        parts.append(sql.SQL("VALID UNTIL {}").format(sql.Literal(spec["validUntil"])))
    return sql.SQL(" ").join(parts)


def role_differs(spec: dict[str, Any], current: dict[str, Any]) -> bool:
    for field, _keyword, column, default in _FLAGS:
        if bool(spec.get(field, default)) != current[column]:
            return True
    if int(spec.get("connectionLimit", -1)) != current["rolconnlimit"]:
        return True
    return set(spec.get("inRoles") or []) != set(current["memberof"])


def apply_role(conn: psycopg.Connection, spec: dict[str, Any], exists: bool,
               password: str | None, disable_password: bool = False) -> None:
    """CREATE or ALTER the role of SPEC; set the password when PASSWORD is given."""
    name = sql.Identifier(spec["name"])
    statement = sql.SQL("ALTER ROLE {} WITH {}" if exists else "CREATE ROLE {} WITH {}")
    parts: list[sql.Composable] = [_attributes(spec)]
    if disable_password:
        parts.append(sql.SQL("PASSWORD NULL"))
    elif password is not None:
        parts.append(sql.SQL("PASSWORD {}").format(sql.Literal(scram_verifier(password))))
    with conn.transaction():
        conn.execute(statement.format(name, sql.SQL(" ").join(parts)))
        if "comment" in spec:
            conn.execute(sql.SQL("COMMENT ON ROLE {} IS {}").format(
                name, sql.Literal(spec.get("comment") or None)))
        _memberships(conn, spec)


def _memberships(conn: psycopg.Connection, spec: dict[str, Any]) -> None:
    wanted = set(spec.get("inRoles") or [])
    have = set(roles_in_database(conn)[spec["name"]]["memberof"])
    for group in sorted(wanted - have):
        conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(group),
                                                      sql.Identifier(spec["name"])))
    for group in sorted(have - wanted):
        conn.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(group),
                                                         sql.Identifier(spec["name"])))


def drop_role(conn: psycopg.Connection, name: str) -> None:
    conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def database_owner(conn: psycopg.Connection, name: str) -> str | None:
    row = conn.execute("select pg_get_userbyid(datdba) from pg_database where datname = %s",
                       (name,)).fetchone()
    return None if row is None else str(row[0])


def create_database(conn: psycopg.Connection, spec: dict[str, Any]) -> None:
    """CREATE DATABASE with the options a cnpg Database spec can carry."""
    options = [sql.SQL("OWNER {}").format(sql.Identifier(spec["owner"]))]
    for field, keyword in (("template", "TEMPLATE"), ("tablespace", "TABLESPACE")):
        if spec.get(field):
            options.append(sql.SQL(keyword + " {}").format(sql.Identifier(spec[field])))
    for field, keyword in (("encoding", "ENCODING"), ("locale", "LOCALE"),
                           ("localeCollate", "LC_COLLATE"), ("localeCType", "LC_CTYPE"),
                           ("localeProvider", "LOCALE_PROVIDER"), ("icuLocale", "ICU_LOCALE")):
        if spec.get(field):
            options.append(sql.SQL(keyword + " {}").format(sql.Literal(spec[field])))
    conn.execute(sql.SQL("CREATE DATABASE {} WITH {}").format(
        sql.Identifier(spec["name"]), sql.SQL(" ").join(options)))
    alter_database(conn, spec)


def alter_database(conn: psycopg.Connection, spec: dict[str, Any]) -> None:
    """Bring the mutable settings of an existing database in line with SPEC."""
    name = sql.Identifier(spec["name"])
    if database_owner(conn, spec["name"]) != spec["owner"]:
        conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
            name, sql.Identifier(spec["owner"])))
    settings = [sql.SQL("CONNECTION LIMIT {}").format(
        sql.Literal(int(spec.get("connectionLimit", -1))))]
    if "isTemplate" in spec:
        settings.append(sql.SQL("IS_TEMPLATE {}").format(sql.Literal(bool(spec["isTemplate"]))))
    if "allowConnections" in spec:
        settings.append(sql.SQL("ALLOW_CONNECTIONS {}").format(
            sql.Literal(bool(spec["allowConnections"]))))
    conn.execute(sql.SQL("ALTER DATABASE {} WITH {}").format(name, sql.SQL(" ").join(settings)))


def drop_database(conn: psycopg.Connection, name: str) -> None:
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
        sql.Identifier(name)))
