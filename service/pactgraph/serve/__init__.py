"""Serve: the HTTP service over a release.

The SPARQL 1.1 Protocol endpoint (:mod:`.sparql`, answered first by :mod:`.fastpath`), its
query workers and guards (:mod:`.workers`, :mod:`.guard`, :mod:`.sandbox`), the queries bounded
by construction that are answered without a worker (:mod:`.inline`), several HTTP processes on
one port (:mod:`.processes`), the remote stores
it can answer from instead (:mod:`.backends`), the dumps, the linked-data and validation
pages, the query UI and the OpenAPI description. The app factory is
:func:`pactgraph.serve.app.create_app`.

:mod:`.backends` is here, not beside :mod:`pactgraph.release.push`: it answers the service's
queries with the service's own task, reply and guard types, so it belongs to the service.

Kept import-light on purpose: query worker processes import :mod:`pactgraph.serve.workers`
and should not pay for FastAPI.

May use: :mod:`pactgraph.release`, :mod:`pactgraph.gates`, :mod:`pactgraph.render`,
:mod:`pactgraph.rdf`, :mod:`pactgraph.settings`, :mod:`pactgraph.progress`. Never the command
line.
"""
