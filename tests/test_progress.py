"""Progress of long commands: live on a terminal, plain lines in logs, nothing with --quiet.

The commands run for real (the installed ``pactgraph`` script on ``tests/data/mini``): under
a pseudo-terminal for the live display, with pipes for the log form. stdout carries only a
command's result either way.
"""

from __future__ import annotations

import io
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pactgraph import progress
from pactgraph.release.build import GATES
from pactgraph.release.published import Release, latest_release
from pactgraph.release.push import PushOptions, push_release
from pactgraph.settings import Settings

# Every stage a build goes through, in order: loading, the release gates, then the output.
BUILD_STAGES = ["load", *(name for name, _gate in GATES), "n-quads", "dumps", "linked-data"]
BUILD_STAGES_NEW_RELEASE = [*BUILD_STAGES, "publish"]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
PLAIN_LINE = re.compile(r"^pactgraph (?P<command>[a-z]+): (?P<stage>[a-z-]+): .+ in \d+\.\d s$")


def _script() -> str:
    found = shutil.which("pactgraph", path=str(Path(sys.executable).parent)) or shutil.which(
        "pactgraph"
    )
    assert found, "the pactgraph console script is not installed: run scripts/setup.sh"
    return found


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PACTGRAPH_DATA", "NO_COLOR"}}
    return {**env, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "40"}


def _run_on_terminal(args: list[str], cwd: Path, stdout_to_pipe: bool) -> tuple[str, str, int]:
    """Run with stderr (and stdout unless ``stdout_to_pipe``) on a pseudo-terminal.

    Returns (what the terminal showed, what went to the stdout pipe, exit status).
    """
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        args,
        cwd=cwd,
        env=_env(),
        stdin=follower,
        stdout=subprocess.PIPE if stdout_to_pipe else follower,
        stderr=follower,
    )
    os.close(follower)
    shown = bytearray()
    while True:
        ready, _, _ = select.select([leader], [], [], 300)
        if not ready:
            proc.kill()
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: every holder of the terminal's other end has closed it
            break
        if not chunk:
            break
        shown += chunk
    out = proc.stdout.read().decode() if proc.stdout else ""
    status = proc.wait(timeout=60)
    os.close(leader)
    return shown.decode("utf-8", "replace"), out, status


def _build_args(settings: Settings, out: Path, *extra: str) -> list[str]:
    return [_script(), "--data", str(settings.root), *extra, "build", "--out", str(out)]


def _stages(stderr: str) -> list[str]:
    lines = stderr.splitlines()
    for line in lines:
        assert PLAIN_LINE.match(line), f"not a plain progress line: {line!r}"
    return [PLAIN_LINE.match(line)["stage"] for line in lines]


# ------------------------------------------------------------------------- a terminal


def test_build_on_a_terminal_shows_each_stage_live(mini_settings: Settings, tmp_path: Path):
    out = tmp_path / "dist"
    shown, _, status = _run_on_terminal(_build_args(mini_settings, out), tmp_path, False)
    assert status == 0, shown
    assert ANSI.search(shown), "no live display (cursor or colour codes) on a terminal"
    text = ANSI.sub("", shown)
    for name in BUILD_STAGES_NEW_RELEASE:
        assert re.search(rf"✓ {re.escape(name)}: .+ \d+\.\d s", text), f"stage {name}: {text}"
    assert re.search(r"load: [\d,]+ quads from \d+ files", text)
    release = latest_release(out)
    assert release is not None and f"release {release.version}" in text


def test_build_on_a_terminal_keeps_stdout_to_the_result(mini_settings: Settings, tmp_path):
    out = tmp_path / "dist"
    shown, stdout, status = _run_on_terminal(_build_args(mini_settings, out), tmp_path, True)
    assert status == 0, shown
    release = latest_release(out)
    assert release is not None
    expected = f"release {release.version}: {release.triple_count} triples in {release.path}\n"
    assert stdout == expected
    assert "✓ shacl" in ANSI.sub("", shown)  # the progress went to the terminal (stderr)


def test_quiet_on_a_terminal_shows_no_progress(mini_settings: Settings, tmp_path: Path):
    args = _build_args(mini_settings, tmp_path / "dist", "--quiet")
    shown, stdout, status = _run_on_terminal(args, tmp_path, True)
    assert status == 0, shown
    assert shown == ""
    assert stdout.startswith("release ")


# ------------------------------------------------------------------------------- logs


