"""Stand-in controllers of the platform layer, run together as one process.

The real cloudnative-pg operator and cert-manager controller cannot run in the sandbox
(cnpg's operator manages PostgreSQL pods that pull images from the internet;
cert-manager's controller cannot be built from the Go module proxy).  Their APIs are
real, though: the CRDs come from the projects' own Go modules, and the stand-ins in this
package reconcile those objects against real systems on this machine (PostgreSQL 15, a
real ACME server, BIND).  `python -m sandbox.operators` runs them all.
"""
