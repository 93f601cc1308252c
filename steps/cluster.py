"""Steps about the cluster itself: reachability, ingress controller, the running app pod."""

from __future__ import annotations

import re

from pytest_bdd import given, then

from fixtures.cluster import Kube
from fixtures.hosts import app_pod, container_facts
from fixtures.run import Evidence
from suite.check import expect
from suite.state import Run
from suite.targets import Target

#: log lines that mean trouble, and the harmless ones that look alike
ERROR_LINE = re.compile(r"\b(ERROR|CRITICAL|Traceback|Internal Server Error|OperationalError)\b"
                        r"|Forbidden \((CSRF|Origin checking failed)")
EXPECTED_NOISE = re.compile(r"Not Found: /favicon.ico|DisallowedHost.*\.svc")
#: the last line of a Python traceback: the exception and its message
EXCEPTION_LINE = re.compile(r"^(\w+\.)*\w*(Error|Exception)\b: .+")


@given("the target cluster is reachable")
def cluster_reachable(kube: Kube, run: Run) -> None:
    run.cache.setdefault("inventory", {})["cluster"] = kube.server


@then("the ingress class named by the target is served by Traefik")
def ingress_class_traefik(kube: Kube, target: Target, run: Run) -> None:
    name = str(target.require("cluster.ingress_class"))
    classes = {str(c.metadata.name): c for c in kube.net.list_ingress_class().items}
    expect(name in classes, f"an IngressClass {name}", f"only {sorted(classes) or 'none'}",
           "install Traefik's IngressClass (railiance-cluster owns it).")
    controller = classes[name].spec.controller
    wanted = str(target.get("cluster.ingress_controller", "traefik.io/ingress-controller"))
    expect(controller == wanted, f"IngressClass {name} served by {wanted}",
           f"controller {controller}", "the active ingress controller is not Traefik; "
           "stop and ask railiance-cluster before adding an Ingress.")
    default = (classes[name].metadata.annotations or {}).get(
        "ingressclass.kubernetes.io/is-default-class") == "true"
    run.cache.setdefault("inventory", {})["ingress"] = {
        "class": name, "controller": controller, "default class": default}


@then("the public address an A record must point at is recorded in the inventory")
def public_address(kube: Kube, target: Target, run: Run, evidence: Evidence) -> None:
    address = str(target.require("cluster.node_public_ip"))
    gitea_host = _gitea_host(kube, target)
    run.cache.setdefault("inventory", {})["public address"] = address
    evidence.table("ingress controller and public address", [{
        **run.cache["inventory"].get("ingress", {}), "public address": address,
        "existing host on it": gitea_host}])


def _gitea_host(kube: Kube, target: Target) -> str:
    namespace = str(target.require("tls.known_good_namespace"))
    for ingress in kube.net.list_namespaced_ingress(namespace).items:
        for rule in ingress.spec.rules or []:
            return str(rule.host)
    return "(none)"


@then("inside the app container the main process runs as a non-root user")
def container_non_root(kube: Kube, target: Target, run: Run, evidence: Evidence) -> None:
    facts = container_facts(kube, target, run)
    evidence.table("app container identity", [{"uid": facts.uid, "user": facts.user}])
    expect(facts.uid.strip() not in ("0", ""), "the app to run as a non-root user",
           f"uid {facts.uid or '?'} ({facts.user})", "add a USER with a non-zero uid to the "
           "Dockerfile and rebuild the image.")


@then("inside the app container gunicorn listens on port 8000")
def container_gunicorn(kube: Kube, target: Target, run: Run) -> None:
    facts = container_facts(kube, target, run)
    expect("gunicorn" in facts.cmdline, "gunicorn as the container's main process",
           f"PID 1 runs `{facts.cmdline[:120]}`", "use gunicorn as the image's CMD.")
    port_hex = ":1F40 "
    expect(port_hex in facts.tcp and " 0A " in facts.tcp, "a socket listening on :8000",
           "no listener on port 8000 in /proc/net/tcp", "bind gunicorn to 0.0.0.0:8000.")


@then("inside the app container the built assets and the Vite manifest are present")
def container_assets(kube: Kube, target: Target, run: Run, evidence: Evidence) -> None:
    from steps.registry import ASSETS_NEXT, vite_finding

    facts = container_facts(kube, target, run)
    complete, finding = vite_finding(facts.vite)
    evidence.text("built assets in the app container", finding)
    expect(complete, "the built assets and a Vite manifest that resolves every entry the "
           "templates include", finding, ASSETS_NEXT)


@then("inside the app container DEBUG is off")
def container_debug_off(kube: Kube, target: Target, run: Run) -> None:
    facts = container_facts(kube, target, run)
    module, _, debug = facts.settings.strip().rpartition(" ")
    found = (f"DEBUG is on in production: the settings module {module or '?'} reports "
             "DEBUG=True, so error pages show settings, source and SQL to every visitor"
             if debug == "True" else
             f"settings module {module or '?'} with DEBUG={debug or 'unknown'}")
    expect(debug == "False", "DEBUG off with the production settings", found,
           "remove DEBUG/DJANGO_DEBUG from the release's values, make the production "
           "settings set DEBUG = False whatever the environment says, and redeploy.")
    expect(module.endswith(".prod"), "DJANGO_SETTINGS_MODULE ending in .prod", module,
           "set DJANGO_SETTINGS_MODULE=vergabe_teilnahme.settings.prod in the values.")


@then("the running app has DEBUG off and production settings")
def running_app_debug_off(kube: Kube, target: Target, run: Run) -> None:
    container_debug_off(kube, target, run)


@then("the app pod's logs since its start show no unexpected errors")
def app_logs_clean(kube: Kube, target: Target, evidence: Evidence) -> None:
    namespace = str(target.require("cluster.namespace"))
    pod = app_pod(kube, target)
    text = kube.core.read_namespaced_pod_log(pod, namespace, container="web", tail_lines=2000)
    lines = text.splitlines()
    bad = [line for line in lines if ERROR_LINE.search(line) and not EXPECTED_NOISE.search(line)]
    causes = list(dict.fromkeys(line.strip() for line in lines
                                if EXCEPTION_LINE.match(line.strip())))
    evidence.text("app log (last 20 lines)", "\n".join(lines[-20:]))
    found = f"{len(bad)} error line(s), first: {bad[0][:300] if bad else ''}"
    if causes:
        found += "; the exception(s): " + " | ".join(c[:300] for c in causes[:3])
    next_step = f"read `kubectl -n {namespace} logs {pod}` and fix the cause."
    if any("Missing staticfiles manifest entry" in c for c in causes):
        next_step = ("a template names a static file that collectstatic never saw, so the page "
                     "answers 500: add the file under static/ (or fix the {% static %} path), "
                     "rebuild and redeploy the image.")
    expect(not bad, f"no error lines in the log of {pod}", found, next_step)
