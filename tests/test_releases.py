"""Citable releases: licences and citation in every release, the register of published
releases, ``pactgraph diff`` and the patch a release carries from its predecessor."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from cffconvert.citation import Citation
from click.testing import CliRunner

from pactgraph.cli.main import main
from pactgraph.release.build import ReleaseConflict, build
from pactgraph.release.build import build as build_release
from pactgraph.release.citation import LICENSE_FILES, citation_text, release_iri
from pactgraph.release.published import Release
from pactgraph.release.register import RegisterError, read_register, register_path, register_release
from pactgraph.settings import Settings

REPO = Path(__file__).resolve().parents[1]
ACTORS = Path("graph") / "actors" / "states.ttl"
TREATIES = Path("graph") / "instruments" / "treaties.ttl"
DELTA = '\nactor:delta a pact:State ; rdfs:label "Deltania"@en .\n'


def _old_and_new(settings: Settings, out: Path) -> tuple[Release, Release]:
    """Two releases of the mini data: the second renames a state, adds one, drops one, and
    retracts a statement from the treaty; the first is registered, the second built from it."""
    actors = settings.root / ACTORS
    treaties = settings.root / TREATIES
    actors.write_text(actors.read_text(encoding="utf-8") + DELTA, encoding="utf-8")
    old = build_release(out, settings)
    register_release(old.path, register_path(settings))
    actors.write_text(
        actors.read_text(encoding="utf-8")
        .replace(DELTA, '\nactor:gamma a pact:State ; rdfs:label "Gammaria"@en .\n')
        .replace('"Betastan"@en', '"Betastan Republic"@en'),
        encoding="utf-8",
    )
    text = treaties.read_text(encoding="utf-8")
    comment_at = text.index("    rdfs:comment")
    treaties.write_text(text[:comment_at].rstrip().rstrip(";") + " .\n", encoding="utf-8")
    new = build(out, settings, previous=old.path)
    return old, new


def _apply(old_dump: bytes, added: bytes, removed: bytes) -> bytes:
    """Apply a patch the way an integrator would: drop lines, add lines, sort as bytes."""
    lines = set(old_dump.splitlines()) - set(removed.splitlines())
    lines |= set(added.splitlines())
    return b"".join(line + b"\n" for line in sorted(lines))


def test_the_patch_turns_the_old_dump_into_the_new_one_byte_for_byte(
    mini_copy: Settings, tmp_path: Path, cli_runner: CliRunner
) -> None:
    old, new = _old_and_new(mini_copy, tmp_path / "dist")
    patch = tmp_path / "patch"
    result = cli_runner.invoke(
        main, ["-q", "diff", str(old.path), str(new.path), "--patch-dir", str(patch)]
    )
    assert result.exit_code == 0, result.output
    added, removed = (patch / "added.nq").read_bytes(), (patch / "removed.nq").read_bytes()
    assert added and removed
    assert _apply(old.nquads.read_bytes(), added, removed) == new.nquads.read_bytes()
    # The release carries the same patch, gzipped, and names it in release.json.
    previous = new.metadata["previous"]
    assert previous["version"] == old.version
    assert previous["iri"] == release_iri(old.version)
    assert gzip.decompress((new.path / previous["patch"]["added"]).read_bytes()) == added
    assert gzip.decompress((new.path / previous["patch"]["removed"]).read_bytes()) == removed
    listed = {line.split("  ", 1)[1] for line in new.checksums.splitlines()}
    assert {previous["patch"]["added"], previous["patch"]["removed"]} <= listed


def test_diff_reports_graphs_and_entities_as_text_and_json(
    mini_copy: Settings, tmp_path: Path, cli_runner: CliRunner
) -> None:
    old, new = _old_and_new(mini_copy, tmp_path / "dist")
    args = ["-q", "diff", str(old.path), str(new.path)]
    as_json = cli_runner.invoke(main, [*args, "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    report = json.loads(as_json.stdout)
    entities = report["entities"]
    actor = "https://w3id.org/pactgraph/id/actor/"
    treaty = "https://w3id.org/pactgraph/id/instrument/alpha-beta-treaty"
    assert entities[actor + "gamma"]["status"] == "added"
    assert entities[actor + "delta"]["status"] == "removed"
    assert entities[actor + "beta"]["status"] == "changed"
    assert [s["object"] for s in entities[actor + "beta"]["removed"]] == ['"Betastan"@en']
    assert [s["object"] for s in entities[actor + "beta"]["added"]] == ['"Betastan Republic"@en']
    assert entities[treaty]["status"] == "changed"
    assert entities[treaty]["added"] == []
    assert [s["predicate"] for s in entities[treaty]["removed"]] == [
        "<http://www.w3.org/2000/01/rdf-schema#comment>"
    ]
    old_lines = set(old.nquads.read_bytes().splitlines())
    new_lines = set(new.nquads.read_bytes().splitlines())
    summary = report["summary"]
    assert summary["triples_added"] == len(new_lines - old_lines)
    assert summary["triples_removed"] == len(old_lines - new_lines)
    assert summary == new.metadata["previous"]["summary"]
    per_graph = report["graphs"]
    assert sum(g["added"] for g in per_graph.values()) == summary["triples_added"]
    assert set(per_graph) >= {
        "https://w3id.org/pactgraph/graph/actors/states",
        "https://w3id.org/pactgraph/graph/instruments/treaties",
    }
    text = cli_runner.invoke(main, args).stdout
    assert "actor:beta (changed)" in text
    assert '- rdfs:label "Betastan"@en' in text
    assert '+ rdfs:label "Betastan Republic"@en' in text
    assert "actor:gamma (added)" in text and "actor:delta (removed)" in text


def test_diff_against_the_working_data_writes_no_release(
    mini_copy: Settings, tmp_path: Path, cli_runner: CliRunner
) -> None:
    out = tmp_path / "dist"
    old = build_release(out, mini_copy)
    actors = mini_copy.root / ACTORS
    actors.write_text(actors.read_text(encoding="utf-8") + DELTA, encoding="utf-8")
    before = sorted(out.iterdir())
    result = cli_runner.invoke(
        main, ["-q", "--data", str(mini_copy.root), "diff", str(old.path), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["entities"]["https://w3id.org/pactgraph/id/actor/delta"]["status"] == "added"
    assert report["summary"]["triples_removed"] == 0
    assert sorted(out.iterdir()) == before


def test_a_predecessor_the_register_does_not_know_is_refused(
    mini_copy: Settings, tmp_path: Path, cli_runner: CliRunner
) -> None:
    out = tmp_path / "dist"
    old = build_release(out, mini_copy)
    actors = mini_copy.root / ACTORS
    actors.write_text(actors.read_text(encoding="utf-8") + DELTA, encoding="utf-8")
    result = cli_runner.invoke(
        main, ["-q", "--data", str(mini_copy.root), "build", "--out", str(out),
               "--previous", str(old.path)],
    )
    assert result.exit_code == 2
    assert f"release {old.version} is not in the register" in result.stderr
    assert "pactgraph register" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted([old.version, "latest"])


def test_a_predecessor_whose_bytes_differ_from_the_register_is_refused(
    mini_copy: Settings, tmp_path: Path
) -> None:
    old = build_release(tmp_path / "dist", mini_copy)
    register = tmp_path / "releases.csv"
    register.write_text(
        f"version,date,nquads_sha256\n{old.version},2026-01-01,{'0' * 64}\n", encoding="utf-8"
    )
    with pytest.raises(RegisterError, match="not the published release"):
        build(tmp_path / "dist", mini_copy, previous=old.path, register=register)


def test_register_appends_once_and_refuses_other_bytes(mini_settings, tmp_path, cli_runner):
    release = build_release(tmp_path / "dist", mini_settings)
    register = tmp_path / "releases.csv"
    args = ["-q", "register", str(release.path), "--register", str(register)]
    args += ["--date", "2026-02-03"]
    first = cli_runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    again = cli_runner.invoke(main, args)
    assert "already registered" in again.stdout
    rows = read_register(register)
    assert [(r.version, r.date) for r in rows] == [(release.version, "2026-02-03")]
    assert rows[0].nquads_sha256.startswith(release.version.rsplit("-", 1)[1])
    register.write_text(register.read_text().replace(rows[0].nquads_sha256, "f" * 64))
    clash = cli_runner.invoke(main, args)
    assert clash.exit_code == 2 and "other bytes" in clash.stderr


def test_a_release_built_with_another_predecessor_is_not_overwritten(
    mini_copy: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "dist"
    _old, new = _old_and_new(mini_copy, out)
    sums = new.checksums
    with pytest.raises(ReleaseConflict):
        build(out, mini_copy)  # the same data without --previous: other files, same version
    assert new.checksums == sums


def test_without_previous_a_release_ignores_what_lies_in_dist(
    mini_copy: Settings, tmp_path: Path
) -> None:
    """Regression guard for the promise: nothing but the data decides a release's bytes."""
    crowded = tmp_path / "crowded"
    _old_and_new(mini_copy, crowded)
    (crowded / "latest").unlink()
    alone = build_release(tmp_path / "alone", mini_copy)
    (crowded / alone.version).rename(tmp_path / "set-aside")  # the --previous build of it
    again = build_release(crowded, mini_copy)
    assert again.version == alone.version
    assert again.checksums == alone.checksums
    assert "previous" not in again.metadata


