"""Where the sandbox keeps things, and the names and addresses it plays production with.

State (pids, logs, certificates, kubeconfigs, databases) lives in the git-ignored
`.sandbox/` folder of the checkout; slow builds (Go binaries, base images, downloaded
modules) live in a cache outside the work tree, keyed by version, so that a fresh clone
on the same machine reuses them.  Addresses are loopback, or the pod network that the
sandbox creates itself.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("WP_SANDBOX_STATE", ROOT / ".sandbox"))
CACHE = Path(os.environ.get("WP_SANDBOX_CACHE", Path.home() / ".cache" / "wp-sandbox"))

LOGS = STATE / "logs"
RUN = STATE / "run"
PKI = STATE / "pki"
BIN = STATE / "bin"
ETC = STATE / "etc"
DATA = STATE / "data"
REPOS = STATE / "repos"
SECRETS = STATE / "secrets"  # generated credentials, mode 600, never printed

# Versions are pinned here, and nowhere else.
KUBERNETES_VERSION = "1.36.3"
HELM_MODULE = "helm.sh/helm/v4"
HELM_VERSION = "4.3.2"
KINE_VERSION = "0.17.5"
# The Debian release the look-alike base images are built from (Python 3.13, Node 20).
BASE_IMAGE_SUITE = "trixie"

# The loopback address that plays railiance01's public IP (Traefik binds 80/443 here).
NODE_PUBLIC_IP = "127.0.0.2"
# The pod network: a bridge the sandbox creates; pods live in network namespaces
# that containerd creates for them.  The bridge's own address is the gateway through
# which pods reach the host-side PostgreSQL and DNS.
BRIDGE = "wpsbr0"
POD_CIDR = "10.213.0.0/24"
BRIDGE_IP = "10.213.0.1"
SERVICE_CIDR = "10.214.0.0/24"
CLUSTER_DNS_IP = "10.214.0.10"
NODE_NAME = "localhost"  # the apiserver reaches the kubelet through loopback

APISERVER_PORT = 6443
KINE_PORT = 2379
DNS_PORT = 5353  # loopback port of the sandbox's authoritative DNS server
POSTGRES_PORT = 5432
REGISTRY_PORT = 5000  # the OCI registry (plain HTTP on 127.0.0.1, behind Traefik)
REGISTRY_TOKEN_PORT = 5001  # the registry's token endpoint (Gitea's /v2/token)
TRAEFIK_PING_PORT = 8082  # Traefik's health endpoint on 127.0.0.1

# Sandbox zones that mirror production's.
GITEA_HOST = "gitea.coulomb.test"
APP_HOST = "vergabe-teilnahme.whywhynot.test"
ZONES = ("coulomb.test", "whywhynot.test")


def ensure_dirs() -> None:
    """Create the state folders (idempotent)."""
    for folder in (STATE, LOGS, RUN, PKI, BIN, ETC, DATA, REPOS, CACHE):
        folder.mkdir(parents=True, exist_ok=True)
