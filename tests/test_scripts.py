"""The set-up and serve scripts tell a newcomer how to reach the command and pass options on."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_setup_says_how_to_run_the_command_from_the_venv():
    done = subprocess.run(
        ["scripts/setup.sh"], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # messages go to stderr
    assert ".venv/bin/pactgraph" in done.stderr
    assert "source .venv/bin/activate" in done.stderr
    assert (REPO / ".venv" / "bin" / "pactgraph").is_file()


def test_serve_script_passes_port_and_host_to_pactgraph_serve():
    done = subprocess.run(
        ["scripts/serve.sh", "--port", "8001", "--host", "127.0.0.2", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Usage: pactgraph serve" in done.stdout  # the options reached `pactgraph serve`
    assert "serve: .venv/bin/pactgraph serve --port 8001 --host 127.0.0.2 --help" in done.stderr
