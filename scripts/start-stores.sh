#!/usr/bin/env bash
# Install (first run only) and start two real SPARQL 1.1 stores on loopback, for the push and
# backend tests and the scale benchmark:
#   - the Oxigraph server (PyPI package `oxigraph`, command `oxigraph serve`), in memory,
#     with --union-default-graph so its default graph is the union of the named graphs, as
#     in pactgraph's own store;
#   - OpenLink Virtuoso 7 from Debian (`virtuoso-opensource`), started from a copy of the
#     packaged virtuoso.ini with its own database folder and loopback ports.
# Idempotent: a store that already answers is left running. Progress goes to stderr; stdout
# is only `export NAME=VALUE` lines, so callers can `eval "$(scripts/start-stores.sh)"`.
# Stop them with scripts/stop-stores.sh (same PACTGRAPH_STORES_DIR).
#
# Settings (environment): PACTGRAPH_STORES_DIR (default /tmp/pactgraph-stores),
# PACTGRAPH_OXIGRAPH_PORT (17878), PACTGRAPH_VIRTUOSO_PORT (18890, HTTP),
# PACTGRAPH_VIRTUOSO_SQL_PORT (11111). scripts/test.sh gives every run its own folder and free
# ports, so two runs never share or stop each other's stores. Virtuoso's `dba` account keeps
# the password of a new database, `dba`: it is reachable only on 127.0.0.1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DIR="${PACTGRAPH_STORES_DIR:-/tmp/pactgraph-stores}"
OX_PORT="${PACTGRAPH_OXIGRAPH_PORT:-17878}"
VT_PORT="${PACTGRAPH_VIRTUOSO_PORT:-18890}"
VT_SQL_PORT="${PACTGRAPH_VIRTUOSO_SQL_PORT:-11111}"
PYTHON="${PYTHON:-$( [[ -x .venv/bin/python ]] && echo .venv/bin/python || command -v python3 )}"
mkdir -p "$DIR"

log() { echo "start-stores: $*" >&2; }

# Wait until URL answers (any HTTP status), at most $2 seconds.
wait_http() {
    local url="$1" limit="$2" i
    for ((i = 0; i < limit * 4; i++)); do
        if curl -s -o /dev/null --max-time 2 "$url"; then return 0; fi
        sleep 0.25
    done
    return 1
}

# ---------------------------------------------------------------- Oxigraph server
OX_URL="http://127.0.0.1:${OX_PORT}"
OX_BIN="$(dirname "$PYTHON")/oxigraph"
if ! curl -s -o /dev/null --max-time 2 "$OX_URL/query"; then
    if [[ ! -x "$OX_BIN" ]] && ! command -v oxigraph >/dev/null; then
        log "pip install oxigraph (the server's command line)"
        "$PYTHON" -m pip install -q oxigraph >&2
    fi
    [[ -x "$OX_BIN" ]] || OX_BIN="$(command -v oxigraph)"
    log "starting the Oxigraph server on $OX_URL"
    # In memory: the tests and the benchmark push what they need; a restart starts empty.
    nohup "$OX_BIN" serve --bind "127.0.0.1:${OX_PORT}" --union-default-graph \
        >"$DIR/oxigraph.log" 2>&1 &
    echo $! >"$DIR/oxigraph.pid"
    wait_http "$OX_URL/query" 30 || { log "Oxigraph did not start; see $DIR/oxigraph.log"; exit 1; }
fi

# ---------------------------------------------------------------- Virtuoso
VT_URL="http://127.0.0.1:${VT_PORT}"
if ! curl -s -o /dev/null --max-time 2 "$VT_URL/sparql"; then
    if ! command -v virtuoso-t >/dev/null; then
        log "apt-get install virtuoso-opensource"
        sudo_=""
        if [[ "$(id -u)" -ne 0 ]]; then sudo_="sudo"; fi
        $sudo_ apt-get update -qq >&2
        # Debconf would ask for the packaged database's dba password; we never start that one.
        DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq virtuoso-opensource >&2
    fi
    VT_DIR="$DIR/virtuoso"
    mkdir -p "$VT_DIR"
    # The packaged ini with the database in our folder, both ports on loopback, and result
    # limits raised: Virtuoso silently truncates a result at ResultSetMaxRows, which would
    # defeat pactgraph's row cap (a 422 past the cap, never a short 200).
    awk -v dir="$VT_DIR" -v http="127.0.0.1:${VT_PORT}" -v sql="127.0.0.1:${VT_SQL_PORT}" '
        /^\[/ { section = $0 }
        function set(value) { sub(/=.*/, "= " value); }
        section == "[Database]" && /^(DatabaseFile|ErrorLogFile|LockFile|TransactionFile|xa_persistent_file)[ \t]*=/ {
            split($0, kv, "="); gsub(/[ \t]/, "", kv[1]); n = split(kv[2], p, "/")
            set(dir "/" p[n])
        }
        section == "[TempDatabase]" && /^(DatabaseFile|TransactionFile)[ \t]*=/ {
            split($0, kv, "="); n = split(kv[2], p, "/"); set(dir "/" p[n])
        }
        section == "[Parameters]" && /^ServerPort[ \t]*=/ { set(sql) }
        section == "[Parameters]" && /^DirsAllowed[ \t]*=/ { set(". , " dir ", /usr/share/virtuoso-opensource-7/vad") }
        section == "[Parameters]" && /^NumberOfBuffers[ \t]*=/ { set("170000") }
        section == "[Parameters]" && /^MaxDirtyBuffers[ \t]*=/ { set("130000") }
        section == "[HTTPServer]" && /^ServerPort[ \t]*=/ { set(http) }
        section == "[HTTPServer]" && /^(MaxClientConnections|ServerThreads)[ \t]*=/ { set("20") }
        section == "[URIQA]" && /^DefaultHost[ \t]*=/ { set(http) }
        section == "[SPARQL]" && /^ResultSetMaxRows[ \t]*=/ { set("10000000") }
        section == "[SPARQL]" && /^MaxQueryExecutionTime[ \t]*=/ { set("0") }
        section == "[SPARQL]" && /^MaxQueryCostEstimationTime[ \t]*=/ { set("0") }
        { print }
    ' /etc/virtuoso-opensource-7/virtuoso.ini >"$VT_DIR/virtuoso.ini"
    log "starting Virtuoso on $VT_URL (database in $VT_DIR)"
    rm -f "$VT_DIR/virtuoso.lck"
    (cd "$VT_DIR" && virtuoso-t +configfile "$VT_DIR/virtuoso.ini" +wait >"$DIR/virtuoso.start.log" 2>&1) \
        || { log "Virtuoso did not start; see $VT_DIR/virtuoso.log"; exit 1; }
    wait_http "$VT_URL/sparql" 60 || { log "Virtuoso's HTTP port did not open"; exit 1; }
fi

log "Oxigraph: $OX_URL  Virtuoso: $VT_URL"
echo "export PACTGRAPH_OXIGRAPH_URL=$OX_URL"
echo "export PACTGRAPH_VIRTUOSO_URL=$VT_URL"
