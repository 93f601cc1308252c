"""Steps about the registry and the image: challenge, token, build, run, publish, pull."""

from __future__ import annotations

import base64
import secrets
import shlex
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from pytest_bdd import given, then, when

from fixtures.cluster import Kube
from fixtures.registry import Registry, realm_problem
from fixtures.run import Evidence, run_command
from provisioning import base, image
from provisioning.lease import ensure_namespace  # noqa: F401 - used by the namespace step
from provisioning.release import PULL_SECRET, Namespace, PullSecret
from suite import redact
from suite.check import eventually, expect
from suite.state import Run
from suite.targets import Target


@when("I request the registry API root without credentials")
def registry_root(registry: Registry, ctx: dict[str, Any]) -> None:
    ctx["challenge"] = registry.challenge()


@then("the registry answers 401 with a Bearer challenge")
def bearer_challenge(ctx: dict[str, Any], registry: Registry, run: Run,
                     evidence: Evidence) -> None:
    challenge = ctx["challenge"]
    evidence.table("registry challenge", [{"status": challenge.status,
                                           "WWW-Authenticate": challenge.raw}])
    run.cache.setdefault("inventory", {})["registry"] = challenge.raw
    expect(challenge.status == 401, f"401 from {registry.base}/v2/ without credentials",
           f"HTTP {challenge.status}", "enable the container registry in Gitea "
           "([packages] ENABLED = true) and check the reverse proxy passes /v2/.")
    expect(challenge.scheme.lower() == "bearer", "a Bearer challenge (Gitea's token flow)",
           f"scheme {challenge.scheme or 'none'} ({challenge.raw or 'no header'})",
           "Gitea answers /v2/ with a Bearer challenge; check what answers on this host.")


@then("the challenge realm is an HTTPS URL on the registry host")
def realm_https(ctx: dict[str, Any], registry: Registry) -> None:
    challenge = ctx["challenge"]
    problem = realm_problem(challenge, registry.host)
    expect(problem is None, "a realm that clients outside the cluster can use "
           f"(https://{registry.host}/v2/token)", f"realm {challenge.realm!r}: {problem}",
           "set Gitea's ROOT_URL to the public https URL so the realm is built from it.")


@then("the operator's package token is accepted by the registry realm with push rights")
def token_push(registry: Registry, run: Run) -> None:
    repo = registry.repository()
    status, token = registry.token("push", f"repository:{repo}:pull,push")
    expect(token is not None, f"a token from the realm for the operator's package token "
           f"(scope repository:{repo}:pull,push)", f"HTTP {status}",
           f"create a token with package:write ({registry.target.get('registry.token_path')}) "
           "and point the target at it.")
    run.cache.setdefault("inventory", {})["token"] = "accepted with push scope"  # noqa: S105


@given("the app repository is available")
def app_repo_available(target: Target, ctx: dict[str, Any]) -> None:
    repo = target.path("app.repo")
    expect((repo / ".git").exists(), f"the app repository checked out at {repo}",
           "no git repository there", "clone vergabe-teilnahme there or fix [app] repo.")
    ctx["app_repo"] = repo


@given("the image for the app repository's commit is built")
def image_built(target: Target, ctx: dict[str, Any], run: Run) -> None:
    from steps.repository import ensure_app_files

    ensure_app_files(target)
    repo = target.path("app.repo")
    base.ensure(image.BuiltImage(target, repo))
    ctx["image_ref"] = image.reference(target, repo)
    run.facts["image_reference"] = ctx["image_ref"]


#: run with the image's python in its working directory: the Vite entries the templates
#: include, the manifest found, and what each entry lacks (JSON on stdout)
VITE_CHECK = r"""
import json, pathlib, re
root = pathlib.Path.cwd()
skip = {".venv", "node_modules", "site-packages", "staticfiles"}
def mine(p): return not skip & set(p.parts)
entries = sorted({e for p in root.rglob("*.html") if mine(p) for e in re.findall(
    r"vite_assets\s+['\"]([^'\"]+)['\"]", p.read_text(errors="ignore"))})
found = [p for p in root.rglob("manifest.json") if ".vite" in p.parts and mine(p)]
lacking = {}
if found:
    data, dist = json.loads(found[0].read_text()), found[0].parent.parent
    for entry in entries:
        item = data.get(entry)
        files = [] if item is None else [item.get("file"), *item.get("css", [])]
        gone = [f for f in files if f and not (dist / f).exists()]
        if item is None or gone:
            lacking[entry] = ("not in the manifest" if item is None else
                              "the manifest names " + ", ".join(gone) + ", which the image lacks")
css = [str(p) for p in root.rglob("*.css") if "dist" in p.parts and mine(p)][:3]
print(json.dumps({"entries": entries, "manifest": [str(p) for p in found], "lacking": lacking,
                  "css": css}))
"""


