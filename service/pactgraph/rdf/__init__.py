"""RDF: terms, namespaces, formats, the dataset loader and queries on a store.

The bottom of the pipeline. What every later stage speaks: converting terms between rdflib
and pyoxigraph (:mod:`.terms`, with an in-memory store of a dataset), the project's
namespaces and JSON-LD context (:mod:`.namespaces`, :mod:`.jsonld`), the table of RDF and
result formats (:mod:`.formats`), loading the data files into one named graph per file
(:mod:`.dataset`) and running a SPARQL query on a store (:mod:`.query`).

May use: :mod:`pactgraph.settings`, :mod:`pactgraph.progress` and third-party libraries;
nothing else of pactgraph.
"""
