"""The ``pactgraph serve`` verb: the SPARQL service over the latest release."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from pactgraph.api.config import ServiceConfig
from pactgraph.settings import DEFAULT_DIST

_DEFAULTS = ServiceConfig()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--dist",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DIST,
    show_default=True,
    help="Folder of releases; the latest is served (built first if there is none).",
)
@click.option(
    "--timeout",
    "timeout_s",
    default=_DEFAULTS.timeout_s,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds a query may run before it is stopped.",
)
@click.option(
    "--workers",
    "max_concurrent",
    default=_DEFAULTS.max_concurrent,
    show_default=True,
    type=click.IntRange(min=1),
    help="Worker processes, i.e. queries running at once.",
)
@click.option(
    "--queue-size",
    default=_DEFAULTS.queue_size,
    show_default=True,
    type=click.IntRange(min=0),
    help="Requests that may wait for a worker (then 503).",
)
@click.option(
    "--row-cap",
    default=_DEFAULTS.row_cap,
    show_default=True,
    type=click.IntRange(min=1),
    help="Most rows/triples a result may have.",
)
@click.option(
    "--max-query-length",
    default=_DEFAULTS.max_query_length,
    show_default=True,
    type=click.IntRange(min=1),
)
@click.option(
    "--max-body-size",
    default=_DEFAULTS.max_body_size,
    show_default=True,
    type=click.IntRange(min=1),
)
@click.option(
    "--worker-memory",
    "worker_memory_bytes",
    default=_DEFAULTS.worker_memory_bytes,
    show_default=True,
    type=click.IntRange(min=0),
    help="Bytes of address space per query worker; a query needing more fails alone (0: no cap).",
)
@click.option(
    "--result-cache",
    "result_cache_bytes",
    default=_DEFAULTS.result_cache_bytes,
    show_default=True,
    type=click.IntRange(min=0),
    help="Bytes of query answers kept in memory for repeated queries (0: no cache).",
)
@click.option(
    "--allow-service",
    "service_allow_list",
    multiple=True,
    metavar="IRI-PREFIX",
    help="Let SERVICE call endpoints under this IRI prefix (repeatable; none by default).",
)
@click.option(
    "--public-base-iri",
    default=None,
    help="The service's public base IRI (for the service description).",
)
@click.option(
    "--backend",
    default=None,
    metavar="URL",
    help="Answer queries with this remote SPARQL 1.1 query endpoint (after `pactgraph push`) "
    "instead of the embedded store; limits and formats still apply here.",
)
def serve_command(host: str, port: int, dist: Path, **limits: object) -> None:
    """Serve the SPARQL endpoint, dumps and query UI of the latest release.

    \b
    Example:
      pactgraph serve --port 8000 --timeout 10
      pactgraph serve --backend http://127.0.0.1:7878/query
      curl 'http://127.0.0.1:8000/sparql' --data-urlencode 'query=ASK {}'
    """
    # Imported here: they are heavy, and pactgraph.cli imports this module.
    import uvicorn

    from pactgraph.api.app import create_app
    from pactgraph.cli import current_settings
    from pactgraph.release import build_release, latest_release

    release = latest_release(dist)
    if release is None:
        click.echo(f"no release in {dist}: building one first", err=True)
        release = build_release(dist, current_settings())
    limits["service_allow_list"] = tuple(limits["service_allow_list"])  # type: ignore[arg-type]
    config = ServiceConfig(**limits)  # type: ignore[arg-type]
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    click.echo(
        f"serving release {release.version} ({release.triple_count} triples) "
        f"on http://{host}:{port}/sparql",
        err=True,
    )
    from pactgraph.release import ReleaseCorrupt

    try:
        app = create_app(release, config)
    except ReleaseCorrupt as error:  # a damaged release is refused, with what is wrong
        raise click.ClickException(str(error)) from None
    uvicorn.run(app, host=host, port=port, access_log=False)
