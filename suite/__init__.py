"""vergabe-acceptance: the workplan RAILIANCE-WP-0002 as an executable acceptance suite."""

__version__ = "0.1.0"
