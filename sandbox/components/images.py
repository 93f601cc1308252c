"""Base images and the podman the sandbox builds with.

The images are look-alikes, not the official Docker Hub images: they carry the official
names (`docker.io/library/python:3.13-slim`, `node:20-slim`, `postgres:17`) so that a
Dockerfile written for production builds here unchanged, but their contents are Debian
packages from one Debian release (`layout.BASE_IMAGE_SUITE`) put together with
debootstrap: Python and pip from Debian in /usr/bin (not a CPython built into
/usr/local), Node and npm from Debian, and for `postgres:17` only the client (psql,
pg_dump), not the server and its entrypoint.  Each image trusts this machine's CA bundle
(the TLS-intercepting proxy's CA among it) and says so through SSL_CERT_FILE, PIP_CERT,
REQUESTS_CA_BUNDLE and NODE_EXTRA_CA_CERTS, the way builds behind a corporate proxy do.

They are built once and kept in podman's storage in the cache, keyed by Debian release,
package list, recipe and the extra CAs; a later `up` builds nothing.  `postgres:17` is
also imported into the sandbox's containerd so that `kubectl run --image=postgres:17`
finds it without any pull.

`.sandbox/bin/podman` is the podman everyone in the sandbox uses: its own storage and
configuration (never the machine's /etc/containers), Docker Hub and friends blocked, the
sandbox's hosts file in a private mount namespace (gitea.coulomb.test is 127.0.0.2), and
a trust bundle that adds the sandbox web CA for pushes to the registry.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from sandbox import layout, pki, proc
from sandbox.components import containerd
from sandbox.components.base import Component
from sandbox.errors import SandboxError
from sandbox.kube import write_file

log = logging.getLogger("sandbox.images")

NAME = "images"
#: Where Debian packages come from: the same mirror this machine's apt uses.
DEBIAN_MIRROR = "http://deb.debian.org/debian"
#: Bump when the way an image is put together changes (part of the cache key).
RECIPE = 1
CACHE_LABEL = "io.wp-sandbox.cache-key"
HOST_TRUST = Path(os.environ.get("SSL_CERT_FILE") or "/etc/ssl/certs/ca-certificates.crt")
IMAGE_TRUST = "/etc/ssl/certs/ca-certificates.crt"  # the bundle's path inside the images

PODMAN_CACHE = layout.CACHE / "podman"
BUILD_CACHE = layout.CACHE / "images"
CONTAINERS_ETC = layout.ETC / "containers"
CONTAINERS_CONF = CONTAINERS_ETC / "containers.conf"
STORAGE_CONF = CONTAINERS_ETC / "storage.conf"
REGISTRIES_CONF = CONTAINERS_ETC / "registries.conf"
TRUST_BUNDLE = CONTAINERS_ETC / "trust-bundle.crt"
AUTH_FILE = layout.SECRETS / "podman-auth.json"
HOSTS = containerd.HOSTS
WRAPPER = layout.BIN / "podman"
REAL_PODMAN = "/usr/bin/podman"

#: Registries the sandbox must never pull from: the look-alikes stand in for them.
BLOCKED_REGISTRIES = ("docker.io", "quay.io", "ghcr.io", "gcr.io", "registry.k8s.io",
                      "registry.fedoraproject.org", "registry.access.redhat.com")

_SHA256 = hashes.SHA256()
_CA_ENV = ("SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS")
_SLIM_PATHS = ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale",
               "usr/share/groff", "usr/share/lintian", "var/lib/apt/lists",
               "var/cache/apt")
_DPKG_SLIM = """\
# Keep the image slim the way the official *-slim images do: no manuals, no docs
# but their copyright files, no translations.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
"""


@dataclass(frozen=True)
class BaseImage:
    """One look-alike: its official name, Debian packages, and how a container starts."""

    name: str
    packages: tuple[str, ...]
    cmd: tuple[str, ...]
    #: (command in the image, text its output must contain) proving the tag is honest
    version_probe: tuple[tuple[str, ...], str]
    #: the variable that carries the probed version, as in the official image
    version_env: str
    env: dict[str, str] = field(default_factory=dict)
    #: installed with apt after debootstrap (debootstrap cannot resolve virtual packages)
    apt_packages: tuple[str, ...] = ()
    in_cluster: bool = False

    @property
    def short(self) -> str:
        return self.name.rsplit("/", 1)[-1].replace(":", "-")


IMAGES: tuple[BaseImage, ...] = (
    BaseImage("docker.io/library/python:3.13-slim",
              ("python3", "python3-venv", "python3-pip", "python-is-python3",
               "ca-certificates"),
              cmd=("python3",), version_probe=(("python3", "--version"), "Python 3.13."),
              version_env="PYTHON_VERSION"),
    BaseImage("docker.io/library/node:20-slim", ("nodejs", "ca-certificates"),
              cmd=("node",), version_probe=(("node", "--version"), "v20."),
              version_env="NODE_VERSION", apt_packages=("npm",)),
    BaseImage("docker.io/library/postgres:17", ("postgresql-client-17", "ca-certificates"),
              cmd=("bash",), version_probe=(("psql", "--version"), "(PostgreSQL) 17."),
              version_env="PG_VERSION", env={"PG_MAJOR": "17"}, in_cluster=True),
)


def podman(*args: str, check: bool = True, timeout: float = 600,
           input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the sandbox's podman (the wrapper) with ARGS."""
    return proc.run(NAME, [str(WRAPPER), *args], check=check, timeout=timeout, input=input)


