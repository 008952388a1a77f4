"""pactgraph: a knowledge graph of how states bind themselves to each other's security."""

__version__ = "0.1.0"
