"""The ``pactgraph`` command line: validate, build, query (and more verbs added by others).

Bad input never ends in a traceback: the known error types below become one line on stderr
and a non-zero exit status (1 = the data or a release gate is at fault, 2 = the request is).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from pactgraph import __version__, progress
from pactgraph.cli.serve import serve_command
from pactgraph.gates.quality import check_command
from pactgraph.gates.reason import reason_command
from pactgraph.gates.validate import validate_files
from pactgraph.rdf.dataset import DataFileError, DataFiles, turtle_files
from pactgraph.rdf.formats import GRAPH_FORMATS, RESULT_FORMATS, format_for, serialize_result
from pactgraph.rdf.query import QuerySyntaxError, read_query, run_query
from pactgraph.release.diagram import diagram_command
from pactgraph.release.diff import Snapshot
from pactgraph.release.diff import diff as diff_snapshots
from pactgraph.release.published import ReleaseCorrupt
from pactgraph.release.push import push_command
from pactgraph.release.register import register_path, register_release
from pactgraph.settings import DEFAULT_DIST, SETTINGS, Settings, current_settings

# Exception type → exit status. Checked in order; the first match wins.
ERROR_EXIT_CODES: dict[type[BaseException], int] = {
    QuerySyntaxError: 2,
    DataFileError: 1,
    FileNotFoundError: 2,
    ValueError: 2,
    OSError: 1,
}


def _release_error_code() -> dict[type[BaseException], int]:
    # The build is heavy to import (see tests/test_architecture.py); only needed on failure.
    from pactgraph.release.build import ReleaseConflict, ReleaseError

    # A damaged release is the data's fault; an existing release built otherwise, the request's.
    return {ReleaseError: 1, ReleaseCorrupt: 1, ReleaseConflict: 2}


class PactgraphGroup(click.Group):
    """A click group that turns expected errors into one line and an exit status."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except Exception as error:
            codes = {**_release_error_code(), **ERROR_EXIT_CODES}
            for kind, code in codes.items():
                if isinstance(error, kind):
                    click.echo(f"pactgraph: error: {error}", err=True)
                    ctx.exit(code)
            raise


@click.group(cls=PactgraphGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pactgraph")
@click.option(
    "--data",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Data root holding ontology/, graph/, shapes/ and queries/ "
    "[default: the shipped data; env PACTGRAPH_DATA].",
)
@click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help="No progress on stderr (stages of build, push, validate); errors are still shown.",
)
@click.pass_context
def main(ctx: click.Context, data: Path | None, quiet: bool) -> None:
    """pactgraph: a knowledge graph of how states bind themselves to each other's security.

    Validate the data, build a release (dumps plus an embedded store) and query it.

    Long commands show their stages on stderr: live with a bar on a terminal, one plain line
    per finished stage elsewhere (logs), nothing with --quiet. stdout carries only results.
    """
    ctx.obj = Settings(root=data.resolve()) if data else SETTINGS
    stderr = click.get_text_stream("stderr")
    prefix = f"pactgraph {ctx.invoked_subcommand}: " if ctx.invoked_subcommand else "pactgraph: "
    # Closed (the live display stopped) when the command ends, whichever way it ends.
    ctx.with_resource(progress.using(progress.for_stream(stderr, quiet=quiet, prefix=prefix)))


def _expand(paths: tuple[Path, ...]) -> list[Path]:
    """Files as given, and every ``.ttl`` under a directory."""
    files: list[Path] = []
    for path in paths:
        files.extend(turtle_files(path) if path.is_dir() else [path])
    return files


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=True, path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "ttl"]),
    default="text",
    show_default=True,
    help="Report as readable lines, or as a SHACL validation report in Turtle.",
)
def validate(paths: tuple[Path, ...], output_format: str) -> None:
    """Check the data against the SHACL shapes; exit 0 only when everything conforms.

    With no PATH, checks the shipped data (ontology, vocabularies and graph). With PATHs
    (files or folders of .ttl), checks those, read together with the ontology and
    vocabularies so class hierarchies are known.

    \b
    Examples:
      pactgraph validate
      pactgraph validate graph/instruments/mous.ttl
      pactgraph validate --format ttl > report.ttl
    """
    settings = current_settings()
    # With PATHs, validation still adds the ontology and vocabularies (the hierarchy).
    files = _expand(paths) if paths else DataFiles.discover(settings).all
    report = validate_files(files, settings=settings)
    click.echo(report.as_turtle() if output_format == "ttl" else report.as_text())
    if not report.conforms:
        count = len(report.violations)
        click.echo(f"pactgraph: {count} violation(s); the data does not conform", err=True)
        sys.exit(1)


