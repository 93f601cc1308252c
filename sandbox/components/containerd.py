"""The node's container runtime: a containerd of the sandbox's own, not the system service.

It has its own configuration, data root (.sandbox/data/containerd), state and socket
under /run/wp-sandbox, runs containers with runc (cgroupfs) and plugs pods into the
sandbox bridge with the CNI configuration of sandbox.components.network.

It runs in a mount namespace of its own whose mounts are slaves of the host's, so that:

* a hosts file of the sandbox (.sandbox/etc/hosts) is bind-mounted over /etc/hosts for
  containerd only: image pulls resolve the sandbox's registry name
  (gitea.coulomb.test -> 127.0.0.2) without touching the machine's /etc/hosts;
* volumes the kubelet mounts later (secrets, service-account tokens) still reach
  containers.  The host's / is a private mount, so the kubelet's root folder is made a
  shared bind mount first; containerd's copy of it receives the kubelet's mounts.

The pod sandbox ("pause") image is our own: sandbox/pause is a tiny Go program built
static and packed into an image by sandbox.ociimage, then imported with `ctr`.  A
busybox image made from Debian's busybox-static (when installed) is imported too, for
tests and debugging pods.  containerd and its shims run in a cgroup of their own and
runc puts containers in the kubelet's `kubepods` cgroups, so `stop` kills exactly the
processes listed there, removes those cgroups, and unmounts the kubelet folder.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path

from sandbox import gobuild, kube, layout, ociimage, proc
from sandbox.components.base import Component
from sandbox.components.network import CNI_DIR

CONFIG = layout.ETC / "containerd" / "config.toml"
CERTS_D = layout.ETC / "containerd" / "certs.d"
HOSTS = layout.ETC / "hosts"
ROOT_DIR = layout.DATA / "containerd"
RUN_DIR = Path("/run/wp-sandbox")
STATE_DIR = RUN_DIR / "containerd"
RUNC_ROOT = RUN_DIR / "runc"
SOCKET = RUN_DIR / "containerd.sock"
KUBELET_ROOT = layout.DATA / "kubelet"
NAMESPACE = "k8s.io"

PAUSE_VERSION = "1.0"
PAUSE_IMAGE = f"localhost/wp-sandbox/pause:{PAUSE_VERSION}"
PAUSE_SOURCE = layout.ROOT / "sandbox" / "pause"
BUSYBOX = Path("/bin/busybox")
BUSYBOX_IMAGE = "localhost/wp-sandbox/busybox:1.35"
IMAGES = layout.CACHE / "node-images"
CGROUP_ROOT = Path("/sys/fs/cgroup")
#: containerd and its shims run in this (pids controller) cgroup, so `stop` finds them
CONTAINERD_CGROUP = CGROUP_ROOT / "pids" / "wp-sandbox-containerd"
#: the cgroup tree in which the kubelet puts pods (runc moves containers there)
PODS_CGROUP = CGROUP_ROOT / "pids" / "kubepods"


def _toml(value: str) -> str:
    return json.dumps(value)


def config_text() -> str:
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    return f"""# containerd of the railiance sandbox (written by sandbox.components.containerd)
version = 2
root = {_toml(str(ROOT_DIR))}
state = {_toml(str(STATE_DIR))}
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = {_toml(str(SOCKET))}

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = {_toml(str(ROOT_DIR / "opt"))}

[{cri}]
  sandbox_image = {_toml(PAUSE_IMAGE)}
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  netns_mounts_under_state_dir = true
  # root here lacks CAP_SYS_RESOURCE, so an oom_score_adj below containerd's own (the
  # pause container's -998) is refused; clamp it instead of failing the pod sandbox.
  restrict_oom_score_adj = true
  enable_selinux = false

