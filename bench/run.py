"""The suite's speed, measured on the sandbox in one run, each figure against a floor.

    .venv/bin/python bench/run.py            # everything (takes a few minutes)
    .venv/bin/python bench/run.py --quick    # skip the cold phases (down/up, reset)

A floor is the least the same work could cost on this machine, measured in the same run:
collection against a bare `pytest --version`; the smoke run against the same HTTP
requests made with curl plus one bare headless Chromium page load; the rest against the
targets the project set itself.  "The same HTTP requests" are read from the smoke run's
own log (the suite logs one line per call to the cluster, the app and the registry), and
its reads (GET, HEAD) are replayed by one curl process, each with the host, trust root and
client certificate it had; an answer curl could not get is reported, since it would make
the floor too low.
The cold phases tear the sandbox down and reset the workplan's state, then converge it
again, so run the bench on a sandbox you can spare.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
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
KUBECONFIG = ROOT / ".sandbox" / "kubeconfig" / "suite.yaml"
CALL = re.compile(r"\b(GET|HEAD|POST|PUT|PATCH|DELETE) (https://[^\s?]+) -> \d{3}\b")


@dataclass
class Figure:
    name: str
    seconds: float
    floor: float | None
    target: float | None
    unit: str = "s"
    ratio_target: float | None = None  # at most this many times the floor

    def missed(self) -> list[str]:
        """The targets this figure misses, in words."""
        missed = []
        if self.target is not None and self.seconds > self.target:
            missed.append(f"≤ {self.target:g}{self.unit}")
        if self.ratio_target and self.floor and self.seconds > self.ratio_target * self.floor:
            missed.append(f"≤ {self.ratio_target:g}x its floor")
        return missed

    def line(self) -> str:
        ratio = f"{self.seconds / self.floor:6.1f}x" if self.floor else "      -"
        floor = f"{self.floor:8.2f}" if self.floor else "       -"
        targets = [f"≤ {self.target:g}{self.unit}"] if self.target is not None else []
        targets += [f"≤ {self.ratio_target:g}x"] if self.ratio_target else []
        verdict = "" if not targets else ("ok" if not self.missed() else
                                          "MISSED " + " and ".join(self.missed()))
        return (f"{self.name:<38} {self.seconds:9.2f}{self.unit:<4} floor {floor}  ratio "
                f"{ratio}  {', '.join(targets):<16} {verdict}")


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


def recorded_calls(log_file: Path) -> list[tuple[str, str]]:
    """(method, URL) of every HTTP call the suite logged, in order."""
    calls = []
    for line in log_file.read_text(errors="replace").splitlines():
        found = CALL.search(line)
        if found:
            calls.append((found.group(1), found.group(2)))
    return calls


def kube_client_files(folder: Path) -> tuple[str, list[str]]:
    """The suite's cluster server and the curl options for its CA and client certificate."""
    import yaml  # the suite's own dependency

    config = yaml.safe_load(KUBECONFIG.read_text())
    context = next(c["context"] for c in config["contexts"]
                   if c["name"] == config["current-context"])
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
    files = {}
    for key, source, name in (("certificate-authority-data", cluster, "ca.crt"),
                              ("client-certificate-data", user, "client.crt"),
                              ("client-key-data", user, "client.key")):
        if not source.get(key):
            raise SystemExit(f"bench: {KUBECONFIG} has no {key} for its current context; the "
                             "floor replays the suite's calls with the sandbox's client "
                             "certificate. Bring the sandbox up again (`python -m sandbox up`).")
        path = folder / name
        path.touch(mode=0o600)
        path.write_bytes(base64.b64decode(source[key]))
        files[name] = str(path)
    return cluster["server"], [f'cacert = "{files["ca.crt"]}"', f'cert = "{files["client.crt"]}"',
                               f'key = "{files["client.key"]}"']


def curl_floor(calls: list[tuple[str, str]]) -> tuple[float, int, int]:
    """Replay the reads among CALLS with one curl: (seconds, answered, not answered).

    Only GET and HEAD are replayed: a write sent again without its body would be refused
    at once (too cheap to count) and, with the suite's certificate, is not the bench's to
    send.
    """
    reads = [(method, url) for method, url in calls if method in ("GET", "HEAD")]
    with tempfile.TemporaryDirectory(prefix="bench-curl-") as folder:
        server, kube_options = kube_client_files(Path(folder))
        web_options = [f'cacert = "{CA}"', f'resolve = "{HOST}:443:{NODE}"',
                       f'resolve = "{REGISTRY}:443:{NODE}"']
        config = []
        for method, url in reads:
            options = kube_options if url.startswith(server) else web_options
            config += [f'url = "{url}"', "head" if method == "HEAD" else "get",
                       'output = "/dev/null"', 'write-out = "%{http_code}\\n"', "silent",
                       "max-time = 30", *options, "next"]
        began = time.monotonic()
        done = subprocess.run(["curl", "--config", "-"], input="\n".join(config[:-1]) + "\n",
                              capture_output=True, text=True, timeout=300, check=False)
        seconds = time.monotonic() - began
    answered = sum(1 for code in done.stdout.split() if code != "000")
    return seconds, answered, len(reads) - answered


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
    # Measured as an operator's machine runs the suite: with Python's bytecode caches.
    # (This workplace's machines set PYTHONDONTWRITEBYTECODE, which makes every run
    # compile the suite and pytest rewrite its assertions anew: about 0.3 s a run.)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    figures: list[Figure] = []
    notes: list[str] = []

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
    smoke_log = Path(tempfile.mkdtemp(prefix="bench-smoke-")) / "smoke.log"
    smoke = pytest("features/", "-m", "smoke", f"--log-file={smoke_log}",
                   "--log-file-level=INFO")
    calls = recorded_calls(smoke_log)
    replay, answered, lost = curl_floor(calls)
    browser = chromium_floor()
    smoke_floor = replay + browser
    figures.append(Figure("pytest -m smoke", smoke, smoke_floor, 10, ratio_target=3))
    writes = sum(1 for method, _ in calls if method not in ("GET", "HEAD"))
    notes.append(f"smoke floor: {answered + lost} of the smoke run's {len(calls)} HTTP calls "
                 f"(the reads; {writes} writes not replayed) replayed by curl in {replay:.2f}s"
                 + (f", {lost} NOT answered: the floor is too low" if lost else "")
                 + f"; + one Chromium page load {browser:.2f}s; the smoke run's log: "
                 f"{smoke_log}")
    if not calls:
        notes.append("WARNING: the smoke run logged no HTTP call, so its floor is only the "
                     "page load: did the log format change? (see CALL in bench/run.py)")
    figures.append(Figure("converged full run (pytest features/)", pytest("features/"),
                          None, 60))
    figures.append(Figure("converged --provision (0 changes)",
                          pytest("features/", "--provision"), None, 60))

    print(f"\nbench on {os.uname().nodename}, {os.cpu_count()} cores "
          f"({'quick' if args.quick else 'full'})")
    for figure in figures:
        print(figure.line())
    for note in notes:
        print(note)
    missed = [f"{f.name} ({' and '.join(f.missed())})" for f in figures if f.missed()]
    print(f"\n{len(figures) - len(missed)} met, {len(missed)} missed"
          + (f": {', '.join(missed)}" if missed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
