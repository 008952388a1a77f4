"""The ``pactgraph serve`` verb: the SPARQL service over the latest release."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from pactgraph.release.published import ReleaseCorrupt, latest_release, verify_release
from pactgraph.serve.config import ServiceConfig
from pactgraph.serve.processes import serve_processes
from pactgraph.settings import DEFAULT_DIST, current_settings

_F = TypeVar("_F", bound=Callable[..., object])

_DEFAULTS = ServiceConfig()


def _config_option(
    flag: str, field: str, kind: click.ParamType, help: str | None = None
) -> Callable[[_F], _F]:
    """A ``serve`` option for ``ServiceConfig.<field>``: its default is the config's own."""
    default = getattr(_DEFAULTS, field)
    return click.option(flag, field, default=default, show_default=True, type=kind, help=help)


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
@_config_option(
    "--timeout",
    "timeout_s",
    click.FloatRange(min=0.1),
    "Seconds a query may run before it is stopped.",
)
@_config_option(
    "--workers",
    "max_concurrent",
    click.IntRange(min=1),
    "Worker processes, i.e. queries running at once.",
)
@_config_option(
    "--queue-size",
    "queue_size",
    click.IntRange(min=0),
    "Requests that may wait for a worker (then 503).",
)
@_config_option(
    "--queue-timeout",
    "queue_timeout_s",
    click.FloatRange(min=0, min_open=True),
    "Seconds a request may wait for a free worker (then 503).",
)
@_config_option(
    "--row-cap", "row_cap", click.IntRange(min=1), "Most rows/triples a result may have."
)
@_config_option(
    "--max-answer-bytes",
    "max_answer_bytes",
    click.IntRange(min=1),
    "Largest answer in bytes (then 422); keep well under a third of --worker-memory.",
)
@_config_option(
    "--answer-memory",
    "answer_memory_bytes",
    click.IntRange(min=1),
    "Bytes of finished answers held for clients still reading them (then 503).",
)
@_config_option(
    "--send-stall-timeout",
    "send_stall_timeout_s",
    click.FloatRange(min=0, min_open=True),
    "Seconds a client may take no bytes of an answer before its connection is closed.",
)
@_config_option("--max-query-length", "max_query_length", click.IntRange(min=1))
@_config_option("--max-body-size", "max_body_size", click.IntRange(min=1))
@_config_option(
    "--max-header-bytes",
    "max_header_bytes",
    click.IntRange(min=1024),
    "Bytes of a request's header fields together (then 431).",
)
@_config_option(
    "--max-header-count",
    "max_header_count",
    click.IntRange(min=8),
    "Header fields a request may have (then 431).",
)
@_config_option(
    "--header-timeout",
    "header_timeout_s",
    click.FloatRange(min=0, min_open=True),
    "Seconds from a request head's first byte to its end (then 408 and close).",
)
@_config_option(
    "--worker-memory",
    "worker_memory_bytes",
    click.IntRange(min=0),
    "Bytes of address space per query worker; a query needing more fails alone (0: no cap).",
)
@_config_option(
    "--result-cache",
    "result_cache_bytes",
    click.IntRange(min=0),
    "Bytes of query answers kept in memory for repeated queries (0: no cache).",
)
@_config_option(
    "--validate-timeout",
    "validate_timeout_s",
    click.FloatRange(min=0.1),
    "Seconds a /validate upload may take (parse, validate, report) before it is stopped.",
)
@_config_option(
    "--validate-workers",
    "validate_workers",
    click.IntRange(min=1),
    "Worker processes for /validate, i.e. uploads validated at once.",
)
@_config_option(
    "--validate-queue-size",
    "validate_queue_size",
    click.IntRange(min=0),
    "Uploads that may wait for a validation worker (then 503).",
)
@_config_option(
    "--validate-memory",
    "validate_memory_bytes",
    click.IntRange(min=0),
    "Bytes of address space per validation worker; an upload needing more gets 413 (0: no cap).",
)
@_config_option(
    "--validate-result-cap",
    "validate_result_cap",
    click.IntRange(min=1),
    "Most results a /validate report lists; a longer one is cut and says so.",
)
@_config_option(
    "--http-processes",
    "http_processes",
    click.IntRange(min=1),
    "HTTP server processes sharing the port, each with its own --workers query workers, "
    "result cache and answer memory.",
)
@_config_option(
    "--inline-rows",
    "inline_rows",
    click.IntRange(min=0),
    "Answer queries bounded by construction (one triple pattern from a constant subject or "
    "object) in the HTTP process up to this many rows; more, or any other query: a worker. "
    "0: every query in a worker.",
)
@_config_option(
    "--inline-bytes",
    "inline_bytes",
    click.IntRange(min=1),
    "Largest answer in bytes given in the HTTP process (more: a worker answers).",
)
@click.option(
    "--fast-path/--no-fast-path",
    "fast_path",
    default=_DEFAULTS.fast_path,
    show_default=True,
    help="Answer GET /sparql queries before FastAPI's routing (same answers, less work).",
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
    # Imported here: the service and the build are heavy, and only this command needs them.
    import uvicorn

    from pactgraph.release.build import build as build_release
    from pactgraph.serve.app import create_app
    from pactgraph.serve.server import uvicorn_config

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
    if config.http_processes > 1:
        try:
            verify_release(release)  # once, here: each process trusts it
        except ReleaseCorrupt as error:
            raise click.ClickException(str(error)) from None
        serve_processes(release, config, host, port)
        return
    try:
        app = create_app(release, config)
    except ReleaseCorrupt as error:  # a damaged release is refused, with what is wrong
        raise click.ClickException(str(error)) from None
    uvicorn.Server(uvicorn_config(app, config, host=host, port=port)).run()
