#!/usr/bin/env bash
# Stop the stores scripts/start-stores.sh started (by the process ids it recorded) and wait
# until they have exited; their data folder stays. Same PACTGRAPH_STORES_DIR as the start.
set -euo pipefail
DIR="${PACTGRAPH_STORES_DIR:-/tmp/pactgraph-stores}"

# Send TERM to a process id and wait (at most 20 s) until it is gone.
stop_pid() {
    local pid="$1" i
    kill "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 80; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.25
    done
    kill -9 "$pid" 2>/dev/null || true
}

if [[ -f "$DIR/oxigraph.pid" ]]; then
    stop_pid "$(cat "$DIR/oxigraph.pid")"
    rm -f "$DIR/oxigraph.pid"
fi
# Virtuoso forks into the background and writes no pid file: its lock file holds the pid.
if [[ -f "$DIR/virtuoso/virtuoso.lck" ]]; then
    pid="$(grep -o '[0-9]\+' "$DIR/virtuoso/virtuoso.lck" | head -1 || true)"
    if [[ -n "$pid" ]]; then stop_pid "$pid"; fi
fi
echo "stop-stores: stopped the stores under $DIR" >&2
