"""The environment a shell or the suite needs to use the sandbox: `python -m sandbox env`.

`variables()` returns plain values (no shell syntax), so Python callers can pass them to
subprocesses as they are and `eval "$(python -m sandbox env)"` sets them in a shell.
Components add their own variables here, one function each.
"""

from __future__ import annotations

import os

from sandbox import kube, layout, pki


def _path() -> str:
    """.sandbox/bin first, then the caller's PATH without an earlier copy of it."""
    rest = [part for part in os.environ.get("PATH", "").split(os.pathsep)
            if part and part != str(layout.BIN)]
    return os.pathsep.join([str(layout.BIN), *rest])


def node() -> dict[str, str]:
    """The cluster and its tools: the suite's kubeconfig, the wrappers in .sandbox/bin."""
    from sandbox.components.tools import helm_environment

    return {"KUBECONFIG": str(kube.kubeconfig_path("suite")), "PATH": _path(),
            "SOPS_DISABLE_VERSION_CHECK": "1", **helm_environment()}


def registry() -> dict[str, str]:
    """The registry host and the web root to trust; podman is .sandbox/bin's (on PATH)."""
    return {"WP_SANDBOX_REGISTRY": layout.GITEA_HOST,
            "WP_SANDBOX_CA": str(layout.PKI / f"{pki.WEB_CA}.crt")}


def variables() -> dict[str, str]:
    """Every variable, from every component that sets one."""
    return {**node(), **registry()}
