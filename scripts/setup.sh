#!/usr/bin/env bash
# Set up a development environment: .venv with pactgraph installed (editable) plus test tools.
# Idempotent: re-running only reinstalls when pyproject.toml changed. Safe on a fresh clone.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
VENV=".venv"

# The venv sees only what this script installs into it: system site packages would hide a
# dependency missing from pyproject.toml (it would work here and fail on a clean machine).
# A .venv made by an older version of this script with them visible is made anew.
if [[ -f "$VENV/pyvenv.cfg" ]] && grep -qi '^include-system-site-packages *= *true' "$VENV/pyvenv.cfg"; then
    echo "setup: $VENV sees the system's site packages; making it anew without them" >&2
    rm -rf "$VENV"
fi
if [[ ! -x "$VENV/bin/python" ]]; then
    echo "setup: creating $VENV with $("$PYTHON" --version)" >&2
    "$PYTHON" -m venv "$VENV"
fi

# Reinstall only when the dependency list changed (the install is editable, so code edits
# need nothing).
stamp="$VENV/.pactgraph-installed"
wanted="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$wanted" ]]; then
    echo "setup: pip install -e '.[test]'" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]'
    echo "$wanted" > "$stamp"
fi

# Steps added by other parts of the project (npm, apt, browsers) go below this line.

# The query page's third-party code (YASGUI, pinned in service/pactgraph/ui/package-lock.json)
# comes from the npm registry into git-ignored node_modules; without npm the page still works
# and says how to install the editor. --ignore-scripts: the packages need no install hooks.
if command -v npm >/dev/null 2>&1; then
    if [[ ! -f service/pactgraph/ui/node_modules/.package-lock.json \
        || service/pactgraph/ui/package-lock.json -nt service/pactgraph/ui/node_modules/.package-lock.json ]]; then
        echo "setup: npm ci --prefix service/pactgraph/ui" >&2
        npm ci --prefix service/pactgraph/ui --ignore-scripts --no-audit --no-fund --no-update-notifier \
            --loglevel=error </dev/null
    fi
else
    echo "setup: npm not found; the query page will run without its editor" >&2
fi

# The command lives in the venv, which is not on PATH: say how to run it (stderr, every run).
echo "setup: ready. Run pactgraph as .venv/bin/pactgraph, or 'source .venv/bin/activate' first" >&2
