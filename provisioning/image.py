"""The app image: built with the target's builder, tagged with the app's git sha, pushed.

The tag is the first 12 characters of the app repository's HEAD commit, so the same
commit always gives the same reference and a changed commit a new one.  Nothing is
rebuilt while the tag exists; nothing is pushed while the registry has the tag.
Credentials reach the builder on standard input, never on the command line.
"""

from __future__ import annotations

import json
from pathlib import Path

from fixtures import tools
from fixtures.registry import Registry
from fixtures.run import run_command
from provisioning.base import Provisioner
from provisioning.repository import head
from suite.state import Change
from suite.targets import ROOT, Target


def tag_for(app_repo: Path) -> str:
    return head(app_repo)[:12]


def builder(target: Target) -> str:
    value = str(target.require("registry.builder"))
    if "/" in value:
        path = Path(value)
        return str(path if path.is_absolute() else ROOT / path)
    return tools.find(value)


def reference(target: Target, app_repo: Path) -> str:
    return f"{target.image_repository()}:{tag_for(app_repo)}"


def local_image(target: Target, ref: str) -> dict[str, object] | None:
    result = run_command([builder(target), "image", "inspect", ref], check=False, timeout=60)
    if not result.ok:
        return None
    data = json.loads(result.stdout)
    return data[0] if isinstance(data, list) and data else None


class BuiltImage(Provisioner):
    """The image exists in the builder's local store for the app's current commit."""

    name = "image-build"
    task = "T02"

    def __init__(self, target: Target, app_repo: Path) -> None:
        self.target = target
        self.app_repo = app_repo

    def plan(self) -> list[Change]:
        ref = reference(self.target, self.app_repo)
        if local_image(self.target, ref) is not None:
            return []
        return [self.change(f"image {ref}", "create",
                            f"build {self.app_repo.name} at {tag_for(self.app_repo)} with "
                            f"{Path(builder(self.target)).name}")]

    def apply(self, changes: list[Change]) -> None:
        ref = reference(self.target, self.app_repo)
        tool = builder(self.target)
        # podman drops HEALTHCHECK from OCI-format images; the docker format keeps it
        fmt = ["--format", "docker"] if Path(tool).name == "podman" else []
        run_command([tool, "build", *fmt, "-t", ref, "-f", self.app_repo / "Dockerfile",
                     self.app_repo], timeout=1800, what=f"building {ref}")


class PublishedImage(Provisioner):
    """The registry has the tag of the app's current commit."""

    name = "image-push"
    task = "T03"

    def __init__(self, target: Target, app_repo: Path, registry: Registry) -> None:
        self.target = target
        self.app_repo = app_repo
        self.registry = registry

    def plan(self) -> list[Change]:
        tag = tag_for(self.app_repo)
        if tag in self.registry.tags(self.registry.repository()):
            return []
        return [self.change(f"image {reference(self.target, self.app_repo)}", "create",
                            f"push tag {tag} to {self.registry.host}")]

    def apply(self, changes: list[Change]) -> None:
        ref = reference(self.target, self.app_repo)
        if local_image(self.target, ref) is None:
            BuiltImage(self.target, self.app_repo).apply([])
        user, token = self.registry.credentials("push")
        run_command([builder(self.target), "login", "--username", user, "--password-stdin",
                     self.registry.host], input=token + "\n", timeout=60,
                    what=f"logging in to {self.registry.host}")
        run_command([builder(self.target), "push", ref], timeout=900, what=f"pushing {ref}")