def vite_finding(output: str) -> tuple[bool, str]:
    """(assets complete, what is missing) from the output of VITE_CHECK."""
    import json

    try:
        report = json.loads(output.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return False, f"the asset check could not run in the image: {output[-200:]!r}"
    entries = ", ".join(report["entries"]) or "(no vite_assets tag in the templates)"
    if not report["manifest"]:
        return False, (f"no Vite manifest (static/dist/.vite/manifest.json) in the image, so the "
                       f"CSS/JS entry {entries} is not included: every page renders without its "
                       "stylesheet and script (HTMX and Alpine.js do not run)")
    if report["lacking"]:
        return False, ("the Vite build in the image does not resolve every entry the templates "
                       "include: " + "; ".join(f"{e}: {why}" for e, why in
                                               report["lacking"].items())
                       + " — those pages render without their stylesheet and script")
    if not report["css"]:
        return False, "no built stylesheet under static/dist"
    return True, f"entries {entries} resolved through {report['manifest'][0]}"


ASSETS_NEXT = ("copy static/dist/ with its .vite/ folder from the asset stage into the Python "
               "stage of the Dockerfile (`npm run build` writes both), rebuild and redeploy.")


SMOKE_SCRIPT = """
{command} >/tmp/smoke-app.log 2>&1 &
app=$!
status=none
for attempt in $(seq 1 {tries}); do
  status=$(python -c "
import urllib.request, urllib.error
request = urllib.request.Request('http://127.0.0.1:8000/healthz',
                                 headers={{'X-Forwarded-Proto': 'https'}})
try:
    print(urllib.request.urlopen(request, timeout=2).status)
except urllib.error.HTTPError as exc:
    print(exc.code)
except Exception as exc:
    print(type(exc).__name__)
" 2>/dev/null)
  [ "$status" = 200 ] && break
  sleep 1
done
echo "HEALTHZ $status"
echo "UID $(id -u)"
echo "USER $(id -un 2>/dev/null || echo '?')"
echo "MANIFEST $(find / -path /proc -prune -o -path '*static*' -name manifest.json -print \
  2>/dev/null | grep -c '.vite/manifest.json')"
echo "CSS $(find / -path /proc -prune -o -path '*static*' -name '*.css' -print 2>/dev/null \
  | wc -l)"
echo "VITE $(echo {vite_b64} | base64 -d | python - 2>&1 | tail -n 1)"
[ "$status" = 200 ] || {{ echo LOG; tail -n 15 /tmp/smoke-app.log; }}
kill $app 2>/dev/null
"""


@when("I start a container of the image locally")
def start_container(target: Target, ctx: dict[str, Any]) -> None:
    """One foreground run: start the image's own command, ask /healthz, look inside.

    The container lives only as long as this call (`--rm`, no published port), so no
    container, port forwarding or network namespace outlives the step.
    """
    ref = ctx["image_ref"]
    info: dict[str, Any] = image.local_image(target, ref) or {}
    config: dict[str, Any] = info.get("Config") or {}
    command = [*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])]
    env = {"DJANGO_SETTINGS_MODULE": "vergabe_teilnahme.settings.prod",
           "SECRET_KEY": secrets.token_urlsafe(40),
           "DATABASE_URL": "postgres://smoke:smoke@127.0.0.1:9/smoke",
           "ALLOWED_HOSTS": "127.0.0.1,localhost", "CSRF_TRUSTED_ORIGINS": "https://localhost"}
    redact.register(env["SECRET_KEY"])
    args = [image.builder(target), "run", "--rm", "--entrypoint", "/bin/sh"]
    for key, value in env.items():
        args += ["-e", f"{key}={value}"]
    script = SMOKE_SCRIPT.format(command=shlex.join(command),
                                 tries=int(target.timeout("default")),
                                 vite_b64=base64.b64encode(VITE_CHECK.encode()).decode())
    result = run_command([*args, ref, "-c", script], timeout=target.timeout("default") + 120,
                         check=False, what="a local smoke run of the image")
    facts = dict(line.split(" ", 1) for line in result.stdout.splitlines()
                 if line.split(" ", 1)[0] in ("HEALTHZ", "UID", "USER", "MANIFEST", "CSS", "VITE")
                 and " " in line)
    ctx["local"] = facts
    ctx["local_log"] = result.stdout.split("LOG", 1)[1].strip() if "LOG\n" in result.stdout \
        else result.stderr.strip()[-600:]
    ctx["user_in_image"] = str(config.get("User") or "")


@then('the container answers "/healthz" with status 200')
def container_healthz(ctx: dict[str, Any], evidence: Evidence) -> None:
    status = ctx["local"].get("HEALTHZ", "no answer")
    evidence.text("local smoke request", f"GET /healthz inside the container -> {status}")
    expect(status == "200", "GET /healthz answered 200 by the image's own command",
           f"{status}; the app's last log lines: {redact.redact(ctx['local_log'])[-400:]}",
           "fix the start-up error shown (missing setting, import error, wrong CMD).")


