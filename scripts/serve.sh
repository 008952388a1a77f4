#!/usr/bin/env bash
# Set up (if needed) and start the pactgraph SPARQL service; arguments go to `pactgraph serve`,
# e.g. scripts/serve.sh --port 8001 --host 0.0.0.0 (default 127.0.0.1:8000).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
echo "serve: .venv/bin/pactgraph serve $*  (other commands: .venv/bin/pactgraph --help)" >&2
exec .venv/bin/pactgraph serve "$@"
