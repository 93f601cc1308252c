"""Sandbox components, one module each; `sandbox.cli.ORDER` lists them in start order."""
