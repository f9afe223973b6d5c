"""Semantic search for the dashboard: `twin search`'s `Indexer.search`, with the model
loaded once per server and Qdrant opened per query, since Qdrant's local mode admits one
process at a time and a crawl (a sync) needs it between searches."""

from __future__ import annotations

import threading
from typing import Any

from twin_scraper.config import StoreConfig
from twin_scraper.stores.embedder import Embedder

#: How long a search waits for a local Qdrant held by a crawl.
QDRANT_WAIT_SECONDS = 5.0


class Searcher:
    def __init__(self, config: StoreConfig) -> None:
        self.config = config
        self._embedder: Embedder | None = None
        self._lock = threading.Lock()  # one search at a time: one Qdrant handle, one model

    def search(
        self, query: str, k: int, author: str | None = None, platform: str | None = None
    ) -> list[dict[str, Any]]:
        """The `k` best documents, each with its best chunk. Raises ModelMissing or
        StoreUnavailable (StoreBusy: a crawl holds local Qdrant) with the cause."""
        with self._lock:
            if self._embedder is None:
                self._embedder = self.config.load_embedder()
            indexer = self.config.open_indexer(QDRANT_WAIT_SECONDS, embedder=self._embedder)
            try:
                return indexer.search(query, k, author, platform)
            finally:
                indexer.qdrant.close()
