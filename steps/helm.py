"""Steps about the Helm release: values, dry-run rendering, deployment state."""

from __future__ import annotations

from typing import Any

import yaml
from kubernetes import client
from pytest_bdd import given, parsers, then, when

from fixtures.cluster import Kube
from fixtures.database import Database
from fixtures.helm import Helm
from fixtures.registry import Registry
from fixtures.run import Evidence
from fixtures.sops import Sops, secret_leaves
from provisioning import base
from provisioning.release import Namespace, PullSecret, Release, ValuesFile, make, preflight
from steps.repository import ensure_release_files
from suite import redact
from suite.check import eventually, expect
from suite.errors import Missing
from suite.targets import Target


def _values(target: Target, sops: Sops, ctx: dict[str, Any]) -> dict[str, Any]:
    if "values" not in ctx:
        path = target.path("deploy.repo") / str(target.require("deploy.values"))
        if not path.exists():
            raise Missing(f"{path.name} does not exist yet.", next_action="run with --provision.")
        ctx["values"] = sops.decrypt(path)
    values: dict[str, Any] = ctx["values"]
    return values


@then("the values set DJANGO_SETTINGS_MODULE to the production settings")
def values_settings(target: Target, sops: Sops, ctx: dict[str, Any]) -> None:
    env = _values(target, sops, ctx).get("env", {})
    module = env.get("DJANGO_SETTINGS_MODULE")
    expect(module == "vergabe_teilnahme.settings.prod", "DJANGO_SETTINGS_MODULE="
           "vergabe_teilnahme.settings.prod", f"{module!r}", "set env.DJANGO_SETTINGS_MODULE "
           "in the values (`sops <values file>`).")
    switches = {k: str(v) for k, v in env.items() if k in ("DJANGO_DEBUG", "DEBUG")}
    on = {k: v for k, v in switches.items() if v.strip().lower() not in ("false", "0", "no", "")}
    expect(not on, "no DEBUG switch in the values", "DEBUG is on in production: the values "
           "set " + ", ".join(f"env.{k}={v}" for k, v in on.items()), "remove it from the "
           "values (`sops <values file>`): production settings only, DEBUG off.")


@then("the values set ALLOWED_HOSTS and CSRF_TRUSTED_ORIGINS for the app host")
def values_hosts(target: Target, sops: Sops, ctx: dict[str, Any]) -> None:
    values = _values(target, sops, ctx)
    host = str(target.require("app.host"))
    expect(values.get("host") == host, f"host {host} (it becomes ALLOWED_HOSTS)",
           f"{values.get('host')!r}", "set host in the values.")
    origins = [o.strip() for o in str(values.get("csrfTrustedOrigins", f"https://{host}"))
               .split(",") if o.strip()]
    problems = [origin_problem(o, host) for o in origins]
    expect(None in problems, f"the origin browsers send, https://{host}, among "
           "CSRF_TRUSTED_ORIGINS (Django compares scheme, host and port literally)",
           f"CSRF_TRUSTED_ORIGINS {origins}: " + "; ".join(p for p in problems if p),
           "the CSRF origin check would refuse every login and form post (403); set "
           f"csrfTrustedOrigins to https://{host} in the values (`sops <values file>`).")


def origin_problem(origin: str, host: str) -> str | None:
    """Why ORIGIN does not admit a browser at https://HOST (None when it does)."""
    if "://" not in origin:
        return f"{origin!r} has no scheme"
    scheme, _, rest = origin.partition("://")
    name, _, port = rest.partition(":")
    if scheme != "https":
        return f"{origin!r} has scheme {scheme}, but browsers reach the app over https"
    if "/" in rest:
        return f"{origin!r} carries a path; an origin is scheme://host[:port] only"
    if port and port != "443":
        return f"{origin!r} names port {port}; browsers send no port for 443"
    if port:
        return f"{origin!r} names port 443, which browsers leave out of the origin"
    if name != host and not (name.startswith("*.") and host.endswith(name[1:])):
        return f"{origin!r} names host {name}, not {host}"
    return None


@then("the values carry a generated SECRET_KEY and the database DSN")
def values_secrets(target: Target, sops: Sops, ctx: dict[str, Any], database: Database) -> None:
    secret_env = _values(target, sops, ctx).get("secretEnv", {})
    key = str(secret_env.get("SECRET_KEY", ""))
    expect(len(key) >= 50 and not key.startswith("django-insecure"), "a generated SECRET_KEY "
           "of 50 characters or more", f"one of {len(key)} characters", "generate one with "
           "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`.")
    dsn = str(secret_env.get("DATABASE_URL", ""))
    wanted = f"{database.role}:"
    expect(dsn.startswith("postgres") and wanted in dsn and dsn.endswith(f"/{database.name}"),
           f"a DSN for role {database.role} on {database.name}",
           "a DSN for another role or database" if dsn else "no DATABASE_URL",
           "rewrite it from the role's Secret (run with --provision).")


@then("the SOPS values hold a DSN for the app role on the app database")
def values_dsn(target: Target, sops: Sops, ctx: dict[str, Any], database: Database) -> None:
    values_secrets(target, sops, ctx, database)


@given("the SOPS values for the app exist")
def values_exist(target: Target, sops: Sops, database: Database) -> None:
    base.ensure(ValuesFile(target, sops, database))


@then("the values ask for one replica with resource requests and limits and probes on the "
      "health endpoint")