def _toml_list(values: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(json.dumps(value) for value in values) + "]"


def write_config() -> None:
    """containers.conf, storage.conf, registries.conf, trust bundle, hosts file, wrapper."""
    for folder in (CONTAINERS_ETC, CONTAINERS_ETC / "networks", layout.BIN,
                   PODMAN_CACHE / "tmp"):
        folder.mkdir(parents=True, exist_ok=True)
    layout.SECRETS.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not AUTH_FILE.exists():  # podman refuses a REGISTRY_AUTH_FILE that is not there
        AUTH_FILE.touch(mode=0o600)
        AUTH_FILE.write_text('{"auths": {}}\n')
    tmp = json.dumps(str(PODMAN_CACHE / "tmp"))
    write_file(CONTAINERS_CONF, f"""\
# podman configuration of the sandbox (written by sandbox/components/images.py).
[containers]
# this machine refuses raising RLIMIT_NOFILE inside containers
default_ulimits = []

[engine]
# crun fails on this machine's hybrid cgroup setup; runc works
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = {tmp}
image_copy_tmp_dir = {tmp}

[network]
network_config_dir = {json.dumps(str(CONTAINERS_ETC / "networks"))}
""")
    write_file(STORAGE_CONF, f"""\
# podman storage of the sandbox: in the cache, so that a fresh clone reuses the images.
[storage]
driver = "overlay"
graphroot = {json.dumps(str(PODMAN_CACHE / "storage"))}
runroot = {json.dumps(str(PODMAN_CACHE / "run"))}
""")
    blocked = "".join(f'\n[[registry]]\nlocation = "{host}"\nblocked = true\n'
                      for host in BLOCKED_REGISTRIES)
    write_file(REGISTRIES_CONF, f"""\
# Short names resolve to the look-alike base images in local storage; public registries
# are blocked so that nothing is pulled from outside the sandbox.
unqualified-search-registries = ["docker.io"]
short-name-mode = "permissive"
{blocked}""")
    web_ca, _ = pki.web_ca()
    write_file(TRUST_BUNDLE, HOST_TRUST.read_text() + "\n" + web_ca.read_text())
    write_file(HOSTS, containerd.hosts_text())  # the same file containerd's namespace uses
    write_file(WRAPPER, _wrapper_text(), mode=0o755)


def _wrapper_text() -> str:
    exports = {"CONTAINERS_CONF": CONTAINERS_CONF, "CONTAINERS_STORAGE_CONF": STORAGE_CONF,
               "CONTAINERS_REGISTRIES_CONF": REGISTRIES_CONF, "REGISTRY_AUTH_FILE": AUTH_FILE,
               "SSL_CERT_FILE": TRUST_BUNDLE}
    lines = "".join(f"export {key}={shlex.quote(str(value))}\n"
                    for key, value in exports.items())
    inner = 'mount --bind "$0" /etc/hosts && exec ' + REAL_PODMAN + ' "$@"'
    return f"""\
#!/bin/sh
# podman for the sandbox (written by sandbox/components/images.py; do not edit).
# Own storage and configuration, never the machine's /etc/containers; the sandbox's hosts
# file over /etc/hosts in a private mount namespace (the machine's stays as it is); the
# machine's CA bundle plus the sandbox web CA, so pushes to {layout.GITEA_HOST} verify.
# The mount namespace ends with the command: run containers in the foreground (--rm).
{lines}exec unshare --mount --propagation slave -- /bin/sh -c {shlex.quote(inner)} \\
  {shlex.quote(str(HOSTS))} "$@"
"""


def extra_cas() -> list[x509.Certificate]:
    """The machine's trusted CAs that Debian's ca-certificates does not ship (the proxy's)."""
    mozilla = Path("/usr/share/ca-certificates/mozilla")
    known = {block for crt in mozilla.glob("*.crt") for block in _pem_blocks(crt.read_text())}
    return [x509.load_pem_x509_certificate(block.encode())
            for block in _pem_blocks(HOST_TRUST.read_text()) if block not in known]


def _pem_blocks(text: str) -> list[str]:
    """The certificates of a PEM bundle, each normalized to one comparable string."""
    begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
    blocks = []
    for part in text.split(begin)[1:]:
        body = "".join(part.split(end)[0].split())
        blocks.append(f"{begin}\n{body}\n{end}\n")
    return blocks


def cache_key(image: BaseImage, cas: list[x509.Certificate]) -> str:
    recipe = {"suite": layout.BASE_IMAGE_SUITE, "mirror": DEBIAN_MIRROR, "recipe": RECIPE,
              "packages": sorted(image.packages), "apt": sorted(image.apt_packages),
              "cmd": image.cmd, "env": image.env, "version_env": image.version_env,
              "cas": sorted(cert.fingerprint(_SHA256).hex() for cert in cas)}
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:20]


