#!/usr/bin/env bash
# Set up (if needed), lint, and run the test suite; arguments go to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh

# Steps added by other parts of the project (e.g. browsers for UI tests) go here.

# The browser test drives Debian's chromium with Playwright (never `playwright install`).
if [[ ! -x /usr/bin/chromium ]]; then
    echo "test: apt-get install chromium (for tests/test_ui_browser.py)" >&2
    sudo_=""
    if [[ "$(id -u)" -ne 0 ]]; then sudo_="sudo"; fi
    $sudo_ apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq chromium >/dev/null
fi

# The push and backend tests need real SPARQL stores on loopback (tests/stores.py reads the
# PACTGRAPH_*_URL variables this exports; scripts/stop-stores.sh stops them).
eval "$(scripts/start-stores.sh)"

echo "test: ruff check ." >&2
.venv/bin/python -m ruff check .
echo "test: pytest" >&2
exec .venv/bin/python -m pytest "$@"
