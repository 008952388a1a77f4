"""Shared fixtures: data roots, settings, and built releases.

``release`` is a release of the shipped data, built once per test session into a temporary
``dist`` (``release.path.parent``); service and query tests reuse it. ``mini_*`` fixtures use
the small tree in ``tests/data/mini`` (fast, and independent of the real data's progress).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pactgraph.release.build import ReleaseError
from pactgraph.release.build import build as build_release
from pactgraph.release.published import Release
from pactgraph.settings import SETTINGS, Settings

# The live-service fixtures (uvicorn on a loopback port), the headless browser and the
# counting listener live in their own plugin modules.
pytest_plugins = ["service_fixtures", "browser", "probes"]

TESTS_DIR = Path(__file__).resolve().parent
TEST_DATA = TESTS_DIR / "data"
MINI_ROOT = TEST_DATA / "mini"
BROKEN_DIR = TEST_DATA / "broken"


@pytest.fixture(scope="session")
def settings() -> Settings:
    """Settings of the shipped data (the repository's own folders in a checkout)."""
    return SETTINGS


@pytest.fixture(scope="session")
def release(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Release:
    """A release of the shipped data, built once per session; its ``dist`` is its parent."""
    try:
        return build_release(tmp_path_factory.mktemp("dist"), settings)
    except ReleaseError as error:  # say why, or every test using the fixture just errors
        pytest.fail(f"{error}:\n" + "\n".join(error.problems), pytrace=False)


@pytest.fixture(scope="session")
def mini_settings() -> Settings:
    """Settings of the small fixture tree ``tests/data/mini`` (read-only: copy to change)."""
    return Settings(root=MINI_ROOT)


@pytest.fixture(scope="session")
def mini_release(tmp_path_factory: pytest.TempPathFactory, mini_settings: Settings) -> Release:
    """A release of ``tests/data/mini``, built once per session."""
    return build_release(tmp_path_factory.mktemp("mini-dist"), mini_settings)


@pytest.fixture
def mini_copy(tmp_path: Path) -> Settings:
    """A private, writable copy of ``tests/data/mini`` (for tests that break the data)."""
    root = tmp_path / "data"
    shutil.copytree(MINI_ROOT, root)
    return Settings(root=root)


@pytest.fixture
def cli_runner() -> CliRunner:
    """A click runner that keeps stdout and stderr apart."""
    try:
        return CliRunner(mix_stderr=False)  # click < 8.2
    except TypeError:
        return CliRunner()  # click >= 8.2 always keeps them apart
