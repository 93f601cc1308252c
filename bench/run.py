"""The suite's speed, measured on the sandbox in one run, each figure against a floor.

    .venv/bin/python bench/run.py            # everything (takes a few minutes)
    .venv/bin/python bench/run.py --quick    # skip the cold phases (down/up, reset)

A floor is the least the same work could cost on this machine, measured in the same run:
collection against a bare `pytest --version`; the smoke run against the same HTTP
requests made with curl plus one bare headless Chromium page load; the rest against the
targets the project set itself.  The cold phases tear the sandbox down and reset the
workplan's state, then converge it again, so run the bench on a sandbox you can spare.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
HOST = "vergabe-teilnahme.whywhynot.test"
REGISTRY = "gitea.coulomb.test"
NODE = "127.0.0.2"
CA = ROOT / ".sandbox" / "pki" / "web-ca.crt"


@dataclass
class Figure:
    name: str
    seconds: float
    floor: float | None
    target: float | None
    unit: str = "s"

    def line(self) -> str:
        ratio = f"{self.seconds / self.floor:6.1f}x" if self.floor else "      -"
        floor = f"{self.floor:8.2f}" if self.floor else "       -"
        target = f"≤ {self.target:g}{self.unit}" if self.target else ""
        verdict = "" if self.target is None else ("ok" if self.seconds <= self.target
                                                  else "MISSED")
        return (f"{self.name:<38} {self.seconds:9.2f}{self.unit:<4} floor {floor}  ratio "
                f"{ratio}  {target:<10} {verdict}")


def timed(argv: Sequence[str], *, check: bool = True) -> float:
    began = time.monotonic()
    done = subprocess.run(list(argv), cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - began
    if check and done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
        raise SystemExit(f"bench: `{' '.join(argv[:6])}` exited {done.returncode}:\n"
                         + "\n".join(tail))
    return elapsed


def pytest(*args: str, check: bool = True) -> float:
    reports = tempfile.mkdtemp(prefix="bench-reports-")
    return timed([PY, "-m", "pytest", "-q", "-p", "no:randomly", f"--reports-dir={reports}",
                  *args], check=check)


def curl_floor() -> float:
    resolve = ["--resolve", f"{HOST}:443:{NODE}", "--resolve", f"{REGISTRY}:443:{NODE}"]
    urls = [f"https://{HOST}/healthz", f"https://{HOST}/healthz/db",
            f"https://{HOST}/accounts/login/", f"https://{REGISTRY}/v2/"]
    began = time.monotonic()
    for url in urls:
        subprocess.run(["curl", "-s", "-o", "/dev/null", "--cacert", str(CA), *resolve, url],
                       check=False, timeout=30)
    return time.monotonic() - began


def chromium_floor() -> float:
    with tempfile.TemporaryDirectory() as profile:
        return timed(["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu",
                      "--disable-background-networking", "--disable-component-update",
                      "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                      f"--host-resolver-rules=MAP {HOST} {NODE}",
                      "--ignore-certificate-errors", "--dump-dom",
                      f"https://{HOST}/accounts/login/"], check=False)


def sandbox_rss_mib() -> float:
    """Resident memory of every process the sandbox started, their children and its pods."""
    run_dir = ROOT / ".sandbox" / "run"
    roots = set()
    for pid_file in run_dir.glob("*.pid"):
        try:
            roots.add(int(pid_file.read_text().strip()))
        except ValueError:
            continue
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cgroup = (entry / "cgroup").read_text()
            status = (entry / "status").read_text()
        except OSError:
            continue
        session, group = int(stat[3]), int(stat[2])
        ours = session in roots or group in roots or "wp-sandbox" in cgroup \
            or "kubepods" in cgroup
        if ours:
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the cold phases")
    args = parser.parse_args(argv)
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    figures: list[Figure] = []

    figures.append(Figure("sandbox up, warm", timed([PY, "-m", "sandbox", "up"]), None, 60))
    if not args.quick:
        timed([PY, "-m", "sandbox", "down"])
        figures.append(Figure("sandbox up, cold (binaries cached)",
                              timed([PY, "-m", "sandbox", "up"]), None, None))
        timed([PY, "-m", "sandbox", "reset"])
        figures.append(Figure("cold --provision (fresh sandbox)",
                              pytest("features/", "--provision"), None, 360))
    else:
        pytest("features/", "--provision")
    figures.append(Figure("sandbox resident memory", sandbox_rss_mib(), None, 2048, "MiB"))

    floor = timed([PY, "-m", "pytest", "--version"])
    figures.append(Figure("start-up and collection", timed(
        [PY, "-m", "pytest", "--collect-only", "-q", "features/"]), floor, 2))
    smoke_floor = curl_floor() + chromium_floor()
    smoke = pytest("features/", "-m", "smoke")
    figures.append(Figure("pytest -m smoke", smoke, smoke_floor, min(10, 3 * smoke_floor)))
    figures.append(Figure("converged full run (pytest features/)", pytest("features/"),
                          None, 60))
    figures.append(Figure("converged --provision (0 changes)",
                          pytest("features/", "--provision"), None, 60))

    print(f"\nbench on {os.uname().nodename}, {os.cpu_count()} cores "
          f"({'quick' if args.quick else 'full'})")
    for figure in figures:
        print(figure.line())
    missed = [f.name for f in figures if f.target is not None and f.seconds > f.target]
    print(f"\n{len(figures) - len(missed)} met, {len(missed)} missed"
          + (f": {', '.join(missed)}" if missed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