# ------------------------------------------------------------------ licences and citation


def test_every_release_holds_the_licences_and_its_own_valid_citation(mini_release: Release):
    for name in LICENSE_FILES:
        assert (mini_release.path / name).read_bytes() == (REPO / name).read_bytes()
    listed = {line.split("  ", 1)[1] for line in mini_release.checksums.splitlines()}
    assert {*LICENSE_FILES, "CITATION.cff"} <= listed
    text = (mini_release.path / "CITATION.cff").read_text(encoding="utf-8")
    citation = Citation(text)
    citation.validate()  # raises on anything the CFF 1.2.0 schema refuses
    assert citation.cffobj["version"] == mini_release.version
    assert citation.cffobj["identifiers"][0]["value"] == release_iri(mini_release.version)
    assert citation.cffobj["license"] == mini_release.metadata["licenses"]["data"]["spdx"]
    licences = mini_release.metadata["licenses"]
    assert (licences["data"]["spdx"], licences["code"]["spdx"]) == ("CC-BY-4.0", "MIT")


def test_the_committed_citation_is_valid_and_cites_the_package_version() -> None:
    import tomllib

    citation = Citation((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    citation.validate()
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert citation.cffobj["version"] == project["version"]
    authors = [a["name"] for a in citation.cffobj["authors"]]
    assert authors == [a["name"] for a in project["authors"]]
    assert "repository-code" not in citation.cffobj  # no invented repository address


def test_a_broken_citation_fails_validation() -> None:
    """The validator can fail: the same file with an unknown licence is refused."""
    text = (REPO / "CITATION.cff").read_text(encoding="utf-8")
    broken = text.replace("license: MIT", "license: Not-A-Licence")
    assert broken != text
    with pytest.raises(Exception, match="Not-A-Licence"):
        Citation(broken).validate()


def test_void_names_both_licences_and_the_citation(mini_release: Release) -> None:
    import pyoxigraph as ox

    void = ox.Store()
    void.load(path=str(mini_release.path / "void.ttl"), format=ox.RdfFormat.TURTLE)
    ask = f"""
    PREFIX dcterms: <http://purl.org/dc/terms/>
    PREFIX dcat: <http://www.w3.org/ns/dcat#>
    ASK {{
      ?d dcterms:license <https://creativecommons.org/licenses/by/4.0/> ;
         dcterms:bibliographicCitation {json.dumps(citation_text(mini_release.version))} .
      ?service dcat:servesDataset ?d ; dcterms:license <http://spdx.org/licenses/MIT> .
    }}
    """
    assert void.query(ask)


# ------------------------------------------------------------------------- the service


def test_the_service_lists_the_changes_and_the_citation(
    mini_copy: Settings, tmp_path: Path, start_service
) -> None:
    import httpx

    old, new = _old_and_new(mini_copy, tmp_path / "dist")
    previous = new.metadata["previous"]
    with start_service(new) as url:
        index = httpx.get(url + "/dumps/", headers={"Accept": "application/json"}).json()
        entries = {v["version"]: v for v in index["versions"]}
        assert "changes" not in entries[old.version]
        changes = entries[new.version]["changes"]
        assert changes["from"] == old.version
        assert changes["summary"] == previous["summary"]
        for kind in ("added", "removed"):
            patch = httpx.get(url + changes["patch"][kind])
            assert patch.status_code == 200
            assert patch.content == (new.path / previous["patch"][kind]).read_bytes()
        assert httpx.get(url + changes["from_url"]).status_code == 200
        cited = entries[new.version]["citation"]
        assert cited["text"] == citation_text(new.version)
        cff = httpx.get(url + cited["url"])
        assert cff.headers["content-type"].startswith("application/yaml")
        assert cff.content == (new.path / "CITATION.cff").read_bytes()
        licence = httpx.get(url + entries[new.version]["licenses"]["data"]["url"])
        assert licence.content == (REPO / "LICENSE-DATA").read_bytes()

        page = httpx.get(url + f"/dumps/{new.version}/", headers={"Accept": "text/html"}).text
        assert f"Changes from <a href=\"/dumps/{old.version}/\">{old.version}</a>" in page
        assert previous["patch"]["added"] in page
        assert citation_text(new.version) in page


def test_entity_pages_say_how_to_cite_the_release(live_service) -> None:
    import httpx

    page = httpx.get(
        live_service.url + "/id/actor/alpha", headers={"Accept": "text/html"}
    ).text
    version = live_service.release.version
    assert "Cite this:" in page
    assert citation_text(version) in page
    assert f'href="/dumps/{version}/">{release_iri(version)}</a>' in page


@pytest.mark.parametrize(
    "module_name",
    ["pactgraph.release.citation", "pactgraph.release.diff", "pactgraph.release.register"],
)
def test_docstring_examples_run(module_name: str) -> None:
    import doctest
    import importlib

    outcome = doctest.testmod(importlib.import_module(module_name), optionflags=doctest.ELLIPSIS)
    assert outcome.attempted > 0, f"{module_name} has no examples"
    assert outcome.failed == 0
