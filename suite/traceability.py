"""Which scenarios prove which workplan item: the explicit traceability table.

Every task (T01…T08), completion criterion (C1…C6), safety rule (S1…S8) and target-state
line (TS1…TS7) of the workplan names the scenarios that prove it.  A test of the suite
fails when an item has no scenario, when a name here matches no scenario in features/,
or when a scenario proves no item.  Scenario Outlines are named without their examples.
"""

from __future__ import annotations

TABLE: dict[str, tuple[str, ...]] = {
    "T01": ("The shared cnpg cluster for app databases is identified",
            "The registry answers with an OCI auth challenge",
            "The operator has a package-capable registry token",
            "The letsencrypt-prod ClusterIssuer is healthy and has issued recently",
            "The DNS change path for the app zone is known",
            "Traefik is the active ingress controller",
            "The inventory records the pre-condition gaps"),
    "T02": ("The app repository has a production Dockerfile and .dockerignore",
            "The image builds and answers a smoke request locally"),
    "T03": ("The image is published under the registry naming convention",
            "The image is fetchable from a disposable pod on the cluster"),
    "T04": ("The app role and database are declared in the shared cluster",
            "The app role connects to its database from inside the cluster",
            "The app role has no <privilege> privilege",
            "The app role's grants are scoped to its own database",
            "The DSN is recorded in the SOPS values"),
    "T05": ("The release's files are in the deployment repository",
            "The SOPS values carry production settings",
            "make vergabe-deploy renders cleanly with --dry-run",
            "The release is deployed in its dedicated namespace"),
    "T06": ("An A record points the app host at the node's public address",
            "The app ingress is modelled on gitea's and conflicts with nothing",
            "cert-manager issues the certificate for the app host",
            "The app host serves the app over HTTPS with a valid chain"),
    "T07": ("Migrations have run as a Kubernetes Job",
            "The seed has run and is idempotent",
            "The first superuser exists",
            "The app container runs production settings as a non-root user",
            "Login at /admin/ succeeds",
            "The dashboard renders without errors",
            "Static assets are served correctly",
            "HTMX partial requests succeed",
            "A new Ausschreibung can be created and saved",
            "The app's logs show no unexpected errors"),
    "T08": ("The runbook covers <topic>",
            "The runbook's names match the live cluster",
            "The shared cluster's backup covers the app database"),
    "C1": ("The image is published to the registry",),
    "C2": ("A dedicated role and database serve the app from the shared cluster",),
    "C3": ("The values and the ingress manifest are committed and one command deploys",),
    "C4": ("The app host serves the app over HTTPS with a valid certificate",),
    "C5": ("Migrations and seed have run and the smoke checklist passes",),
    "C6": ("The runbook is in docs/vergabe-teilnahme.md",),
    "S1": ("No plaintext secret stands in the deployment repository",
           "make vergabe-deploy renders cleanly with --dry-run"),
    "S2": ("The app role is dedicated and scoped to one database",
           "The app role has no <privilege> privilege"),
    "S3": ("Nothing is exposed before its certificate is issued",),
    "S4": ("Production settings only, DEBUG off",),
    "S5": ("The gitea ingress keeps working",
           "The app ingress is modelled on gitea's and conflicts with nothing"),
    "S6": ("The shared database cluster's resources are untouched",),
    "S7": ("An A record points the app host at the node's public address",),
    "S8": ("The app database starts fresh",),
    "TS1": ("The image is published under the registry naming convention",),
    "TS2": ("The app role and database are declared in the shared cluster",
            "The app role's grants are scoped to its own database"),
    "TS3": ("The release is deployed in its dedicated namespace",),
    "TS4": ("Migrations have run as a Kubernetes Job", "The seed has run and is idempotent"),
    "TS5": ("The app host serves the app over HTTPS with a valid chain",),
    "TS6": ("Login at /admin/ succeeds", "The dashboard renders without errors",
            "Static assets are served correctly"),
    "TS7": ("The runbook covers <topic>",),
}


def _base(name: str) -> str:
    """A Scenario Outline's example names carry their values; compare by the outline."""
    return name


def items_for(scenario_name: str) -> list[str]:
    found = [item for item, names in TABLE.items() if scenario_name in names]
    if found:
        return found
    for item, names in TABLE.items():
        for name in names:
            if "<" in name and _matches_outline(name, scenario_name):
                found.append(item)
    return found


def _matches_outline(outline: str, name: str) -> bool:
    head = outline.split("<", 1)[0]
    tail = outline.rsplit(">", 1)[-1]
    return name.startswith(head) and name.endswith(tail)