def values_shape(target: Target, sops: Sops, ctx: dict[str, Any]) -> None:
    values = _values(target, sops, ctx)
    expect(values.get("replicaCount") == 1, "replicaCount 1",
           f"{values.get('replicaCount')!r}", "v1 runs a single replica.")
    resources = values.get("resources", {})
    expect(bool(resources.get("requests")) and bool(resources.get("limits")),
           "resource requests and limits", f"{resources}", "set resources in the values.")
    expect(values.get("probes", {}).get("path") == "/healthz", "probes on /healthz",
           f"{values.get('probes')}", "point the probes at the health endpoint.")


@when(parsers.parse('I render "make vergabe-deploy" with --dry-run'))
def render_dry_run(target: Target, sops: Sops, ctx: dict[str, Any], kube: Kube,
                   helm: Helm) -> None:
    base.ensure(Namespace(kube, str(target.require("cluster.namespace"))))
    preflight(helm)  # a locked release refuses even a dry run: say so, and how to recover
    sops.check_key(target.path("deploy.repo") / str(target.require("deploy.values")))
    result = make(target, sops, "vergabe-deploy", "DRY_RUN=1", check=False)
    ctx["render"] = result


@then("the rendering succeeds")
def render_ok(ctx: dict[str, Any]) -> None:
    result = ctx["render"]
    expect(result.ok, "`make vergabe-deploy DRY_RUN=1` to exit 0", f"exit {result.returncode}: "
           f"{result.tail(6)}", "fix the chart or the values until the dry run is clean.")


@then("the rendered manifests contain no plaintext secret value")
def render_no_secrets(target: Target, sops: Sops, ctx: dict[str, Any],
                      evidence: Evidence) -> None:
    import base64

    rendered = ctx["render"].stdout
    values = _values(target, sops, ctx)
    leaks = []
    for index, leaf in enumerate(secret_leaves(values), start=1):
        forms = {leaf, base64.b64encode(leaf.encode()).decode()}
        if any(form in rendered for form in forms):
            leaks.append(f"secret #{index}")
    kinds = [doc.get("kind") for doc in yaml.safe_load_all(rendered.split("MANIFEST:", 1)[-1])
             if isinstance(doc, dict)] if "MANIFEST:" in rendered else []
    evidence.text("rendered manifest (redacted)", redact.redact(rendered)[:6000])
    expect(not leaks, "no secret value (plain or base64) in the rendered manifests",
           f"{', '.join(leaks)} found", "render with --hide-secret and keep secrets in "
           "Secret objects only.")
    expect(not kinds or "Deployment" in kinds, "a Deployment in the rendering",
           f"kinds {kinds}", "check the chart's templates.")


@given(parsers.parse('the release is deployed with "make vergabe-deploy"'))
def release_deployed(target: Target, sops: Sops, database: Database, helm: Helm, kube: Kube,
                     registry: Registry) -> None:
    ensure_release_files(target, sops, database)
    namespace = str(target.require("cluster.namespace"))
    base.ensure(Namespace(kube, namespace), PullSecret(kube, namespace, registry))
    base.ensure(Release(target, helm, ValuesFile(target, sops, database)))


@then("the Helm release is in status deployed")
def release_status(helm: Helm, evidence: Evidence) -> None:
    status = preflight(helm)
    if status is None:
        raise Missing(f"no Helm release {helm.release} in {helm.namespace}.",
                      next_action="run with --provision (make vergabe-deploy).")
    info = status.get("info", {})
    evidence.table("helm release", [{"release": helm.release, "revision": status.get("version"),
                                     "status": info.get("status"),
                                     "chart": status.get("chart", {}).get("metadata", {})
                                     .get("version", "")}])
    expect(info.get("status") == "deployed", f"release {helm.release} deployed",
           f"status {info.get('status')} at revision {status.get('version')}",
           f"`helm history {helm.release} -n {helm.namespace}`.")


@then("the app Deployment has one ready replica with probes on the health endpoint")
def deployment_ready(kube: Kube, target: Target) -> None:
    namespace = str(target.require("cluster.namespace"))
    name = str(target.require("app.release"))

    def probe() -> tuple[bool, str]:
        dep = kube.apps.read_namespaced_deployment(name, namespace)
        ready = dep.status.ready_replicas or 0
        return ready == 1 and dep.spec.replicas == 1, (
            f"{ready}/{dep.spec.replicas} ready, conditions "
            + ", ".join(f"{c.type}={c.status}" for c in dep.status.conditions or []))

    eventually(probe, f"Deployment {namespace}/{name} with 1 ready replica",
               deadline=target.timeout("rollout"), interval=target.interval,
               next_step=f"`kubectl -n {namespace} describe deployment {name}` and the pod "
               "events.")
    container = kube.apps.read_namespaced_deployment(name, namespace).spec.template.spec \
        .containers[0]
    for kind in ("readiness_probe", "liveness_probe"):
        probe_obj = getattr(container, kind)
        path = probe_obj.http_get.path if probe_obj and probe_obj.http_get else None
        expect(path == "/healthz", f"a {kind.replace('_', ' ')} on /healthz", f"{path}",
               "set the probes in the chart.")


@then("the app Service selects the app pods")
def service_selects(kube: Kube, target: Target) -> None:
    namespace = str(target.require("cluster.namespace"))
    name = str(target.require("app.release"))
    slices = client.DiscoveryV1Api(kube.api).list_namespaced_endpoint_slice(
        namespace, label_selector=f"kubernetes.io/service-name={name}")
    ready = [e for s in slices.items for e in s.endpoints or []
             if e.conditions is not None and e.conditions.ready]
    expect(len(ready) >= 1, f"Service {namespace}/{name} with a ready endpoint",
           f"{len(ready)} ready endpoints", "compare the Service selector with the pod labels.")
