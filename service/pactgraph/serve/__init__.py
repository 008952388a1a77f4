"""The HTTP service: the SPARQL 1.1 Protocol endpoint, dumps and the query UI.

Kept import-light on purpose: query worker processes import :mod:`pactgraph.api.workers`
and should not pay for FastAPI. The app factory is :func:`pactgraph.api.app.create_app`.
"""