@main.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DIST,
    show_default=True,
    help="Folder that holds the releases and the 'latest' link.",
)
@click.option(
    "--previous",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="A published release directory (listed in the register) to record the changes from.",
)
@click.option(
    "--register",
    "register_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The register of published releases [default: releases.csv at the data root].",
)
def build(out: Path, previous: Path | None, register_file: Path | None) -> None:
    """Validate the data, run the release gates and write a release to OUT/<version>/.

    The release holds Turtle, N-Triples, N-Quads and JSON-LD dumps (each also gzipped), the
    licence files, its CITATION.cff, SHA256SUMS, release.json and an embedded store;
    OUT/latest then points at it. Nothing is written when a check fails.

    With --previous DIR (a release the register lists as published) the release also holds
    the patch from it (changes-from-<version>.added.nq.gz and .removed.nq.gz) and
    release.json names it with the diff's summary. Without it, nothing outside the data
    enters the release.

    \b
    Examples:
      pactgraph build --out dist
      pactgraph build --out dist --previous dist/0.1.0-3f2c9a1b7d4e
    """
    from pactgraph.release.build import ReleaseError
    from pactgraph.release.build import build as build_release

    try:
        release = build_release(out, current_settings(), previous, register_file)
    except ReleaseError as error:
        for problem in error.problems:
            click.echo(f"  {problem}", err=True)
        raise ReleaseError(error.gate, error.problems) from None
    click.echo(f"release {release.version}: {release.triple_count} triples in {release.path}")


@main.command()
@click.argument("query")
@click.option(
    "--format",
    "output_format",
    type=click.Choice([*RESULT_FORMATS, *GRAPH_FORMATS]),
    default=None,
    help="Result format; default json for SELECT/ASK and ttl for CONSTRUCT/DESCRIBE.",
)
@click.option(
    "--dist",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DIST,
    show_default=True,
    help="Where releases are; the latest one is used if it matches the data.",
)
def query(query: str, output_format: str | None, dist: Path) -> None:
    """Run a SPARQL query (text, or a .rq file) on the embedded store.

    The default graph is the union of all named graphs (one per data file). Uses the latest
    release's store when it was built from the current data, else loads the data into
    memory.

    \b
    Examples:
      pactgraph query 'SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }' --format csv
      pactgraph query queries/01-binding-instruments.rq
      pactgraph query 'CONSTRUCT WHERE { ?s a ?c }' --format nt
    """
    from pactgraph.release.store import open_store

    text = read_query(query)
    store = open_store(dist, current_settings())
    result = run_query(store, text)
    fmt = format_for(result, output_format)
    output = click.get_binary_stream("stdout")
    output.write(serialize_result(result, fmt))
    output.flush()


@main.command()
@click.argument("old", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument(
    "new", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="A readable report, or the whole diff as JSON.",
)
@click.option(
    "--patch-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also write added.nq and removed.nq here: the patch from OLD's pactgraph.nq to NEW's.",
)
def diff(old: Path, new: Path | None, output_format: str, patch_dir: Path | None) -> None:
    """What changed from release OLD to release NEW (or to the working data).

    OLD and NEW are release directories. Without NEW, the working data (--data, else the
    shipped data) is built in memory, every release gate included, and nothing is written.
    Reports per named graph the triples added and removed, and per entity (subject) the
    statements that changed. Removing removed.nq's lines from OLD's pactgraph.nq, adding
    added.nq's and sorting gives NEW's pactgraph.nq byte for byte.

    \b
    Examples:
      pactgraph diff dist/0.1.0-aaaaaaaaaaaa dist/0.1.0-bbbbbbbbbbbb
      pactgraph diff dist/0.1.0-aaaaaaaaaaaa --format json
      pactgraph diff dist/0.1.0-aaaaaaaaaaaa --patch-dir patch/
    """
    from pactgraph.release.build import data_snapshot

    before = Snapshot.from_release(old)
    after = Snapshot.from_release(new) if new else data_snapshot(current_settings())
    change = diff_snapshots(before, after)
    if patch_dir is not None:
        change.write_patch(patch_dir)
    if output_format == "json":
        click.echo(json.dumps(change.as_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(change.as_text(), nl=False)


@main.command()
@click.argument("release_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--register",
    "register_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The register to append to [default: releases.csv at the data root].",
)
@click.option(
    "--date",
    "published",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The publication date [default: today, UTC].",
)
def register(release_dir: Path, register_file: Path | None, published: object) -> None:
    """Record RELEASE_DIR in the register of published releases (releases.csv).

    Run it when a release is published (its files put where users download them), then
    commit the register: later builds can then record their changes from it
    (pactgraph build --previous). Checks the release against its SHA256SUMS first; a
    release already registered with the same bytes is left as it is.

    \b
    Example:
      pactgraph register dist/latest && git add releases.csv
    """
    path = register_file or register_path(current_settings())
    day = published.date() if isinstance(published, dt.datetime) else None
    row, added = register_release(release_dir.resolve(), path, day)
    verb = "registered" if added else "already registered"
    click.echo(f"release {row.version} {verb} in {path} ({row.date}, N-Quads {row.nquads_sha256})")


# Verbs that live with their own concern (each module owns its command).
main.add_command(reason_command)
main.add_command(check_command)
main.add_command(diagram_command)
main.add_command(serve_command)
main.add_command(push_command)


if __name__ == "__main__":  # pragma: no cover
    main()
