#!/usr/bin/env bash
# Set up (if needed) and start the pactgraph SPARQL service; arguments go to `pactgraph serve`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
exec .venv/bin/pactgraph serve "$@"
