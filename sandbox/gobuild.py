"""Go builds of the sandbox's binaries, from the Go module proxy into the version-keyed cache.

Three kinds of build:

* `go install MODULE@VERSION` for modules without replace directives (Helm, kine);
* Kubernetes itself, whose go.mod requires every staging module at v0.0.0 and replaces
  it with a local path, so `go install` refuses it.  We write a go.mod of our own that
  requires `k8s.io/kubernetes vX.Y.Z` and replaces each such module `k8s.io/M` with
  `k8s.io/M v0.Y.Z`, then build the five node binaries with the version stamped in;
* a small program of our own (the pause process) built static.

Each build is skipped when its binaries are already in the cache, and writes them to a
temporary folder first, so an interrupted build never looks finished.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
from pathlib import Path

from sandbox import layout, proc

log = logging.getLogger("sandbox.gobuild")

KUBERNETES_COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler",
                       "kubelet", "kube-proxy")
_HINT = ("The build needs the Go toolchain (`go` on PATH) and the Go module proxy; see the "
         "command's output above, fix it, then run `python -m sandbox up` again.")


def kubernetes_dir(version: str = layout.KUBERNETES_VERSION) -> Path:
    return layout.CACHE / f"k8s-v{version}"


def kubernetes_binary(command: str, version: str = layout.KUBERNETES_VERSION) -> Path:
    return kubernetes_dir(version) / command


def _go_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {"GOFLAGS": "-mod=mod", "GOTOOLCHAIN": os.environ.get("GOTOOLCHAIN", "local")}
    env.update(extra or {})
    return env


def _staging(target: Path) -> Path:
    """An empty folder beside TARGET to build into."""
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    return staging


def _finish(staging: Path, target: Path) -> None:
    """Move a finished build into place (the cache folder appears only when complete)."""
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)


def go_install(component: str, package: str, version: str, target: Path, binary: str,
               ldflags: str = "-s -w") -> Path:
    """`GOBIN=TARGET go install -trimpath -ldflags LDFLAGS PACKAGE@VERSION`, once."""
    wanted = target / binary
    if wanted.exists():
        return wanted
    staging = _staging(target)
    log.info("building %s %s with go install (a few minutes, once)", package, version)
    proc.run(component, ["go", "install", "-trimpath", "-ldflags", ldflags,
                         f"{package}@{version}"],
             env=_go_env({"GOBIN": str(staging), "GOFLAGS": ""}), timeout=1800, hint=_HINT)
    _finish(staging, target)
    return wanted


def _staging_modules(kubernetes_gomod: str) -> list[str]:
    """The k8s.io modules that Kubernetes's own go.mod requires at v0.0.0."""
    return sorted(set(re.findall(r"^\s*(k8s\.io/[\w./-]+) v0\.0\.0\s*$", kubernetes_gomod,
                                 flags=re.MULTILINE)))


def _go_directive(kubernetes_gomod: str) -> str:
    found = re.search(r"^go (\S+)$", kubernetes_gomod, flags=re.MULTILINE)
    return found.group(1) if found else "1.24"


def kubernetes_gomod(version: str, kubernetes_gomod_text: str) -> str:
    """The go.mod of our build module: require Kubernetes, pin its staging modules."""
    minor = version.split(".")[1]
    lines = ["module wp-sandbox/kubernetes-build", "",
             f"go {_go_directive(kubernetes_gomod_text)}", "",
             f"require k8s.io/kubernetes v{version}", ""]
    lines += [f"replace {module} => {module} v0.{minor}.{version.split('.')[2]}"
              for module in _staging_modules(kubernetes_gomod_text)]
    return "\n".join(lines) + "\n"


def build_kubernetes(component: str, version: str = layout.KUBERNETES_VERSION) -> Path:
    """Build the five node binaries of Kubernetes VERSION into the cache, once."""
    target = kubernetes_dir(version)
    if all((target / command).exists() for command in KUBERNETES_COMMANDS):
        return target
    workdir = layout.CACHE / "build" / f"kubernetes-v{version}"
    workdir.mkdir(parents=True, exist_ok=True)
    log.info("building Kubernetes v%s from the Go module proxy (about 5 minutes, once)",
             version)

    downloaded = proc.run(component, ["go", "mod", "download", "-json",
                                      f"k8s.io/kubernetes@v{version}"],
                          env=_go_env({"GOFLAGS": ""}), cwd=workdir, timeout=1800, hint=_HINT)
    upstream = Path(json.loads(downloaded.stdout)["Dir"]) / "go.mod"
    (workdir / "go.mod").write_text(kubernetes_gomod(version, upstream.read_text()))
    (workdir / "go.sum").touch()

    packages = [f"k8s.io/kubernetes/cmd/{command}" for command in KUBERNETES_COMMANDS]
    proc.run(component, ["go", "get", *(f"{package}@v{version}" for package in packages)],
             env=_go_env(), cwd=workdir, timeout=1800, hint=_HINT)

    major, minor = version.split(".")[:2]
    stamp = "k8s.io/component-base/version"
    build_date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    ldflags = " ".join(["-s -w", f"-X {stamp}.gitVersion=v{version}",
                        f"-X {stamp}.gitMajor={major}", f"-X {stamp}.gitMinor={minor}",
                        f"-X {stamp}.gitTreeState=clean", f"-X {stamp}.buildDate={build_date}"])
    staging = _staging(target)
    proc.run(component, ["go", "build", "-trimpath", "-ldflags", ldflags, "-o",
                         f"{staging}/", *packages],
             env=_go_env(), cwd=workdir, timeout=3600, hint=_HINT)
    _finish(staging, target)
    return target


def build_static(component: str, source: Path, target: Path, binary: str) -> Path:
    """Build the Go program in SOURCE (a module of our own) static into TARGET, once."""
    wanted = target / binary
    if wanted.exists():
        return wanted
    staging = _staging(target)
    proc.run(component, ["go", "build", "-trimpath", "-ldflags", "-s -w", "-o",
                         str(staging / binary), "."],
             env=_go_env({"CGO_ENABLED": "0", "GOFLAGS": ""}), cwd=source, timeout=600,
             hint=_HINT)
    _finish(staging, target)
    return wanted
