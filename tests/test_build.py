"""Release builds: deterministic dumps, faithful round trips, checksums, atomic publishing."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Dataset, Graph, URIRef
from rdflib.compare import isomorphic

from pactgraph.gates.reason import INFERRED_GRAPH
from pactgraph.rdf.dataset import DataFileError, load_dataset, load_store
from pactgraph.rdf.jsonld import compact_jsonld
from pactgraph.rdf.namespaces import CONTEXT_FILE
from pactgraph.rdf.terms import to_rdflib
from pactgraph.release import build as build_module
from pactgraph.release.build import (
    GATES,
    ReleaseError,
    checked_store,
    gzip_bytes,
)
from pactgraph.release.build import build as build_release
from pactgraph.release.published import Release, latest_release
from pactgraph.release.store import current_release, is_current
from pactgraph.settings import Settings

BROKEN_DIR = Path(__file__).parent / "data" / "broken"
DUMPS = ("pactgraph.ttl", "pactgraph.nt", "pactgraph.nq", "pactgraph.jsonld")


def _snapshot(out: Path) -> dict[str, object]:
    """Every entry under ``out`` (links by target, files by content hash)."""
    state: dict[str, object] = {}
    for path in sorted(out.rglob("*")):
        key = str(path.relative_to(out))
        if path.is_symlink():
            state[key] = ("link", str(path.readlink()))
        elif path.is_file():
            state[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


def _expected(settings: Settings) -> Dataset:
    """What a release must hold, found independently of the build's own loader: the files as
    rdflib parses them, plus the inferred graph the build's gates add."""
    dataset = load_dataset(settings=settings)
    inferred = ox.NamedNode(str(INFERRED_GRAPH))
    for quad in checked_store(settings).quads_for_pattern(None, None, None, inferred):
        dataset.add((*map(to_rdflib, quad.triple), URIRef(str(INFERRED_GRAPH))))
    return dataset


def _union(dataset: Dataset) -> Graph:
    union = Graph()
    union.addN((s, p, o, union) for s, p, o, _ in dataset.quads((None, None, None, None)))
    return union


def _named(dataset: Dataset) -> dict:
    default = dataset.default_graph.identifier
    return {g.identifier: g for g in dataset.graphs() if g.identifier != default and len(g)}


def _without_bnodes(triples) -> set:
    return {t for t in triples if not any(isinstance(term, BNode) for term in t)}


# ------------------------------------------------------------------------ determinism


def test_two_builds_of_the_same_input_are_byte_identical(mini_settings: Settings, tmp_path):
    first = build_release(tmp_path / "a", mini_settings)
    second = build_release(tmp_path / "b", mini_settings)
    assert first.version == second.version
    for name in first.files:
        assert (first.path / name).read_bytes() == (second.path / name).read_bytes(), name


def test_version_is_ontology_version_and_nquads_hash(mini_release: Release):
    digest = hashlib.sha256(mini_release.nquads.read_bytes()).hexdigest()
    assert mini_release.version == f"0.0.1-{digest[:12]}"
    assert mini_release.path.name == mini_release.version


def test_line_dumps_are_sorted_and_unique(mini_release: Release):
    for name in ("pactgraph.nt", "pactgraph.nq"):
        lines = (mini_release.path / name).read_text(encoding="utf-8").splitlines()
        assert lines == sorted(set(lines)), name
        assert lines, name


# ------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("which", ["mini", "shipped"])
def test_every_dump_parses_back_to_the_dataset(which, mini_release, mini_settings, request):
    chosen_release = mini_release if which == "mini" else request.getfixturevalue("release")
    chosen_settings = mini_settings if which == "mini" else request.getfixturevalue("settings")
    dataset = _expected(chosen_settings)
    union = _union(dataset)
    path = chosen_release.path

    for name, fmt in (("pactgraph.ttl", "turtle"), ("pactgraph.nt", "nt")):
        parsed = Graph().parse(path / name, format=fmt)
        assert isomorphic(parsed, union), name
        assert _without_bnodes(parsed) == _without_bnodes(union), name

    expected = _named(dataset)
    for name, fmt in (("pactgraph.nq", "nquads"), ("pactgraph.jsonld", "json-ld")):
        parsed = _named(Dataset().parse(path / name, format=fmt))
        assert set(parsed) == set(expected), name
        for graph_name, graph in expected.items():
            assert isomorphic(parsed[graph_name], graph), (name, graph_name)
            assert _without_bnodes(parsed[graph_name]) == _without_bnodes(graph)


def test_shipped_instance_data_has_no_blank_nodes(release: Release):
    """The contract's rule, so plain set equality of quads is the whole round-trip story."""
    instance = [
        line for line in release.nquads.read_text().splitlines() if "/graph/vocab/" not in line
    ]
    instance = [line for line in instance if "/graph/ontology/" not in line]
    assert instance
    assert not [line for line in instance if "_:" in line.split('"')[0]]


# --------------------------------------------------------------------- release contents