[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[{cri}.containerd.runtimes.runc.options]
  BinaryName = {_toml(shutil.which("runc") or "/usr/sbin/runc")}
  Root = {_toml(str(RUNC_ROOT))}
  SystemdCgroup = false

[{cri}.cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = {_toml(str(CNI_DIR))}
  max_conf_num = 1

[{cri}.registry]
  config_path = {_toml(str(CERTS_D))}
"""


def hosts_text() -> str:
    """The machine's hosts file plus the sandbox's public names."""
    try:
        base = Path("/etc/hosts").read_text()
    except OSError:
        base = "127.0.0.1 localhost\n"
    if not base.endswith("\n"):
        base += "\n"
    return (base + "# railiance sandbox names (visible to the sandbox's containerd only)\n"
            f"{layout.NODE_PUBLIC_IP} {layout.GITEA_HOST} {layout.APP_HOST}\n")


def ctr(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return proc.run("containerd", ["ctr", "--address", str(SOCKET), "--namespace", NAMESPACE,
                                   *args], check=check, timeout=300)


def _mount_points() -> list[str]:
    """Mount points of this mount namespace (octal escapes decoded)."""
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4]
        points.append(point.encode().decode("unicode_escape"))
    return points


def ensure_shared_kubelet_root() -> None:
    """Make the kubelet's root folder a shared mount, so its mounts reach containerd."""
    KUBELET_ROOT.mkdir(parents=True, exist_ok=True)
    if str(KUBELET_ROOT) not in _mount_points():
        proc.run("containerd", ["mount", "--bind", str(KUBELET_ROOT), str(KUBELET_ROOT)])
    proc.run("containerd", ["mount", "--make-rshared", str(KUBELET_ROOT)])


def unmount_below(folder: Path, *, including: bool) -> None:
    """Unmount every mount under FOLDER, deepest first (and FOLDER itself if INCLUDING)."""
    prefix = str(folder).rstrip("/") + "/"
    points = [point for point in _mount_points()
              if point.startswith(prefix) or (including and point == str(folder))]
    for point in sorted(set(points), key=len, reverse=True):
        proc.run("containerd", ["umount", "--lazy", point], check=False)


def pause_image() -> ociimage.Image:
    binary = gobuild.build_static("containerd", PAUSE_SOURCE,
                                  layout.CACHE / f"pause-{PAUSE_VERSION}", "pause")
    return ociimage.Image(PAUSE_IMAGE, [ociimage.Entry("/pause", source=binary)],
                          entrypoint=["/pause"])


def busybox_image() -> ociimage.Image:
    applets = proc.run("containerd", [str(BUSYBOX), "--list"]).stdout.split()
    entries = [ociimage.Entry("/bin/busybox", source=BUSYBOX)]
    entries += [ociimage.Entry(f"/bin/{applet}", link="busybox")
                for applet in applets if applet != "busybox"]
    entries += [
        ociimage.Entry("tmp/", mode=0o1777),
        ociimage.Entry("/etc/passwd", content=b"root:x:0:0:root:/root:/bin/sh\n"
                       b"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n", mode=0o644),
        ociimage.Entry("/etc/group", content=b"root:x:0:\nnogroup:x:65534:\n", mode=0o644),
        ociimage.Entry("/root/", mode=0o700),
    ]
    return ociimage.Image(BUSYBOX_IMAGE, entries, cmd=["sh"])


def _image_tar(image: ociimage.Image) -> Path:
    slug = image.name.rsplit("/", 1)[1].replace(":", "-")
    target = IMAGES / f"{slug}.tar"
    if not target.exists():
        ociimage.write_image(image, target)
    return target


def node_images() -> list[tuple[str, Path]]:
    """The images every node has: (name, image tarball in the cache), built once."""
    images = [pause_image()]
    if BUSYBOX.exists():
        images.append(busybox_image())
    return [(image.name, _image_tar(image)) for image in images]


class Containerd(Component):
    name = "containerd"
    daemons = ("containerd",)
    start_deadline = 60.0

    def version(self) -> str:
        try:
            answer = proc.run(self.name, ["containerd", "--version"], check=False)
        except Exception:  # noqa: BLE001 - status must print
            return "?"
        return answer.stdout.split()[2] if answer.returncode == 0 else "?"

    def address(self) -> str:
        return f"unix://{SOCKET}"

    def build(self) -> None:
        node_images()

    def start(self) -> None:
        for folder in (ROOT_DIR, STATE_DIR, RUNC_ROOT, CERTS_D, CNI_DIR):
            folder.mkdir(parents=True, exist_ok=True)
        changed = kube.write_file(CONFIG, config_text())
        changed = kube.write_file(HOSTS, hosts_text()) or changed
        ensure_shared_kubelet_root()
        if changed and proc.running("containerd"):
            proc.stop("containerd")  # containers keep running; their shims reconnect
        if not proc.running("containerd"):
            SOCKET.unlink(missing_ok=True)
            CONTAINERD_CGROUP.mkdir(exist_ok=True)
            script = (f"echo $$ > {shlex.quote(str(CONTAINERD_CGROUP / 'cgroup.procs'))} && "
                      f"mount --bind {shlex.quote(str(HOSTS))} /etc/hosts && "
                      f"exec containerd --config {shlex.quote(str(CONFIG))}")
            proc.start("containerd", ["unshare", "--mount", "--propagation", "slave",
                                      "sh", "-c", script])
        proc.wait_for(self.name, "the containerd socket", self._answers, deadline=30,
                      name="containerd")
        self._import_images()

    def _answers(self) -> bool | str:
        if not SOCKET.exists():
            return f"no socket {SOCKET} yet"
        done = proc.run(self.name, ["ctr", "--address", str(SOCKET), "version"], check=False,
                        timeout=10)
        return True if done.returncode == 0 else done.stderr.strip()[-200:]

    def _import_images(self) -> None:
        present = set(ctr("images", "list", "--quiet").stdout.split())
        for name, tar in node_images():
            if name not in present:
                ctr("images", "import", str(tar))

    def healthy(self) -> bool | str:
        base = super().healthy()
        if base is not True:
            return base
        answer = self._answers()
        if answer is not True:
            return answer
        if PAUSE_IMAGE not in ctr("images", "list", "--quiet").stdout.split():
            return f"the pause image {PAUSE_IMAGE} is not imported"
        return True

    def stop(self) -> None:
        proc.stop("containerd")
        for group in (PODS_CGROUP, CONTAINERD_CGROUP):
            kill_cgroup(group)
        shutil.rmtree(STATE_DIR, ignore_errors=True)
        shutil.rmtree(RUNC_ROOT, ignore_errors=True)
        for leftover in RUN_DIR.glob("containerd.sock*"):
            leftover.unlink()
        remove_pod_cgroups()
        try:
            CONTAINERD_CGROUP.rmdir()
        except OSError:
            pass
        unmount_below(KUBELET_ROOT, including=True)


def _cgroup_pids(group: Path) -> list[int]:
    pids: list[int] = []
    for procs in group.rglob("cgroup.procs") if group.is_dir() else []:
        pids += [int(line) for line in procs.read_text().split()]
    return pids


def kill_cgroup(group: Path, timeout: float = 10.0) -> None:
    """SIGKILL every process in the cgroup tree GROUP (shims, containers) and wait."""
    deadline = time.monotonic() + timeout
    while (pids := _cgroup_pids(group)) and time.monotonic() < deadline:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.2)


def remove_pod_cgroups() -> None:
    """Remove the (now empty) cgroups the kubelet and runc made under `kubepods`."""
    for controller in CGROUP_ROOT.iterdir():
        top = controller / "kubepods"
        if not top.is_dir():
            continue
        folders = sorted((path for path in top.rglob("*") if path.is_dir()),
                         key=lambda path: len(path.parts), reverse=True)
        for folder in [*folders, top]:
            try:
                folder.rmdir()
            except OSError:
                pass