def test_build_without_a_terminal_prints_one_plain_line_per_stage(
    mini_settings: Settings, tmp_path: Path
):
    out = tmp_path / "dist"
    done = subprocess.run(
        _build_args(mini_settings, out), cwd=tmp_path, env=_env(), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stderr and "\r" not in done.stderr
    assert _stages(done.stderr) == BUILD_STAGES_NEW_RELEASE
    assert {PLAIN_LINE.match(line)["command"] for line in done.stderr.splitlines()} == {"build"}
    release = latest_release(out)
    assert release is not None
    result = f"release {release.version}: {release.triple_count} triples in {release.path}\n"
    assert done.stdout == result

    # The same input again: the release exists, so there is nothing to publish.
    again = subprocess.run(
        _build_args(mini_settings, out), cwd=tmp_path, env=_env(), capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr
    assert _stages(again.stderr) == BUILD_STAGES


def test_quiet_prints_no_progress_and_the_same_stdout(mini_settings: Settings, tmp_path: Path):
    out = tmp_path / "dist"
    loud = subprocess.run(
        _build_args(mini_settings, out), cwd=tmp_path, env=_env(), capture_output=True, text=True
    )
    quiet = subprocess.run(
        _build_args(mini_settings, out, "--quiet"),
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert loud.returncode == quiet.returncode == 0
    assert loud.stderr  # so the empty stderr below is --quiet's doing
    assert quiet.stderr == ""
    assert quiet.stdout == loud.stdout


def test_validate_without_a_terminal_prints_plain_stages_and_the_report_on_stdout(
    mini_settings: Settings, tmp_path: Path
):
    args = [_script(), "--data", str(mini_settings.root), "validate"]
    done = subprocess.run(args, cwd=tmp_path, env=_env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert _stages(done.stderr) == ["load", "shacl"]
    assert "validate: shacl: conforms in" in done.stderr
    assert done.stdout == "Conforms: no violations.\n"
    quiet = subprocess.run(
        [*args[:3], "-q", *args[3:]], cwd=tmp_path, env=_env(), capture_output=True, text=True
    )
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout == done.stdout


def test_a_failing_stage_adds_no_line_before_the_error(mini_copy: Settings, tmp_path: Path):
    (mini_copy.graph_dir / "broken.ttl").write_text("<a> <b> .\n", encoding="utf-8")
    done = subprocess.run(
        _build_args(mini_copy, tmp_path / "dist"),
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("pactgraph: error: ")  # the load stage failed: no line
    assert "broken.ttl" in done.stderr


# ----------------------------------------------------------- the library, no terminal


class _GraphStore(BaseHTTPRequestHandler):
    """A Graph Store endpoint that accepts every PUT and POST (and keeps nothing)."""

    def _accept(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(204)
        self.end_headers()

    do_PUT = do_POST = _accept

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def graph_store() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _GraphStore)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/store"
    finally:
        server.shutdown()
        server.server_close()


class _Recorder(progress.Reporter):
    """Keeps every count a stage reports."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[str, list[int]] = {}
        self.lines: list[str] = []

    def advanced(self, stage: progress.Stage) -> None:
        self.counts.setdefault(stage.name, []).append(stage.done)

    def log(self, line: str) -> None:
        self.lines.append(line)


def test_push_counts_triples_up_to_the_release_total(mini_release: Release, graph_store: str):
    recorder = _Recorder()
    with progress.using(recorder):
        pushed = push_release(mini_release, graph_store, options=PushOptions(chunk_triples=3))
    counts = recorder.counts["push"]
    assert counts == sorted(counts)  # no retry here, so the count only grows
    assert counts[-1] == sum(pushed.values()) == sum(mini_release.metadata["graphs"].values())
    assert len(counts) > len(pushed)  # moved by chunk, not only per graph
    graphs = [line.split(": ")[0] for line in recorder.lines]
    assert graphs == [f"pushed {graph}" for graph in sorted(pushed)]


def test_the_library_is_quiet_unless_asked(mini_release: Release, graph_store: str, capfd):
    push_release(mini_release, graph_store)
    assert capfd.readouterr() == ("", "")
    log = io.StringIO()
    with progress.using(progress.for_stream(log, prefix="x: ")):
        push_release(mini_release, graph_store)
    lines = r"(x: pushed \S+: \d+ triples in 1 request\(s\)\n)+x: push: .+ s\n"
    assert re.fullmatch(lines, log.getvalue())