@then("the container runs as a non-root user")
def container_user(ctx: dict[str, Any], evidence: Evidence) -> None:
    uid, user = ctx["local"].get("UID", "?"), ctx["local"].get("USER", "?")
    evidence.table("image user", [{"USER in image": ctx["user_in_image"] or "(none)",
                                   "uid at run": uid, "user": user}])
    expect(uid not in ("0", "?"), "the container to run as a non-root user",
           f"it runs as uid {uid} ({user}); the image's USER is "
           f"{ctx['user_in_image'] or 'not set, so root'}",
           "add `USER <non-zero uid>` to the Dockerfile's final stage and rebuild.")


@then("the image holds the built assets and the Vite manifest")
def image_assets(ctx: dict[str, Any], evidence: Evidence) -> None:
    complete, finding = vite_finding(ctx["local"].get("VITE", ""))
    evidence.text("built assets in the image", finding)
    expect(complete, "the built assets and a Vite manifest that resolves every entry the "
           "templates include", finding, ASSETS_NEXT)


@given("the image for the app repository's commit is published")
def image_published(target: Target, registry: Registry, run: Run, ctx: dict[str, Any]) -> None:
    from steps.repository import ensure_app_files

    ensure_app_files(target)
    repo = target.path("app.repo")
    base.ensure(image.PublishedImage(target, repo, registry))
    ctx["image_ref"] = image.reference(target, repo)


@then("the registry lists the tag for the app repository's commit")
def registry_has_tag(target: Target, registry: Registry, run: Run, evidence: Evidence) -> None:
    repo = target.path("app.repo")
    tag = image.tag_for(repo)
    tags = registry.tags(registry.repository())
    expect(tag in tags, f"tag {tag} (the app's commit) in {registry.host}/"
           f"{registry.repository()}", f"tags {tags[-5:] or 'none'}",
           "build and push the image (pytest features/ -m T03 --provision).")
    digest = registry.digest(registry.repository(), tag)
    run.facts["image_reference"] = f"{registry.host}/{registry.repository()}:{tag}"
    run.facts["image_digest"] = digest
    evidence.table("published image", [{"reference": run.facts["image_reference"],
                                        "digest": digest}])


@then("the image reference and digest are recorded in the workplan log")
def image_in_log(target: Target, kube: Kube, registry: Registry, run: Run) -> None:
    from steps.docs import ensure_workplan_log

    text = ensure_workplan_log(target, kube, registry)
    tag = image.tag_for(target.path("app.repo"))
    digest = registry.digest(registry.repository(), tag) or "?"
    expect(tag in text and digest in text, f"the workplan log to record tag {tag} and "
           f"digest {digest}", "it does not", "run with --provision to update the log.")


@given("the app namespace exists")
def namespace_exists(kube: Kube, target: Target) -> None:
    base.ensure(Namespace(kube, str(target.require("cluster.namespace"))))


@given("the cluster has a pull credential for the registry")
def pull_credential(kube: Kube, target: Target, registry: Registry) -> None:
    base.ensure(PullSecret(kube, str(target.require("cluster.namespace")), registry))


@then("a disposable pod in the app namespace pulls and runs the published image")
def disposable_pod(kube: Kube, target: Target, evidence: Evidence) -> None:
    namespace = str(target.require("cluster.namespace"))
    ref = image.reference(target, target.path("app.repo"))
    name = f"vergabe-pull-check-{secrets.token_hex(3)}"
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=base.labels()),
        spec=client.V1PodSpec(
            restart_policy="Never", image_pull_secrets=[client.V1LocalObjectReference(
                name=PULL_SECRET)],
            security_context=client.V1PodSecurityContext(run_as_non_root=True),
            containers=[client.V1Container(name="check", image=ref, image_pull_policy="Always",
                                           command=["python", "-c", "print('image runs')"])]))
    kube.core.create_namespaced_pod(namespace, pod)
    try:
        def probe() -> tuple[bool, str]:
            current = kube.core.read_namespaced_pod(name, namespace)
            phase = current.status.phase
            waiting = [s.state.waiting.reason for s in current.status.container_statuses or []
                       if s.state and s.state.waiting]
            if phase == "Failed":
                return True, "Failed"
            return phase == "Succeeded", f"phase {phase} {waiting or ''}"

        observed = eventually(probe, f"pod {name} running {ref} to completion",
                              deadline=target.timeout("rollout"), interval=target.interval,
                              next_step="check the pull Secret and the registry's pull "
                              f"permissions (`kubectl -n {namespace} describe pod {name}`).")
        expect(observed.startswith("phase Succeeded"), f"the pod to pull {ref} and exit 0",
               observed, f"`kubectl -n {namespace} logs {name}`.")
        evidence.text("disposable pull check", f"{ref}: {observed}")
    finally:
        try:
            kube.core.delete_namespaced_pod(name, namespace, grace_period_seconds=0)
        except ApiException:
            pass
