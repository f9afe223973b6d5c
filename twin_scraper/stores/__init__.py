"""Thin adapters over the client libraries: MongoDB, Qdrant, the embedding model."""
