#!/usr/bin/env bash
# Set up (if needed), lint, and run the test suite; arguments go to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh

# Steps added by other parts of the project (e.g. browsers for UI tests) go here.

echo "test: ruff check ." >&2
.venv/bin/ruff check .
echo "test: pytest" >&2
exec .venv/bin/python -m pytest "$@"
