#!/usr/bin/env bash
# The project's test command: install what is missing, bring the sandbox up, run the
# reference app's own tests, then the project's tests in the order that needs the least
# set-up: offline checks first, then the sandbox, the main job from a fresh sandbox
# (which converges it), and last the browser and fault tests on the converged sandbox.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/python -m sandbox up
reference_app/run-tests.sh
order=(tests/suite tests/reports tests/sandbox tests/provisioning tests/browser tests/faults)
present=()
for folder in "${order[@]}"; do
  [ -d "$folder" ] && present+=("$folder")
done
exec .venv/bin/python -m pytest -p no:randomly "${present[@]}" "$@"
