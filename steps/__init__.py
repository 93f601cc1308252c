"""Step definitions, one module per system; conftest.py registers them as plugins."""
