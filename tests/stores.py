"""The real SPARQL stores the push and backend tests use, as ``scripts/start-stores.sh`` runs them.

Each store is found through an environment variable holding its base URL (the script prints
the ``export`` lines; ``scripts/test.sh`` and so ``.ci/run`` set them). Without it, tests
that need that store are skipped, saying which variable is missing.

The stores differ, and the differences are spelled out here rather than hidden:

- paths: Oxigraph serves queries on ``/query`` and the Graph Store Protocol on ``/store``;
  Virtuoso serves queries on ``/sparql`` and Graph Store writes on
  ``/sparql-graph-crud-auth``, which needs HTTP Digest authentication (the unauthenticated
  ``/sparql-graph-crud`` is read-only unless SPARQL_UPDATE is granted to the ``SPARQL``
  user, which we do not do: writes stay behind a password);
- default graph: Oxigraph runs with ``--union-default-graph``; Virtuoso's default graph is
  every graph it holds, its own system graphs included — pactgraph's remote backend sends
  the release's graphs as the dataset, so neither matters to the service.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import httpx
import pytest

from pactgraph.release.push import AUTH_SCHEMES


@dataclass(frozen=True)
class Store:
    """One kind of store: where to find it and how to write to it."""

    name: str
    env: str
    query_path: str
    graph_store_path: str
    user: str | None = None
    password_env: str | None = None
    default_password: str | None = None
    auth_scheme: str = "basic"

    @property
    def base(self) -> str:
        """The base URL, or a skip naming the missing variable."""
        url = os.environ.get(self.env)
        if not url:
            pytest.skip(
                f"{self.env} is not set: run scripts/start-stores.sh (scripts/test.sh does)"
            )
        return url.rstrip("/")

    @property
    def query_endpoint(self) -> str:
        return self.base + self.query_path

    @property
    def graph_store(self) -> str:
        return self.base + self.graph_store_path

    @property
    def auth(self) -> httpx.Auth | None:
        if self.user is None:
            return None
        password = os.environ.get(self.password_env or "", self.default_password or "")
        return AUTH_SCHEMES[self.auth_scheme](self.user, password)


STORES: dict[str, Store] = {
    "oxigraph": Store("oxigraph", "PACTGRAPH_OXIGRAPH_URL", "/query", "/store"),
    "virtuoso": Store(
        "virtuoso",
        "PACTGRAPH_VIRTUOSO_URL",
        "/sparql",
        "/sparql-graph-crud-auth",
        user="dba",
        password_env="PACTGRAPH_VIRTUOSO_PASSWORD",
        default_password="dba",  # a new Virtuoso database's; the store listens on loopback only
        auth_scheme="digest",
    ),
}