def test_sha256sums_lists_every_published_file(mini_release: Release):
    listed = {}
    for line in mini_release.checksums.splitlines():
        digest, name = line.split("  ", 1)
        listed[name] = digest
    assert list(listed) == sorted(listed)
    on_disk = {p.name for p in mini_release.path.iterdir() if p.is_file()} - {"SHA256SUMS"}
    assert set(listed) == on_disk
    assert "store" not in listed
    for name, digest in listed.items():
        assert hashlib.sha256((mini_release.path / name).read_bytes()).hexdigest() == digest


def test_gzipped_dumps_decompress_to_the_plain_ones_and_are_reproducible(mini_release):
    for name in DUMPS:
        packed = (mini_release.path / f"{name}.gz").read_bytes()
        assert gzip.decompress(packed) == (mini_release.path / name).read_bytes()
        assert packed[4:8] == b"\0\0\0\0"  # mtime 0
        assert not packed[3] & 0x08  # FNAME flag unset: no file name stored
    assert gzip_bytes(b"same") == gzip_bytes(b"same")


def test_release_json_counts_and_sizes(mini_release: Release, mini_settings: Settings):
    meta = json.loads((mini_release.path / "release.json").read_text())
    assert set(meta) == {
        "version",
        "ontology_version",
        "triple_count",
        "quad_count",
        "graphs",
        "files",
        "source_digest",
        "licenses",
        "citation",
    }  # and so no timestamps (and no "previous": built without --previous)
    nt_lines = (mini_release.path / "pactgraph.nt").read_text().splitlines()
    assert meta["triple_count"] == len(nt_lines) == mini_release.triple_count
    dataset = _expected(mini_settings)
    assert meta["graphs"] == {str(name): len(g) for name, g in _named(dataset).items()}
    assert meta["quad_count"] == sum(meta["graphs"].values())
    for name, size in meta["files"].items():
        assert (mini_release.path / name).stat().st_size == size


def test_store_holds_the_same_quads_and_opens_read_only(mini_release: Release):
    store = mini_release.open_store()
    from_store = sorted(str(q) + " ." for q in store)
    dumped = mini_release.nquads.read_text(encoding="utf-8").splitlines()
    assert len(from_store) == len(dumped)
    # The store relabels blank nodes; every quad without one must match exactly.
    assert [q for q in from_store if "_:" not in q] == [q for q in dumped if "_:" not in q]
    with pytest.raises((OSError, RuntimeError), match="read-write"):
        store.add(
            ox.Quad(ox.NamedNode("http://e.org/s"), ox.NamedNode("http://e.org/p"), ox.Literal("o"))
        )


def test_latest_points_at_the_release(mini_release: Release):
    out = mini_release.path.parent
    assert (out / "latest").is_symlink()
    assert (out / "latest").readlink() == Path(mini_release.version)  # relative: dist can move
    assert latest_release(out) == mini_release


# ------------------------------------------------------------------------- atomicity


def test_rebuilding_leaves_an_existing_release_untouched(mini_copy: Settings, tmp_path: Path):
    out = tmp_path / "dist"
    first = build_release(out, mini_copy)
    before = _snapshot(out)
    inode = first.path.stat().st_ino
    again = build_release(out, mini_copy)
    assert again == first
    assert first.path.stat().st_ino == inode
    assert _snapshot(out) == before


def test_new_data_makes_a_new_release_and_keeps_the_old(mini_copy: Settings, tmp_path: Path):
    out = tmp_path / "dist"
    first = build_release(out, mini_copy)
    old = _snapshot(first.path)
    assert is_current(first, mini_copy)
    states = mini_copy.graph_dir / "actors" / "states.ttl"
    states.write_text(states.read_text().replace("Betastan", "Betastan Republic"))
    assert not is_current(first, mini_copy)
    second = build_release(out, mini_copy)
    assert second.version != first.version
    assert latest_release(out) == second
    assert _snapshot(first.path) == old


@pytest.mark.parametrize(
    ("broken_file", "error"),
    [("unbound-prefix.ttl", DataFileError), ("shape-violation.ttl", ReleaseError)],
)
def test_a_failed_build_leaves_dist_as_it_was(mini_copy, tmp_path, broken_file, error):
    out = tmp_path / "dist"
    good = build_release(out, mini_copy)
    before = _snapshot(out)
    shutil.copy(BROKEN_DIR / broken_file, mini_copy.graph_dir / broken_file)
    with pytest.raises(error) as caught:
        build_release(out, mini_copy)
    if isinstance(caught.value, ReleaseError):
        assert caught.value.gate == "shacl"
        assert any("instrument:nameless" in problem for problem in caught.value.problems)
    assert _snapshot(out) == before
    assert sorted(p.name for p in out.iterdir()) == sorted([good.version, "latest"])
    assert latest_release(out) == good


