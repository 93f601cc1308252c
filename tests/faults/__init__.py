"""The fault catalogue, injected into the sandbox and detected by the suite."""
