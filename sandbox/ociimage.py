"""Single-layer container images written with the standard library, no image builder needed.

`write_image` packs files into one layer and writes a docker-archive tarball
(`manifest.json`, an image config, the layer) that `ctr images import` accepts.  The
output is deterministic (fixed timestamps and owners), so the same inputs give the same
image digest and an import can be skipped when the image is already there.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Entry:
    """One file of the layer: a copy of SOURCE, literal CONTENT, or a symlink to LINK.

    A PATH ending in "/" is a directory with MODE.
    """

    path: str
    source: Path | None = None
    content: bytes | None = None
    link: str | None = None
    mode: int = 0o755


@dataclass
class Image:
    """What goes into an image: its name, files, and how a container starts."""

    name: str
    entries: list[Entry] = field(default_factory=list)
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=lambda: ["PATH=/bin:/usr/bin:/sbin:/usr/sbin"])
    user: str = ""


def _parents(path: str) -> list[str]:
    parts = path.strip("/").split("/")[:-1]
    return ["/".join(parts[: index + 1]) for index in range(len(parts))]


def _info(name: str, kind: bytes, mode: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def layer_bytes(entries: list[Entry]) -> bytes:
    """The uncompressed layer tarball for ENTRIES (directories added as needed)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        made: set[str] = set()
        for entry in sorted(entries, key=lambda item: item.path):
            for parent in _parents(entry.path):
                if parent not in made:
                    tar.addfile(_info(parent + "/", tarfile.DIRTYPE, 0o755))
                    made.add(parent)
            name = entry.path.strip("/")
            if entry.path.endswith("/"):
                if name not in made:
                    tar.addfile(_info(name + "/", tarfile.DIRTYPE, entry.mode))
                    made.add(name)
                continue
            if entry.link is not None:
                link = _info(name, tarfile.SYMTYPE, 0o777)
                link.linkname = entry.link
                tar.addfile(link)
                continue
            data = entry.content if entry.content is not None else (
                entry.source.read_bytes() if entry.source else b"")
            info = _info(name, tarfile.REGTYPE, entry.mode)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def write_image(image: Image, target: Path) -> str:
    """Write IMAGE as a docker-archive tarball to TARGET; return the image config digest."""
    layer = layer_bytes(image.entries)
    layer_digest = hashlib.sha256(layer).hexdigest()
    config = {
        "architecture": "amd64", "os": "linux", "created": "1970-01-01T00:00:00Z",
        "config": {"Entrypoint": image.entrypoint or None, "Cmd": image.cmd or None,
                   "Env": image.env, "User": image.user, "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{layer_digest}"]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "sandbox.ociimage"}],
    }
    config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    config_digest = hashlib.sha256(config_bytes).hexdigest()
    manifest = [{"Config": f"{config_digest}.json", "RepoTags": [image.name],
                 "Layers": [f"{layer_digest}/layer.tar"]}]

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with tarfile.open(partial, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in ((f"{layer_digest}/layer.tar", layer),
                           (f"{config_digest}.json", config_bytes),
                           ("manifest.json", json.dumps(manifest).encode())):
            info = _info(name, tarfile.REGTYPE, 0o644)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    partial.rename(target)
    return f"sha256:{config_digest}"
