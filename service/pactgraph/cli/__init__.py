"""The ``pactgraph`` command line: the top of the stack.

:mod:`.main` is the command group (``pactgraph = pactgraph.cli.main:main``) with the verbs
validate, build, query, diff and register, and it adds the verbs that live with their
concern (``check``, ``reason``, ``diagram``, ``push``). :mod:`.serve` is the ``serve`` verb:
it is command-line code for the service (click options, building a release when there is
none), so it lives here, above both the release and the service it starts.

May use every layer. Nothing imports it: a command's settings reach the layers below through
:func:`pactgraph.settings.current_settings` or as arguments.
"""
