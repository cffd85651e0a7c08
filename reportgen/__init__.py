"""reportgen: Entropy Hub data_store -> static run catalog, export archives, audit bundles."""

__version__ = "0.1.0"
