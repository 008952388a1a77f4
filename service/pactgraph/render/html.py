"""The one Jinja environment for the HTML pages, shared by the release and the service.

The templates live in ``templates/`` beside this module; the query UI's ``base.html``
(``pactgraph/ui/templates``) is found too, so every page, generated at build time
(:mod:`pactgraph.release.docs_gen`) or answered by the service (:mod:`pactgraph.serve.pages`),
shares the site header.

>>> render("entity-query.rq", iri="https://w3id.org/pactgraph/id/x", label="Camp David")[:38]
'# What pactgraph says about Camp David'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

PACKAGE_DIR = Path(__file__).resolve().parents[1]
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
UI_TEMPLATES_DIR = PACKAGE_DIR / "ui" / "templates"

_ENV = Environment(
    # Our templates first; the query UI's base.html gives every page the same header.
    loader=ChoiceLoader([FileSystemLoader(TEMPLATES_DIR), FileSystemLoader(UI_TEMPLATES_DIR)]),
    # SVG figures are markup too: their labels are escaped as the pages' are.
    autoescape=select_autoescape(enabled_extensions=("html", "svg"), default=False),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(template: str, **context: Any) -> str:
    """Render one of ``templates/`` (HTML is autoescaped)."""
    context.setdefault("model_picture", False)  # the site header links the picture if true
    return _ENV.get_template(template).render(**context)
