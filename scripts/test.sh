#!/usr/bin/env bash
# The project's test command: install, bring the sandbox up, run the project's own tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/python -m sandbox up
.venv/bin/python -m pytest tests/ "$@"
