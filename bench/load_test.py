"""Load test on loopback: fixed clients for a fixed time, then the same with a worker killed.

Starts ``create_app`` under uvicorn in its own process (as ``pactgraph serve`` does) over the
latest release in ``--dist``. Phase ``steady``: ``--clients`` threads, each with one
keep-alive connection, send the queries of ``bench/queries/*.rq`` in turn for ``--duration``
seconds. Phase ``kill``: the same, and half-way through one query worker is sent SIGKILL.
Throughout, the resident memory (RSS) of the server process and of its worker processes is
sampled from ``/proc`` twice a second.

Pass criteria (printed and written with ``--out``): no error in ``steady``; in ``kill`` at
most one failed request (a worker holds one query at a time) and the pool back at full
strength with exactly one restart, by itself; RSS flat (the last samples of a phase within
``--rss-slack`` of its first).

Usage::

    python bench/load_test.py --dist dist --clients 8 --duration 20 \\
        --out bench/results/load.md
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ROOT / "bench" / "queries"
PAGE = os.sysconf("SC_PAGE_SIZE")

_CHILD = """
import json, socket, sys
from pathlib import Path
import uvicorn
from pactgraph.serve.app import create_app
from pactgraph.serve.config import ServiceConfig
from pactgraph.serve.server import uvicorn_config
from pactgraph.release.published import Release
release = Release.open(Path(sys.argv[1]))
config = ServiceConfig(**json.loads(sys.argv[3]))
sock = socket.socket(fileno=int(sys.argv[2]))
server = uvicorn.Server(uvicorn_config(create_app(release, config), config, log_level="warning"))
server.run(sockets=[sock])
"""


@dataclass
class Phase:
    """What one phase measured."""

    name: str
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    error_texts: list[str] = field(default_factory=list)
    rss_server_mb: list[float] = field(default_factory=list)
    rss_workers_mb: list[float] = field(default_factory=list)
    killed_pid: int | None = None
    health_after: dict = field(default_factory=dict)

    def percentile(self, p: float) -> float:
        data = sorted(self.latencies_ms)
        return data[min(len(data) - 1, int(p / 100 * len(data)))] if data else float("nan")


# ------------------------------------------------------------------ processes and memory


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _rss_mb(pid: int) -> float:
    try:
        pages = int((Path("/proc") / str(pid) / "statm").read_text().split()[1])
    except (OSError, IndexError):
        return 0.0
    return pages * PAGE / 1024**2


def worker_pids(server_pid: int) -> list[int]:
    """The query workers: children of the server started by ``multiprocessing.spawn``."""
    pids = []
    for pid in _children(server_pid):
        try:
            cmdline = (Path("/proc") / str(pid) / "cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline:
            pids.append(pid)
    return sorted(pids)


def start_server(release_dir: Path, overrides: dict) -> tuple[subprocess.Popen, int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(256)
    port = sock.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "service")}
    args = [str(release_dir), str(sock.fileno()), json.dumps(overrides)]
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, *args], pass_fds=[sock.fileno()], env=env
    )
    sock.close()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if health(port).get("status") == "ok":
                return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start")


def health(port: int) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/healthz")
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()


# ------------------------------------------------------------------ the load


def run_phase(
    name: str, port: int, server_pid: int, clients: int, duration: float, kill: bool
) -> Phase:
    phase = Phase(name)
    queries = [p.read_text(encoding="utf-8") for p in sorted(QUERIES.glob("*.rq"))]
    lock = threading.Lock()
    stop = threading.Event()

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        i = index
        while not stop.is_set():
            target = "/sparql?" + urlencode({"query": queries[i % len(queries)]})
            i += 1
            started = time.perf_counter()
            try:
                conn.request("GET", target, headers={"Accept": "application/json"})
                response = conn.getresponse()
                body = response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as error:
                status, body = 0, str(error).encode()
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if status == 200:
                    phase.latencies_ms.append(elapsed)
                else:
                    phase.errors[status] += 1
                    phase.error_texts.append(body.decode("utf-8", "replace").strip()[:200])
        conn.close()

    def sample() -> None:
        while not stop.is_set():
            phase.rss_server_mb.append(_rss_mb(server_pid))
            phase.rss_workers_mb.append(sum(_rss_mb(p) for p in worker_pids(server_pid)))
            stop.wait(0.5)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    threads.append(threading.Thread(target=sample))
    for thread in threads:
        thread.start()
    if kill:
        stop.wait(duration / 2)
        phase.killed_pid = worker_pids(server_pid)[0]
        os.kill(phase.killed_pid, signal.SIGKILL)
        stop.wait(duration / 2)
    else:
        stop.wait(duration)
    stop.set()
    for thread in threads:
        thread.join()
    # Recovery is the pool's own doing: wait (bounded) for it, then record what it reports.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        phase.health_after = health(port)
        if phase.health_after["busy"] == 0 and phase.health_after["workers"] == len(
            worker_pids(server_pid)
        ):
            break
        time.sleep(0.2)
    return phase


# ------------------------------------------------------------------ report


def flat(samples: list[float], slack_mb: float) -> bool:
    """Whether memory stayed flat: the last quarter's mean within ``slack_mb`` of the first's."""
    if len(samples) < 8:
        return True
    quarter = len(samples) // 4
    return statistics.mean(samples[-quarter:]) - statistics.mean(samples[:quarter]) <= slack_mb


def report(phases: list[Phase], args: argparse.Namespace, workers: int) -> tuple[str, bool]:
    lines = [
        "# Load test",
        "",
        f"Command: `python bench/load_test.py {shlex.join(sys.argv[1:])}`",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, load average before the run "
        f"{' / '.join(f'{x:.2f}' for x in os.getloadavg())}. Loopback only. "
        f"{args.clients} clients, {args.duration:g} s per phase, {workers} query workers, "
        "queries `bench/queries/*.rq` in turn.",
        "",
        "| phase | answered | errors | req/s | p50 ms | p90 ms | p99 ms | max ms | "
        "server RSS MB (first → last) | workers RSS MB (first → last) | flat |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    ok = True
    for phase in phases:
        is_flat = flat(phase.rss_server_mb, args.rss_slack) and (
            phase.killed_pid is not None or flat(phase.rss_workers_mb, args.rss_slack)
        )
        lines.append(
            f"| {phase.name} | {len(phase.latencies_ms)} | "
            f"{sum(phase.errors.values())} {dict(phase.errors) or ''} | "
            f"{len(phase.latencies_ms) / args.duration:.0f} | {phase.percentile(50):.1f} | "
            f"{phase.percentile(90):.1f} | {phase.percentile(99):.1f} | "
            f"{max(phase.latencies_ms, default=float('nan')):.1f} | "
            f"{phase.rss_server_mb[0]:.0f} → {phase.rss_server_mb[-1]:.0f} | "
            f"{phase.rss_workers_mb[0]:.0f} → {phase.rss_workers_mb[-1]:.0f} | "
            f"{'yes' if is_flat else 'NO'} |"
        )
        ok &= is_flat
    steady, kill = phases
    lines += ["", "## Verdict", ""]
    checks = [
        ("steady: zero errors", not steady.errors),
        (
            f"kill: at most the killed worker's one in-flight request failed "
            f"({sum(kill.errors.values())} failed: {kill.error_texts[:1]})",
            sum(kill.errors.values()) <= 1 and set(kill.errors) <= {500},
        ),
        (
            f"kill: pool recovered by itself (workers {kill.health_after.get('workers')} of "
            f"{workers}, restarts {kill.health_after.get('worker_restarts')})",
            kill.health_after.get("workers") == workers
            and kill.health_after.get("worker_restarts") == 1,
        ),
        ("memory flat in both phases (see table; workers judged in steady only)", ok),
    ]
    for text, passed in checks:
        lines.append(f"- {'PASS' if passed else 'FAIL'}: {text}")
        ok &= passed
    return "\n".join(lines) + "\n", ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rss-slack", type=float, default=20.0, help="MB allowed to grow")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "service"))
    from pactgraph.release.published import latest_release

    release = latest_release(args.dist)
    if release is None:
        parser.error(f"no release in {args.dist}: run `pactgraph build --out {args.dist}`")
    overrides = {"max_concurrent": args.workers, "queue_size": args.clients * 2}
    proc, port = start_server(release.path, overrides)
    try:
        phases = [
            run_phase("steady", port, proc.pid, args.clients, args.duration, kill=False),
            run_phase("kill", port, proc.pid, args.clients, args.duration, kill=True),
        ]
    finally:
        proc.terminate()
        proc.wait(20)
    text, ok = report(phases, args, args.workers)
    text = text.replace("# Load test\n", f"# Load test\n\nRelease {release.version}.\n", 1)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