def built_key(image: BaseImage) -> str | None:
    """The cache key of IMAGE in podman's storage, or None when it is not there."""
    done = podman("image", "inspect", "--format", f'{{{{index .Labels "{CACHE_LABEL}"}}}}',
                  image.name, check=False)
    return done.stdout.strip() if done.returncode == 0 else None


class BaseImages(Component):
    """Look-alike base images (Debian packages under official names), and podman."""

    name = NAME
    start_deadline = 60.0

    def version(self) -> str:
        return f"debian {layout.BASE_IMAGE_SUITE}"

    def address(self) -> str:
        return str(WRAPPER)

    def log(self) -> Path | None:
        return proc.log_path(NAME)

    def build(self) -> None:
        write_config()
        cas = extra_cas()
        for image in IMAGES:
            key = cache_key(image, cas)
            if built_key(image) == key:
                continue
            began = time.monotonic()
            log.info("building look-alike %s from Debian %s (once; cached)", image.name,
                     layout.BASE_IMAGE_SUITE)
            _build(image, key, cas)
            log.info("built %s in %.0fs", image.name, time.monotonic() - began)

    def start(self) -> None:
        write_config()
        if not containerd.SOCKET.exists():
            log.info("containerd is not running; base images not imported into the cluster")
            return
        for image in IMAGES:
            if image.in_cluster:
                _import_into_containerd(image)

    def healthy(self) -> bool | str:
        if not os.access(WRAPPER, os.X_OK):
            return f"the podman wrapper {WRAPPER} is missing"
        cas = extra_cas()
        for image in IMAGES:
            if built_key(image) != cache_key(image, cas):
                return f"image {image.name} is missing or outdated"
        return True


