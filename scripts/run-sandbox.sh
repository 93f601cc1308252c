#!/usr/bin/env bash
# The main job on the embedded sandbox: install what is missing, bring the sandbox up,
# provision and prove the workplan, and print where the reports are.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/python -m sandbox up
set +e
.venv/bin/python -m pytest features/ --target sandbox --provision "$@"
rc=$?
set -e
echo
echo "gate summary: reports/gate.md · living documentation: reports/living-docs.html"
echo "CI files: reports/junit.xml reports/cucumber.json reports/gate.json"
exit $rc
