#!/usr/bin/env bash
# Stop the stores scripts/start-stores.sh started (by the process ids it recorded); their
# data folder stays, so the next start is quick. Same PACTGRAPH_STORES_DIR as the start.
set -euo pipefail
DIR="${PACTGRAPH_STORES_DIR:-/tmp/pactgraph-stores}"
if [[ -f "$DIR/oxigraph.pid" ]]; then
    kill "$(cat "$DIR/oxigraph.pid")" 2>/dev/null || true
    rm -f "$DIR/oxigraph.pid"
fi
# Virtuoso forks into the background and writes no pid file: its lock file holds the pid.
if [[ -f "$DIR/virtuoso/virtuoso.lck" ]]; then
    pid="$(grep -o '[0-9]\+' "$DIR/virtuoso/virtuoso.lck" | head -1 || true)"
    if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; fi
fi
echo "stop-stores: stopped the stores under $DIR" >&2
