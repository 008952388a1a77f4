"""Releases are atomic and verified: nothing half-written or corrupted is ever served.

- A dump file whose bytes no longer match ``SHA256SUMS`` makes the service refuse to start,
  with a message naming the file (checked in ``create_app``, before anything is opened).
- A ``pactgraph build`` killed (SIGKILL) while it writes its release leaves the previous
  release intact, ``latest`` pointing at it, and the service still serving it; the
  half-written temporary folder is not offered under ``/dumps/``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from pactgraph.release.published import Release, ReleaseCorrupt, latest_release, verify_release
from pactgraph.serve.app import create_app
from pactgraph.settings import Settings

SERVICE_DIR = Path(__file__).resolve().parents[1] / "service"
BUILD_TIMEOUT_S = 300.0


def _copy_release(release: Release, directory: Path) -> Release:
    target = directory / release.path.name
    shutil.copytree(release.path, target)
    return Release.open(target)


def test_an_intact_release_verifies(mini_release: Release) -> None:
    verify_release(mini_release)  # raises if any file differs


@pytest.mark.parametrize("damage", ["flip-a-byte", "truncate", "delete"])
def test_a_corrupted_dump_is_refused_at_start_up(mini_release, tmp_path, damage) -> None:
    release = _copy_release(mini_release, tmp_path)
    dump = release.path / "pactgraph.nt"
    data = dump.read_bytes()
    if damage == "flip-a-byte":
        dump.write_bytes(data[:10] + bytes([data[10] ^ 1]) + data[11:])
    elif damage == "truncate":
        dump.write_bytes(data[: len(data) // 2])
    else:
        dump.unlink()
    with pytest.raises(ReleaseCorrupt) as refused:
        create_app(release)
    message = str(refused.value)
    assert "pactgraph.nt" in message and "will not be served" in message
    assert ("missing" if damage == "delete" else "SHA-256") in message
    assert "pactgraph.ttl" not in message  # only the damaged file is named


def test_the_real_server_refuses_a_corrupted_release(mini_release, tmp_path, start_service):
    release = _copy_release(mini_release, tmp_path)
    gz = release.path / "pactgraph.ttl.gz"
    gz.write_bytes(gz.read_bytes() + b"appended")
    log = tmp_path / "server.log"
    with pytest.raises(RuntimeError, match="exited"), start_service(release, log_path=log):
        pass  # pragma: no cover - the server must not come up
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "ReleaseCorrupt" in text and "pactgraph.ttl.gz" in text


# ------------------------------------------------------------------ an interrupted build

_BUILD = "from pactgraph.cli.main import main; main()"


def _start_build(data: Path, out: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(SERVICE_DIR)}
    return subprocess.Popen(
        [sys.executable, "-c", _BUILD, "--data", str(data), "build", "--out", str(out)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _kill_while_writing(proc: subprocess.Popen[bytes], out: Path) -> bool:
    """SIGKILL the build as soon as its temporary release folder appears; whether it did."""
    deadline = time.monotonic() + BUILD_TIMEOUT_S
    while time.monotonic() < deadline and proc.poll() is None:
        if any(child.name.startswith(".build-") for child in out.iterdir()):
            proc.send_signal(signal.SIGSTOP)  # freeze first: no more writes from here
            proc.kill()
            proc.wait()
            return True
        time.sleep(0.002)
    proc.kill()
    proc.wait()
    return False


def test_a_build_killed_mid_write_leaves_the_previous_release_served(
    mini_release, mini_copy: Settings, tmp_path, start_service
) -> None:
    out = tmp_path / "dist"
    shutil.copytree(mini_release.path.parent, out, symlinks=True)
    before = latest_release(out)
    assert before is not None
    states = mini_copy.root / "graph" / "actors" / "states.ttl"
    killed_mid_write = False
    for attempt in range(3):  # a build that wins the race to the rename proves nothing
        states.write_text(
            states.read_text(encoding="utf-8").replace('"Alphaland', f'"Alphaland {attempt}'),
            encoding="utf-8",
        )
        if _kill_while_writing(_start_build(mini_copy.root, out), out):
            after = latest_release(out)
            assert after is not None
            if after.version == before.version:
                killed_mid_write = True
                break
        before = latest_release(out)
    assert killed_mid_write, "the build was never caught mid-write"
    leftovers = [c.name for c in out.iterdir() if c.name.startswith(".build-")]
    assert leftovers, "the kill should leave the temporary folder behind"
    current = latest_release(out)
    assert current is not None and current.version == before.version
    verify_release(current)  # the previous release is byte-for-byte intact
    with start_service(current) as url:
        health = httpx.get(url + "/healthz", timeout=30).json()
        assert health["version"] == before.version
        ask = httpx.get(url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=30)
        assert ask.status_code == 200 and ask.json()["boolean"] is True
        listing = httpx.get(url + "/dumps/", headers={"accept": "application/json"}, timeout=30)
        assert listing.status_code == 200
        assert ".build-" not in listing.text
        for name in leftovers:
            sneaky = httpx.get(f"{url}/dumps/{name}/pactgraph.nt", timeout=30)
            assert sneaky.status_code == 404


def test_a_half_written_release_folder_is_never_offered(mini_release, tmp_path, start_service):
    # What a build killed after writing SHA256SUMS but before its rename leaves behind.
    out = tmp_path / "dist"
    shutil.copytree(mini_release.path.parent, out, symlinks=True)
    half = out / ".build-9.9.9-x-abcd"
    shutil.copytree(mini_release.path, half, ignore=shutil.ignore_patterns("store"))
    (half / "pactgraph.nt").write_bytes(b"half written")
    current = latest_release(out)
    assert current is not None
    with start_service(current) as url:
        listing = httpx.get(url + "/dumps/", headers={"accept": "application/json"}, timeout=30)
        assert listing.status_code == 200 and current.version in listing.text
        assert ".build-" not in listing.text
        for path in (f"/dumps/{half.name}/", f"/dumps/{half.name}/pactgraph.nt"):
            assert httpx.get(url + path, timeout=30).status_code == 404


def test_pactgraph_serve_refuses_a_corrupted_release(mini_release, tmp_path, cli_runner):
    from pactgraph.cli.main import main

    out = tmp_path / "dist"
    shutil.copytree(mini_release.path.parent, out, symlinks=True)
    current = latest_release(out)
    assert current is not None
    (current.path / "void.ttl").write_text("tampered\n", encoding="utf-8")
    result = cli_runner.invoke(main, ["serve", "--dist", str(out), "--port", "1"])
    assert result.exit_code == 1
    assert "void.ttl" in result.stderr and "will not be served" in result.stderr
