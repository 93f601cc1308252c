"""The real CRDs of cloudnative-pg and cert-manager, taken from the projects' Go modules.

`go mod download -json MODULE@VERSION` puts each project's module zip into the Go module
cache; the CRDs are read from the unpacked module folder and written, once, into the
sandbox cache (`CACHE/crds/NAME-VERSION/`).  Nothing is copied into the repository.

* cloudnative-pg ships plain CRD YAML in `config/crd/bases/` (kubebuilder output).
* cert-manager ships its CRDs in `deploy/crds/` as the sources of its Helm chart: plain
  YAML whose only templating is Helm actions inside YAML comments and three label values.
  We render that minimally: comment lines go, the label values become fixed strings.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sandbox import layout, proc
from sandbox.errors import SandboxError

log = logging.getLogger("sandbox.operators.crds")

CNPG_MODULE = "github.com/cloudnative-pg/cloudnative-pg"
CNPG_VERSION = "v1.28.0"
CERT_MANAGER_MODULE = "github.com/cert-manager/cert-manager"
CERT_MANAGER_VERSION = "v1.18.2"


@dataclass(frozen=True)
class CrdSource:
    """Where one project's CRDs come from and which of them the sandbox installs."""

    name: str
    module: str
    version: str
    folder: str
    files: tuple[str, ...]
    helm_templated: bool


CNPG = CrdSource("cloudnative-pg", CNPG_MODULE, CNPG_VERSION, "config/crd/bases", (
    "postgresql.cnpg.io_clusters.yaml", "postgresql.cnpg.io_databases.yaml",
    "postgresql.cnpg.io_scheduledbackups.yaml", "postgresql.cnpg.io_backups.yaml"), False)
CERT_MANAGER = CrdSource("cert-manager", CERT_MANAGER_MODULE, CERT_MANAGER_VERSION,
                         "deploy/crds", (
                             "crd-certificates.yaml", "crd-certificaterequests.yaml",
                             "crd-issuers.yaml", "crd-clusterissuers.yaml",
                             "crd-orders.yaml", "crd-challenges.yaml"), True)
SOURCES = (CNPG, CERT_MANAGER)

_HELM_VALUE = re.compile(r"'\{\{[^}]*\}\}'")


def cache_dir(source: CrdSource) -> Path:
    return layout.CACHE / "crds" / f"{source.name}-{source.version}"


def module_dir(source: CrdSource) -> Path:
    """`go mod download -json` the module; return its unpacked folder."""
    done = proc.run("operators", ["go", "mod", "download", "-json",
                                  f"{source.module}@{source.version}"],
                    env={"GOFLAGS": "-mod=mod", "GO111MODULE": "on"}, cwd=layout.CACHE,
                    timeout=900, check=False, hint="The Go module proxy must be reachable.")
    try:
        info = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise SandboxError("operators", f"`go mod download {source.module}@{source.version}` "
                           f"gave no module information: {done.stderr.strip()[-300:]}",
                           hint="Check that the Go module proxy serves this version.") from exc
    if info.get("Error") or not info.get("Dir"):
        raise SandboxError("operators", f"the Go module proxy did not serve {source.module}@"
                           f"{source.version}: {info.get('Error', 'no folder')}",
                           hint="Pin another version in sandbox/operators/crds.py.")
    return Path(info["Dir"])


def render_helm_comments(text: str) -> str:
    """cert-manager's CRD sources: drop Helm actions in comments, fix the label values."""
    lines = []
    for line in text.splitlines():
        if "{{" in line and line.lstrip().startswith("#"):
            continue
        lines.append(_HELM_VALUE.sub("cert-manager", line))
    rendered = "\n".join(lines) + "\n"
    if "{{" in rendered:
        raise SandboxError("operators", "a cert-manager CRD source has Helm templating "
                           "outside comments and labels", hint="The renderer in "
                           "sandbox/operators/crds.py needs to learn the new construct.")
    return rendered


def ensure_cached(source: CrdSource) -> Path:
    """The CRD files of SOURCE in the sandbox cache (downloaded and rendered once)."""
    target = cache_dir(source)
    if all((target / name).exists() for name in source.files):
        return target
    folder = module_dir(source) / source.folder
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for name in source.files:
        text = (folder / name).read_text()
        if source.helm_templated:
            text = render_helm_comments(text)
        (partial / name).write_text(text)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    log.info("cached %d CRDs of %s %s in %s", len(source.files), source.name, source.version,
             target)
    return target


def documents(source: CrdSource) -> list[dict[str, Any]]:
    """The CRD objects of SOURCE, parsed."""
    folder = ensure_cached(source)
    found: list[dict[str, Any]] = []
    for name in source.files:
        for doc in yaml.safe_load_all((folder / name).read_text()):
            if doc and doc.get("kind") == "CustomResourceDefinition":
                found.append(doc)
    return found
