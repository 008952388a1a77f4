"""Gates: what the data must pass before it is released.

SHACL validation (:mod:`.validate`, with the engines in :mod:`.shacl_engines` and the shapes
compiled to SPARQL in :mod:`.shacl_sparql`), OWL reasoning (:mod:`.reason`: HermiT through
owlready2, or the OWL 2 RL rules), the inferred graph (:mod:`.inference`) and the quality
checks of ``queries/qc/`` (:mod:`.quality`). Each gate takes a store or a graph and answers
with findings; none writes a release. The ``check`` and ``reason`` commands live here with
their gate and read the command's settings through :func:`pactgraph.settings.current_settings`.

May use: :mod:`pactgraph.rdf`, :mod:`pactgraph.settings`, :mod:`pactgraph.progress`.
Never the release, the service or the command line.
"""