def _build(image: BaseImage, key: str, cas: list[x509.Certificate]) -> None:
    """debootstrap a root file system, adjust it, and import it into podman as IMAGE."""
    (BUILD_CACHE / "debs").mkdir(parents=True, exist_ok=True)
    rootfs = BUILD_CACHE / f"rootfs-{image.short}"
    tarball = BUILD_CACHE / f"{image.short}.tar"
    _remove_tree(rootfs)  # left over from an interrupted build
    try:
        _logged([
            "debootstrap", "--variant=minbase", "--include=" + ",".join(image.packages),
            f"--cache-dir={BUILD_CACHE / 'debs'}", layout.BASE_IMAGE_SUITE, str(rootfs),
            DEBIAN_MIRROR], hint=f"debootstrap could not install {image.name}'s packages "
            f"from {DEBIAN_MIRROR}; check that the mirror is reachable (`apt-get update`).")
        if image.apt_packages:
            _logged(["chroot", str(rootfs), "apt-get", "update", "-q"])
            _logged(["chroot", str(rootfs), "apt-get", "install", "-y", "-q",
                     "--no-install-recommends", *image.apt_packages])
        _customize(rootfs, cas)
        version = _check_version(image, rootfs)
        _logged(["tar", "--numeric-owner", "--exclude=./dev/*", "--exclude=./proc/*",
                 "--exclude=./sys/*", "-C", str(rootfs), "-cf", str(tarball), "."])
        _import(image, key, version, tarball)
    finally:
        _remove_tree(rootfs)
        tarball.unlink(missing_ok=True)


def _logged(argv: list[str], *, hint: str = "", timeout: float = 1800) -> None:
    """Run ARGV with its output appended to the images log (debootstrap talks a lot)."""
    logfile = proc.log_path(NAME)
    logfile.parent.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    with open(logfile, "a") as out:
        out.write(f"\n$ {shlex.join(argv)}\n")
        out.flush()
        try:
            done = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, timeout=timeout, check=False,
                                  env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        except subprocess.TimeoutExpired as exc:
            raise SandboxError(NAME, f"`{shlex.join(argv[:3])}…` did not finish within "
                               f"{timeout:.0f}s", log=logfile, hint=hint) from exc
    log.info("RUN %s: %s -> rc=%s in %.1fs", NAME, shlex.join(argv[:3]), done.returncode,
             time.monotonic() - began)
    if done.returncode != 0:
        raise SandboxError(NAME, f"`{shlex.join(argv[:3])}…` exited {done.returncode}; last "
                           f"lines of the log:\n{proc.tail(logfile, 6)}", log=logfile,
                           hint=hint)


def _customize(rootfs: Path, cas: list[x509.Certificate]) -> None:
    """Make the tree an image: no host names in it, slim, the machine's extra CAs trusted."""
    for name in ("etc/resolv.conf", "etc/hostname"):  # the runtime provides both
        (rootfs / name).unlink(missing_ok=True)  # never write through a link to the host
        (rootfs / name).write_text("")
    (rootfs / "etc/dpkg/dpkg.cfg.d/sandbox-slim").write_text(_DPKG_SLIM)
    for marker in rootfs.glob("usr/lib/python3*/EXTERNALLY-MANAGED"):
        marker.unlink()  # the official image lets pip install system-wide; so does ours
    local = rootfs / "usr/local/share/ca-certificates"
    local.mkdir(parents=True, exist_ok=True)
    for number, cert in enumerate(cas):
        (local / f"machine-trust-{number}.crt").write_bytes(
            cert.public_bytes(serialization.Encoding.PEM))
    if cas:
        _logged(["chroot", str(rootfs), "update-ca-certificates"])
    for top in _SLIM_PATHS:
        for path in sorted((rootfs / top).rglob("*"), reverse=True):
            keep = path.is_dir() and not path.is_symlink() or (
                top == "usr/share/doc" and path.name == "copyright")
            if not keep:
                path.unlink()


