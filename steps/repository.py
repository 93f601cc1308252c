"""Steps about repository files: the app's container files, the release files, secrets."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from pytest_bdd import given, parsers, then

from fixtures.database import Database
from fixtures.sops import Sops, recipients, secret_leaves
from provisioning import base
from provisioning.ingress import MANIFEST, manifest_text
from provisioning.release import CHART_DIR, ValuesFile
from provisioning.repository import TEMPLATES, RepoFiles, Wanted, git, is_committed, render
from suite.check import expect
from suite.targets import Target

APP_FILES = (("Dockerfile", "app/Dockerfile"), (".dockerignore", "app/dockerignore"))
README_MARK = "## Container image"
MAKE_INCLUDE = "include make/vergabe-teilnahme.mk"

#: secret-looking assignments in clear text (a SOPS value is ENC[…] and does not match)
CLEAR_SECRET = re.compile(
    r"(?P<key>[A-Za-z_]*(?i:secret_?key|api_?key|access_?key|private_?key|password|passwd|"
    r"token|dsn|database_url|credentials?))\s*[:=]\s*[\"']?"
    r"(?P<value>(?!ENC\[)[A-Za-z0-9+/=_.:@-]{12,})(?=[\s\"',]|$)")
PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----|AGE-SECRET-KEY-1[0-9A-Z]{20,}")
DSN_WITH_PASSWORD = re.compile(r"postgres(?:ql)?://[^:\s/]+:[^@\s]{4,}@")


def ensure_app_files(target: Target) -> None:
    repo = target.path("app.repo")
    wanted = [Wanted(dest, (TEMPLATES / src).read_text(), keep_existing=True)
              for dest, src in APP_FILES]
    wanted.append(Wanted("README.md", (TEMPLATES / "app/README-container.md").read_text(),
                         append_line=True))
    base.ensure(RepoFiles(repo, wanted, name="app-container-files", task="T02",
                          branch=str(target.require("deploy.branch")),
                          message="Add the production container image definition"))


@given("the app repository has the container files")
def app_container_files(target: Target) -> None:
    ensure_app_files(target)


def _read(target: Target, key: str, relpath: str) -> str:
    path = target.path(key) / relpath
    expect(path.is_file(), f"{relpath} in {target.path(key).name}", "no such file",
           "run with --provision to scaffold it.")
    return path.read_text()


@then("the Dockerfile has a Node asset stage and a Python stage")
def dockerfile_stages(target: Target) -> None:
    text = _read(target, "app.repo", "Dockerfile")
    args = dict(re.findall(r"^ARG\s+(\w+)=(\S+)", text, re.M | re.I))
    stages = [re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), image)
              for image in re.findall(r"^FROM\s+(\S+)", text, re.M | re.I)]
    expect(len(stages) >= 2, "a multi-stage Dockerfile", f"{len(stages)} FROM line(s)",
           "split the asset build into its own stage.")
    expect(any("node" in s for s in stages) and any("python" in s for s in stages),
           "a node stage and a python stage", f"stages {stages}",
           "build assets with node (npm ci, npm run build) and run on python.")
    for needle in ("npm ci", "npm run build", "uv sync --frozen", "collectstatic --noinput"):
        expect(needle in text, f"`{needle}` in the Dockerfile", "it is missing",
               "follow the build steps the workplan lists.")


@then("the Dockerfile runs gunicorn on port 8000 as a non-root user with a health check")
def dockerfile_runtime(target: Target) -> None:
    text = _read(target, "app.repo", "Dockerfile")
    users = re.findall(r"^USER\s+(\S+)", text, re.M | re.I)
    expect(bool(users) and users[-1].split(":")[0] not in ("root", "0"),
           "a final USER that is not root", f"USER lines {users or 'none'}, so the image runs "
           "as root (uid 0)", "add `USER <non-zero uid>` to the final stage.")
    expect("gunicorn" in text and "8000" in text, "gunicorn bound to :8000",
           "no gunicorn command on 8000", "set CMD to gunicorn on 0.0.0.0:8000.")
    expect(bool(re.search(r"^HEALTHCHECK", text, re.M | re.I)), "a HEALTHCHECK", "none",
           "add a HEALTHCHECK that requests /healthz.")


@then("the .dockerignore excludes node_modules, media, __pycache__ and .venv")
def dockerignore(target: Target) -> None:
    lines = {line.strip().strip("/") for line in
             _read(target, "app.repo", ".dockerignore").splitlines()}
    for entry in ("node_modules", "media", "__pycache__", ".venv"):
        expect(any(entry in line for line in lines), f"{entry} in .dockerignore",
               f"entries {sorted(lines)[:10]}", f"add {entry} to .dockerignore.")


@then("the app README documents the build command and the image tag scheme")
def readme_build(target: Target) -> None:
    text = _read(target, "app.repo", "README.md")
    expect("build" in text and "git rev-parse" in text, "a README section with the build "
           "command and the git-sha tag scheme", "no such section",
           "add the container section (run with --provision).")


def ensure_release_files(target: Target, sops: Sops, database: Database) -> None:
    repo = target.path("deploy.repo")
    chart = TEMPLATES / "chart"
    app_version = subprocess.run(["git", "-C", str(target.path("app.repo")), "rev-parse",
                                  "--short=12", "HEAD"], capture_output=True, text=True,
                                 check=False).stdout.strip() or "unknown"
    wanted = [Wanted(f"{CHART_DIR}/{path.relative_to(chart).as_posix()}",
                     path.read_text().replace("@APP_VERSION@", app_version))
              for path in sorted(chart.rglob("*")) if path.is_file()]
    wanted.append(Wanted("make/vergabe-teilnahme.mk",
                         render("deploy/vergabe-teilnahme.mk")))
    wanted.append(Wanted("Makefile", MAKE_INCLUDE, append_line=True))
    base.ensure(RepoFiles(repo, wanted, name="release-files", task="T05",
                          branch=str(target.require("deploy.branch")),
                          message="vergabe-teilnahme: chart and Makefile targets"),
                ValuesFile(target, sops, database))


@given("the deployment repository has the release files")
def release_files(target: Target, sops: Sops, database: Database) -> None:
    ensure_release_files(target, sops, database)


@then("the SOPS values file is encrypted for the recipients in .sops.yaml")
def values_encrypted(target: Target) -> None:
    repo = target.path("deploy.repo")
    path = repo / str(target.require("deploy.values"))
    rules = (repo / ".sops.yaml").read_text() if (repo / ".sops.yaml").exists() else ""
    wanted = set(re.findall(r"age1[0-9a-z]{20,}", rules))
    have = set(recipients(path))
    expect(bool(have), f"{path.name} encrypted with SOPS (age)", "no sops metadata",
           "encrypt it with `sops --encrypt --in-place`.")
    expect(wanted <= have, f"recipients {sorted(r[:12] for r in wanted)} from .sops.yaml",
           f"{sorted(r[:12] for r in have)}", "re-encrypt with `sops updatekeys`.")


@then(parsers.parse('the Makefile has the targets "{a}", "{b}" and "{c}"'))
def makefile_targets(target: Target, a: str, b: str, c: str) -> None:
    repo = target.path("deploy.repo")
    result = subprocess.run(["make", "-C", str(repo), "-pRrq", ":"], capture_output=True,
                            text=True, check=False)
    known = set(re.findall(r"^([\w.-]+):", result.stdout, re.M))
    for name in (a, b, c):
        expect(name in known, f"a Makefile target {name}", f"targets "
               f"{sorted(k for k in known if k.startswith('vergabe') or k == 'gitea')}",
               "add it (run with --provision).")


def _tracked_files(repo: Path) -> list[str]:
    return [line for line in git(repo, "ls-files").splitlines() if line]


def clear_secrets(repo: Path, known: list[str]) -> list[str]:
    """Findings 'file:line key' for secrets in clear; the value is never part of it."""
    findings: list[str] = []
    for rel in _tracked_files(repo):
        path = repo / rel
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError):
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            for match in CLEAR_SECRET.finditer(line):
                value = match.group("value")
                looks_random = any(c.isdigit() for c in value) and any(c.isalpha()
                                                                       for c in value)
                if not looks_random or value.startswith(("$", "{{", "<", "@")):
                    continue
                findings.append(f"{rel}:{number} key {match.group('key')}")
            if PRIVATE_KEY.search(line):
                findings.append(f"{rel}:{number} a private key")
            if DSN_WITH_PASSWORD.search(line) and "ENC[" not in line:
                findings.append(f"{rel}:{number} a DSN with a password")
            for index, value in enumerate(known):
                if value in line:
                    findings.append(f"{rel}:{number} decrypted secret #{index + 1}")
    return sorted(set(findings))


@then("no file of the deployment repository holds a secret value in clear")
def no_clear_secrets(target: Target, sops: Sops) -> None:
    repo = target.path("deploy.repo")
    known: list[str] = []
    for rel in _tracked_files(repo):
        if rel.endswith(".sops.yaml") and rel != ".sops.yaml":
            sops.check_key(repo / rel)  # without the key the scan cannot see the values
            try:
                known += secret_leaves(sops.decrypt(repo / rel))
            except Exception:  # noqa: BLE001, S112 - an undecryptable file is scanned as text
                continue
    found = clear_secrets(repo, [k for k in known if len(k) >= 8])
    expect(not found, f"no secret in clear in the committed files of {repo.name}",
           f"{len(found)} finding(s): {', '.join(found[:8])}",
           "encrypt the value with SOPS (or remove it), commit, and rotate the secret: "
           "it has been in the repository's history.")


@then("the deployment repository has committed the SOPS values and the ingress manifest")
def committed_values_ingress(target: Target) -> None:
    repo = target.path("deploy.repo")
    for rel in (str(target.require("deploy.values")), MANIFEST):
        expect(is_committed(repo, rel), f"{rel} committed in {repo.name}",
               "missing or uncommitted", "run with --provision, which commits on branch "
               f"{target.require('deploy.branch')}.")


@then(parsers.parse('the deployment repository has committed "{relpath}"'))
def committed_file(target: Target, relpath: str) -> None:
    repo = target.path("deploy.repo")
    expect(is_committed(repo, relpath), f"{relpath} committed in {repo.name}",
           "missing or uncommitted", "run with --provision.")


def ingress_manifest_file(target: Target) -> RepoFiles:
    return RepoFiles(target.path("deploy.repo"), [Wanted(MANIFEST, manifest_text(target))],
                     name="ingress-manifest", task="T06",
                     branch=str(target.require("deploy.branch")),
                     message="vergabe-teilnahme: ingress manifest")


