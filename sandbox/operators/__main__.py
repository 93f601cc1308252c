"""`python -m sandbox.operators`: run every stand-in controller in one process, 1 s loops.

Each controller gets its own client and its own thread, so a slow pass (a backup, an ACME
order) never holds up the others.  A failing pass is logged in one bounded line and
retried on the next tick; SIGTERM ends the loops after the pass in progress.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType

from kubernetes.client.exceptions import ApiException

from sandbox.operators.kube import Kube, api_error

log = logging.getLogger("sandbox.operators")

INTERVAL = 1.0
_stopping = threading.Event()


def _controllers() -> dict[str, Callable[[Kube], object]]:
    from sandbox.operators.certmanager import CertManagerStandIn
    from sandbox.operators.cnpg import CnpgStandIn
    from sandbox.operators.servicedns import ServiceDnsSync

    return {"cnpg": CnpgStandIn, "cert-manager": CertManagerStandIn,
            "service-dns": ServiceDnsSync}


def _loop(name: str, factory: Callable[[Kube], object]) -> None:
    controller = factory(Kube())
    last_error = ""
    while not _stopping.is_set():
        try:
            controller.reconcile()  # type: ignore[attr-defined]
            last_error = ""
        except ApiException as exc:
            last_error = _report(name, api_error(exc), last_error)
        except Exception as exc:  # noqa: BLE001 - a pass fails, the loop goes on
            last_error = _report(name, f"{type(exc).__name__}: {str(exc)[:300]}", last_error)
        _stopping.wait(INTERVAL)


def _report(name: str, error: str, last: str) -> str:
    if error != last:  # one line per new error, not one per second
        log.warning("%s: pass failed (%s); retrying every %.0fs", name, error, INTERVAL)
    return error


def _stop(signum: int, _frame: FrameType | None) -> None:
    log.info("signal %d: stopping after the current passes", signum)
    _stopping.set()


def main() -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                        format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("kubernetes").setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    threads = [threading.Thread(target=_loop, args=(name, factory), name=name, daemon=True)
               for name, factory in _controllers().items()]
    for thread in threads:
        thread.start()
    log.info("stand-in controllers running: %s", ", ".join(t.name for t in threads))
    while not _stopping.is_set():
        time.sleep(0.5)
    for thread in threads:
        thread.join(timeout=20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
