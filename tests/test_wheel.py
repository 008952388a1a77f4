"""The wheel as a user gets it: built from the checkout, installed with its dependencies into a
fresh venv that sees no system site packages, and run from an empty folder.

This is what ``pip install`` promises: the data, the command line and the full query page
(YASGUI inside the wheel, see ``hatch_build.py``), with nothing borrowed from the checkout or
from packages that happen to be on the machine.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser import WAIT_MS, needs_browser
from click.testing import CliRunner
from service_fixtures import wait_until_serving

from pactgraph.cli.main import main
from pactgraph.settings import Settings

REPO = Path(__file__).resolve().parents[1]
SERVE_START_S = 300  # an installed copy builds its first release before serving


@dataclass(frozen=True)
class InstalledWheel:
    venv: Path
    elsewhere: Path  # an empty folder, the user's working directory

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def script(self) -> Path:
        return self.venv / "bin" / "pactgraph"

    def python_prints(self, code: str) -> str:
        """What ``code`` prints when run by the installed Python in the empty folder."""
        return subprocess.run(
            [self.python, "-c", code],
            cwd=self.elsewhere,
            env=self.env(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    def env(self) -> dict[str, str]:
        """A user's shell: no test-only data root or import path into the checkout."""
        drop = {"PACTGRAPH_DATA", "PYTHONPATH", "VIRTUAL_ENV"}
        return {k: v for k, v in os.environ.items() if k not in drop}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> InstalledWheel:
    """The wheel built from the checkout, installed with its dependencies into a bare venv."""
    root = tmp_path_factory.mktemp("wheel")
    wheels = root / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPO)],
        check=True,
        capture_output=True,
    )
    env_dir = root / "venv"
    # No system site packages: a dependency missing from pyproject.toml must fail here.
    # Without its own pip (creating one is slow); the outer pip installs into it.
    venv.EnvBuilder(system_site_packages=False, with_pip=False).create(env_dir)
    wheel = next(wheels.glob("pactgraph-*.whl"))
    pip = [sys.executable, "-m", "pip", "--python", str(env_dir / "bin" / "python")]
    subprocess.run([*pip, "install", "-q", "--disable-pip-version-check", str(wheel)], check=True)
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    return InstalledWheel(env_dir, elsewhere)


def test_the_venv_sees_no_system_packages(installed: InstalledWheel) -> None:
    config = (installed.venv / "pyvenv.cfg").read_text(encoding="utf-8")
    assert "include-system-site-packages = false" in config


def test_the_wheel_ships_the_data_and_validates_from_an_empty_folder(
    installed: InstalledWheel, settings: Settings
) -> None:
    root = installed.python_prints("from pactgraph.settings import SETTINGS; print(SETTINGS.root)")
    assert Path(root).is_relative_to(installed.venv)
    for folder in ("ontology", "ontology/vocab", "graph", "shapes", "queries"):
        shipped = {p.relative_to(root) for p in (Path(root) / folder).rglob("*.*")}
        in_checkout = {p.relative_to(settings.root) for p in (settings.root / folder).rglob("*.*")}
        assert shipped, f"{folder}/ is not in the wheel"
        # A subset, not equality: others may add files to the checkout while this runs.
        assert shipped <= in_checkout, folder

    validated = subprocess.run(
        [installed.script, "validate"],
        cwd=installed.elsewhere,
        env=installed.env(),
        capture_output=True,
        text=True,
        check=False,
    )
    # The same verdict as in-process on the same (shipped) files; comparing against the
    # checkout's files instead would race with edits made while the test runs.
    checkout = CliRunner().invoke(main, ["--data", root, "validate"])
    assert "Traceback" not in validated.stderr, validated.stderr
    assert validated.returncode == checkout.exit_code
    assert validated.stdout == checkout.stdout


def test_the_wheel_ships_the_licences_citation_and_register(installed: InstalledWheel) -> None:
    """The licence files are in the wheel's metadata (PEP 639) and where a release copies them
    from; so are CITATION.cff and the register of published releases."""
    where = subprocess.run(
        [installed.python, "-c",
         "from pactgraph.settings import project_file as f; "
         "print('\\n'.join(str(f(n)) for n in "
         "('LICENSE', 'LICENSE-DATA', 'CITATION.cff', 'releases.csv')))"],
        cwd=installed.elsewhere,
        env=installed.env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name, path in zip(("LICENSE", "LICENSE-DATA", "CITATION.cff", "releases.csv"), where,
                          strict=True):
        assert Path(path).is_relative_to(installed.venv), path
        assert Path(path).read_bytes() == (REPO / name).read_bytes(), name
    (dist_info,) = installed.venv.glob("lib/python*/site-packages/pactgraph-*.dist-info")
    for name in ("LICENSE", "LICENSE-DATA"):
        assert (dist_info / "licenses" / name).read_bytes() == (REPO / name).read_bytes()
    metadata = (dist_info / "METADATA").read_text(encoding="utf-8")
    assert "License-Expression: MIT AND CC-BY-4.0" in metadata


def test_the_wheel_carries_the_pinned_editor(installed: InstalledWheel) -> None:
    found = installed.python_prints("from pactgraph.serve import ui; print(ui.yasgui_version())")
    lock = (REPO / "service" / "pactgraph" / "ui" / "package.json").read_text(encoding="utf-8")
    assert found != "None"
    assert f'"@zazuko/yasgui": "{found}"' in lock


@pytest.fixture(scope="module")
def served(installed: InstalledWheel) -> Iterator[str]:
    """``pactgraph serve`` from the installed wheel, started in the empty folder."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = (installed.elsewhere / "serve.log").open("wb")
    proc = subprocess.Popen(
        [installed.script, "serve", "--port", str(port)],
        cwd=installed.elsewhere,
        env=installed.env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_until_serving(url, proc, SERVE_START_S)
        except RuntimeError as error:
            log.flush()
            raise AssertionError((installed.elsewhere / "serve.log").read_text()) from error
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@needs_browser
def test_the_installed_query_page_has_a_working_editor(chromium: Any, served: str) -> None:
    context = chromium.new_context(base_url=served)
    page = context.new_page()
    try:
        page.goto("/")
        page.wait_for_selector(".tabPanel.active .CodeMirror", timeout=WAIT_MS)
        query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
        page.evaluate("q => { window.pactgraphYasgui.getTab().setQuery(q); }", query)
        page.locator(".tabPanel.active .yasqe_queryButton").click()
        cell = page.locator(".tabPanel.active .yasr tbody tr td").nth(1)
        cell.wait_for(timeout=WAIT_MS)
        answer = httpx.get(served + "/sparql", params={"query": query}, timeout=30).json()
        # The page shows the number as a number, digits grouped ("18,084").
        shown = cell.inner_text().strip().replace(",", "")
        assert answer["results"]["bindings"][0]["n"]["value"] == shown
        # Chart.js, for the Chart view, is inside the wheel too.
        assert httpx.get(served + "/ui/vendor/chart.umd.min.js", timeout=30).status_code == 200
    finally:
        context.close()