def _check_version(image: BaseImage, rootfs: Path) -> str:
    """Run the image's version probe; its output must match the tag (honest naming)."""
    argv, expected = image.version_probe
    done = proc.run(NAME, ["chroot", str(rootfs), *argv], check=False)
    found = (done.stdout + done.stderr).strip()
    if expected not in found:
        raise SandboxError(NAME, f"{image.name} would be misnamed: `{shlex.join(argv)}` in it "
                           f"says {found!r}, expected {expected!r}", hint="Debian "
                           f"{layout.BASE_IMAGE_SUITE} changed that package's version; pick "
                           "the tag that matches it in sandbox/components/images.py.")
    number = re.search(r"\d+(\.\d+)+", found)
    return number.group(0) if number else "unknown"


def _import(image: BaseImage, key: str, version: str, tarball: Path) -> None:
    path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    changes = [f"CMD {json.dumps(list(image.cmd))}", f"ENV PATH={path}", "ENV LANG=C.UTF-8",
               *(f"ENV {name}={IMAGE_TRUST}" for name in _CA_ENV),
               *(f"ENV {name}={value}" for name, value in image.env.items()),
               f"ENV {image.version_env}={version}",
               f"LABEL {CACHE_LABEL}={key}",
               f"LABEL io.wp-sandbox.look-alike=debian-{layout.BASE_IMAGE_SUITE}-{version}"]
    argv = ["import", "--message", f"look-alike built from Debian {layout.BASE_IMAGE_SUITE}"]
    for change in changes:
        argv += ["--change", change]
    replaced = podman("image", "inspect", "--format", "{{.Id}}", image.name, check=False)
    podman(*argv, str(tarball), image.name)
    if replaced.returncode == 0:  # the outdated look-alike, now untagged
        podman("image", "rm", replaced.stdout.strip(), check=False)


def _remove_tree(path: Path) -> None:
    """Delete a build tree, but never across a mount point (an interrupted chroot's /proc)."""
    if not path.exists():
        return
    mounted = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()
               if line.split()[1].startswith(f"{path}/")]
    if mounted:
        raise SandboxError(NAME, f"the build tree {path} still has mounts "
                           f"({', '.join(mounted)})", hint=f"Unmount them (`umount "
                           f"{mounted[0]}`), then run `python -m sandbox up` again.")
    shutil.rmtree(path)


def _import_into_containerd(image: BaseImage) -> None:
    """Copy IMAGE into the cluster's containerd (once per cache key)."""
    key = built_key(image)
    stamp = layout.DATA / "images" / f"{image.short}.in-cluster"
    ctr = ["ctr", "--address", str(containerd.SOCKET), "--namespace", containerd.NAMESPACE]
    listed = proc.run(NAME, [*ctr, "images", "ls", "-q", f"name=={image.name}"], check=False)
    if image.name in listed.stdout.split() and stamp.exists() and stamp.read_text() == key:
        return
    stamp.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=BUILD_CACHE) as scratch:
        archive = Path(scratch) / "image.tar"
        podman("save", "--format", "docker-archive", "--output", str(archive), image.name)
        proc.run(NAME, [*ctr, "images", "import", str(archive)],
                 hint="Is the sandbox's containerd healthy? See `python -m sandbox status`.")
    stamp.write_text(key or "")
    log.info("imported %s into containerd (namespace k8s.io)", image.name)
