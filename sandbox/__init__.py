"""The embedded sandbox: railiance01 in a box, built from real components on this machine.

`python -m sandbox up | down | status | env` is the only entry point. Everything the
sandbox runs is listed in :mod:`sandbox.cli` in start order; each part lives in its own
module under :mod:`sandbox.components` and says there whether it is real or a stand-in.
"""
