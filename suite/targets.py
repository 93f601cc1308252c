"""Targets: `targets/NAME.toml` describes one place the workplan is deployed to.

A target names the cluster, registry, database, DNS, TLS and repositories of one
deployment; `--target NAME` selects it.  Values of the form `env:VAR` are read from the
environment when used; relative paths are relative to the project root.  Secrets never
stand in a target file: keys ending in `_file` or `_env` say where to read them.

A malformed file fails with the file, the key and what is expected.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from suite.errors import TargetError

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ROOT / "targets"

# section -> key -> (type, required)
SCHEMA: dict[str, dict[str, tuple[type | tuple[type, ...], bool]]] = {
    "target": {"name": (str, True), "description": (str, False), "production": (bool, True),
               "workplan": (str, False)},
    "cluster": {"kubeconfig": (str, True), "context": (str, True),
                "node_public_ip": (str, True), "namespace": (str, True),
                "ingress_class": (str, True), "ingress_controller": (str, False)},
    "registry": {"host": (str, True), "address": (str, False), "org": (str, True),
                 "image": (str, True), "push_user": (str, True),
                 "push_token_file": (str, True), "pull_user": (str, True),
                 "pull_password_file": (str, True), "builder": (str, True),
                 "token_path": (str, False)},
    "database": {"cluster": (str, True), "namespace": (str, True), "role": (str, True),
                 "name": (str, True), "suite_host": (str, False), "suite_port": (int, False),
                 "psql_image": (str, True)},
    "dns": {"zone": (str, True), "server": (str, False), "port": (int, False),
            "update": (str, True), "tsig_key_file": (str, False), "owner": (str, True)},
    "tls": {"issuer": (str, True), "ca_bundle": (str, True), "known_good_secret": (str, True),
            "known_good_namespace": (str, True)},
    "app": {"host": (str, True), "release": (str, True), "repo": (str, True),
            "superuser": (str, True), "superuser_password_env": (str, False)},
    "deploy": {"repo": (str, True), "values": (str, True), "sops_age_key_file": (str, True),
               "branch": (str, True)},
    "timeouts": {"default": ((int, float), True), "certificate": ((int, float), True),
                 "rollout": ((int, float), True), "browser": ((int, float), True),
                 "interval": ((int, float), True)},
}
DNS_UPDATE_MODES = ("rfc2136", "manual")


@dataclass(frozen=True)
class Target:
    """A loaded, validated target file."""

    name: str
    file: Path
    data: dict[str, dict[str, Any]] = field(repr=False)

    @property
    def production(self) -> bool:
        return bool(self.data["target"]["production"])

    def get(self, dotted: str, default: Any = None) -> Any:
        """The raw value at `section.key`, with `env:VAR` resolved (None when unset)."""
        section, key = dotted.split(".", 1)
        value = self.data.get(section, {}).get(key, default)
        if isinstance(value, str) and value.startswith("env:"):
            return os.environ.get(value[4:]) or default
        return value

    def require(self, dotted: str) -> Any:
        """Like get(), but a missing value is a TargetError naming file, key and variable."""
        value = self.get(dotted)
        if value is None or value == "":
            section, key = dotted.split(".", 1)
            raw = self.data.get(section, {}).get(key)
            where = (f"the environment variable {raw[4:]} is not set" if
                     isinstance(raw, str) and raw.startswith("env:") else "the key is missing")
            raise TargetError(f"target '{self.name}' ({self.file}): [{section}] {key} is "
                              f"needed here but {where}. Set it and run again.")
        return value

    def path(self, dotted: str) -> Path:
        """A path value, made absolute relative to the project root."""
        value = Path(str(self.require(dotted))).expanduser()
        return value if value.is_absolute() else ROOT / value

    def timeout(self, kind: str = "default") -> float:
        return float(self.data["timeouts"].get(kind, self.data["timeouts"]["default"]))

    @property
    def interval(self) -> float:
        return float(self.data["timeouts"]["interval"])

    def header(self) -> str:
        return (f"target: {self.name} ({'PRODUCTION' if self.production else 'non-production'})"
                f" · context {self.get('cluster.context')} · host {self.get('app.host')}")

    def image_repository(self) -> str:
        host, org, image = (self.get(f"registry.{k}") for k in ("host", "org", "image"))
        return f"{host}/{org}/{image}"


def available() -> list[str]:
    return sorted(path.stem for path in TARGETS.glob("*.toml"))


def load(name_or_path: str) -> Target:
    """Load and validate a target by name (targets/NAME.toml) or by path."""
    candidate = Path(name_or_path)
    file = candidate if candidate.suffix == ".toml" else TARGETS / f"{name_or_path}.toml"
    if not file.is_file():
        raise TargetError(f"no target file {file}: the known targets are "
                          f"{', '.join(available()) or 'none'}. Pass --target with one of them "
                          "or a path to a .toml file.")
    try:
        data = tomllib.loads(file.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise TargetError(f"target file {file} is not valid TOML: {exc}. Fix the syntax at "
                          "that place and run again.") from None
    except OSError as exc:
        raise TargetError(f"target file {file} cannot be read: {exc.strerror}.") from None
    validate(file, data)
    return Target(name=data["target"]["name"], file=file, data=data)


def validate(file: Path, data: dict[str, Any]) -> None:
    problems: list[str] = []
    for section, keys in SCHEMA.items():
        table = data.get(section)
        if not isinstance(table, dict):
            problems.append(f"section [{section}] is missing (expected keys: "
                            f"{', '.join(k for k, (_, req) in keys.items() if req)})")
            continue
        for key, (kind, required) in keys.items():
            if key not in table:
                if required:
                    problems.append(f"[{section}] {key} is missing")
                continue
            value = table[key]
            if isinstance(value, bool) and kind is not bool:
                problems.append(f"[{section}] {key} should be {_kind(kind)}, found a boolean")
            elif not isinstance(value, kind):
                problems.append(f"[{section}] {key} should be {_kind(kind)}, found "
                                f"{type(value).__name__} {value!r}")
        for key in table:
            if key not in keys:
                problems.append(f"[{section}] {key} is not a known key (known: "
                                f"{', '.join(keys)})")
    dns = data.get("dns", {})
    if isinstance(dns, dict) and dns.get("update") not in (None, *DNS_UPDATE_MODES):
        problems.append(f"[dns] update should be one of {', '.join(DNS_UPDATE_MODES)}, found "
                        f"{dns.get('update')!r}")
    if isinstance(dns, dict) and dns.get("update") == "rfc2136":
        for key in ("server", "port", "tsig_key_file"):
            if key not in dns:
                problems.append(f"[dns] {key} is needed when update = \"rfc2136\"")
    if problems:
        raise TargetError(f"target file {file} is malformed: " + "; ".join(problems)
                          + ". Compare it with targets/sandbox.toml and fix these keys.")


def _kind(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)
