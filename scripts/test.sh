#!/usr/bin/env bash
# Set up (if needed), lint, and run the test suite; arguments go to pytest.
# Each run starts its own SPARQL stores, in its own temporary folder on free loopback ports,
# and stops them when it ends (passed, failed or interrupted), so two runs never meet.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh

# The browser test drives Debian's chromium with Playwright (never `playwright install`).
if [[ ! -x /usr/bin/chromium ]]; then
    echo "test: apt-get install chromium (for the browser tests)" >&2
    sudo_=""
    if [[ "$(id -u)" -ne 0 ]]; then sudo_="sudo"; fi
    $sudo_ apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq chromium >/dev/null
fi

# The push and backend tests need real SPARQL stores on loopback (tests/stores.py reads the
# PACTGRAPH_*_URL variables start-stores.sh prints).
PACTGRAPH_STORES_DIR="$(mktemp -d "${TMPDIR:-/tmp}/pactgraph-stores.XXXXXX")"
export PACTGRAPH_STORES_DIR
stop_stores() {
    scripts/stop-stores.sh || true
    rm -rf "$PACTGRAPH_STORES_DIR"
}
trap stop_stores EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
read -r PACTGRAPH_OXIGRAPH_PORT PACTGRAPH_VIRTUOSO_PORT PACTGRAPH_VIRTUOSO_SQL_PORT < <(
    .venv/bin/python - <<'PY'
import socket

# Three distinct free ports, held open together so the kernel cannot hand one out twice.
sockets = [socket.socket() for _ in range(3)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in sockets))
PY
)
export PACTGRAPH_OXIGRAPH_PORT PACTGRAPH_VIRTUOSO_PORT PACTGRAPH_VIRTUOSO_SQL_PORT
eval "$(scripts/start-stores.sh)"

echo "test: ruff check ." >&2
.venv/bin/python -m ruff check .
echo "test: pytest" >&2
# Not exec'd: the EXIT trap must still stop the stores when pytest ends.
.venv/bin/python -m pytest "$@"
