"""Render: the HTML templates and the one Jinja environment that renders them.

Shared by the release (the ontology and vocabulary pages generated at build time, the
release's ``CITATION.cff``) and the service (entity, validation and not-found pages), so it
sits below both: :mod:`.html` holds the environment, ``templates/`` the templates, and
:mod:`.figures` draws the SVG figures (state timelines, the comparison chart) with them.

May use: :mod:`pactgraph.settings` and third-party libraries (Jinja); nothing else of
pactgraph. It reads the query UI's ``base.html`` from ``pactgraph/ui/templates`` as a file
(the site header every page shares), never as an import.
"""
