"""Release: build, describe, publish and compare releases of the data.

:mod:`.build` loads the data, runs every gate and writes a release directory (dumps,
``SHA256SUMS``, ``release.json``, a pyoxigraph store); :mod:`.published` reads such a
directory back; :mod:`.void`, :mod:`.description`, :mod:`.citation`, :mod:`.docs_gen` and
:mod:`.versions` make the files a release carries besides its dumps; :mod:`.diff` compares
two releases; :mod:`.register` keeps ``releases.csv``; :mod:`.push` uploads a release to a
remote SPARQL store; :mod:`.diagram` draws the model.

:mod:`.store` is here, not in :mod:`pactgraph.rdf`: it chooses between the latest release's
store and the data loaded into memory, which needs the release layout and the build's source
digest. ``push`` is here, not beside the service's remote backends: it is the last step of
publishing (it reads a release and writes a store) and shares no code with the service.

May use: :mod:`pactgraph.gates`, :mod:`pactgraph.render`, :mod:`pactgraph.rdf`,
:mod:`pactgraph.settings`, :mod:`pactgraph.progress`. Never the service or the command line.
"""