def test_a_triple_in_two_graphs_is_refused(mini_copy: Settings, tmp_path: Path):
    """SPARQL's default graph is a set: a triple restated in a second file would be counted
    twice by the union default graph, so the release refuses it and names both graphs."""
    shutil.copy(BROKEN_DIR / "triple-in-two-graphs.ttl", mini_copy.graph_dir / "twice.ttl")
    with pytest.raises(ReleaseError) as caught:
        build_release(tmp_path / "dist", mini_copy)
    assert caught.value.gate == "one-graph-per-triple"
    [problem] = caught.value.problems
    assert "id/actor/alpha" in problem
    assert "graph/twice" in problem and "graph/actors/states" in problem


def test_the_default_graph_counts_each_triple_once(release: Release):
    """``COUNT(*)`` over the default graph agrees with the release's distinct triples."""
    query = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
    [row] = release.open_store().query(query, use_default_graph_as_union=True)
    assert int(row["n"].value) == release.triple_count


def test_a_crash_while_writing_leaves_no_partial_directory(mini_copy, tmp_path, monkeypatch):
    out = tmp_path / "dist"
    good = build_release(out, mini_copy)
    states = mini_copy.graph_dir / "actors" / "states.ttl"
    states.write_text(states.read_text().replace("Alphaland", "Alphaland Union"))
    before = _snapshot(out)

    def write_half_then_fail(tmp: Path, content) -> None:
        (tmp / "pactgraph.nq").write_bytes(content.files["pactgraph.nq"])
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(build_module, "_write_release", write_half_then_fail)
    with pytest.raises(OSError, match="simulated"):
        build_release(out, mini_copy)
    assert _snapshot(out) == before
    assert sorted(p.name for p in out.iterdir()) == sorted([good.version, "latest"])


def test_gates_run_in_order_and_the_first_failure_stops_the_build(mini_settings, tmp_path):
    ran: list[str] = []

    def failing(store, settings):
        ran.append("failing")
        return ["something is wrong"]

    def never(store, settings):
        ran.append("never")
        return []

    store = load_store(settings=mini_settings)
    with pytest.raises(ReleaseError) as caught:
        build_module.run_gates(store, mini_settings, [("failing", failing), ("never", never)])
    assert caught.value.gate == "failing"
    assert caught.value.problems == ["something is wrong"]
    assert ran == ["failing"]
    assert [name for name, _ in GATES][:2] == ["ontology-version", "shacl"]


def test_query_uses_the_release_only_while_it_is_current(mini_copy: Settings, tmp_path):
    out = tmp_path / "dist"
    built = build_release(out, mini_copy)
    assert current_release(out, mini_copy) == built
    (mini_copy.graph_dir / "actors" / "states.ttl").write_text(
        (mini_copy.graph_dir / "actors" / "states.ttl").read_text() + "\n# edited\n"
    )
    assert current_release(out, mini_copy) is None


def test_a_concurrent_build_of_the_same_input_is_not_an_error(mini_settings, tmp_path, monkeypatch):
    out = tmp_path / "dist"
    real_write = build_module._write_release

    def write_while_another_build_finishes_first(tmp: Path, content) -> None:
        real_write(tmp, content)
        shutil.copytree(tmp, out / content.version)  # the other build's rename lands first

    monkeypatch.setattr(build_module, "_write_release", write_while_another_build_finishes_first)
    release = build_release(out, mini_settings)
    assert sorted(p.name for p in out.iterdir()) == sorted([release.version, "latest"])
    assert latest_release(out) == release


def test_jsonld_dump_is_compact_self_contained_and_stable(mini_release: Release):
    """Regression: the JSON-LD dump used to be expanded (full IRIs, no context)."""
    raw = (mini_release.path / "pactgraph.jsonld").read_bytes()
    document = json.loads(raw)
    context = json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))["@context"]
    assert document["@context"] == context  # inline: reading the dump fetches nothing
    assert '"pact:' in raw.decode("utf-8")  # terms are compacted with our prefixes
    # The same quads always give the same bytes.
    assert compact_jsonld(mini_release.nquads.read_bytes()) == raw


def test_large_build_side_processes_give_the_same_release(mini_settings, tmp_path, monkeypatch):
    """Above PARALLEL_MIN_QUADS the JSON-LD dump and the store are made in side processes
    (spawned); the release must be byte-for-byte the one an inline build makes, and no
    scratch folder may be left beside it."""
    inline = build_release(tmp_path / "inline", mini_settings)
    monkeypatch.setattr(build_module, "PARALLEL_MIN_QUADS", 0)
    parallel = build_release(tmp_path / "parallel", mini_settings)
    assert parallel.version == inline.version
    for name in inline.files:
        assert (parallel.path / name).read_bytes() == (inline.path / name).read_bytes(), name
    assert sorted(p.name for p in (tmp_path / "parallel").iterdir()) == [
        inline.version,
        "latest",
    ]
    assert len(parallel.open_store()) == len(inline.open_store())


def test_load_store_names_the_broken_file_and_line(tmp_path: Path):
    broken = tmp_path / "broken.ttl"
    broken.write_text("@prefix ex: <http://example.org/> .\n\nex:a ex:b ex:c\nex:d ex:e ex:f .\n")
    with pytest.raises(DataFileError) as caught:
        load_store([broken])
    assert caught.value.path == broken
    assert caught.value.line in (3, 4)
