"""Embedding into Qdrant: token-aware chunks, embedded in batches off the reactor thread.

A document that cannot be embedded (Qdrant locked or down, model missing) keeps
`embed.status: pending` in MongoDB and goes on: `twin embed` catches up later.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from twin_scraper.config import StoreConfig
from twin_scraper.indexer import Embedded, Indexer
from twin_scraper.items import Document
from twin_scraper.pipelines.batching import BatchWriter
from twin_scraper.resources import CrawlResources
from twin_scraper.stores.embedder import ModelMissing
from twin_scraper.stores.mongo import StoreUnavailable

logger = logging.getLogger(__name__)


class EmbedPipeline:
    def __init__(self, resources: CrawlResources, batch_docs: int, stats: Any) -> None:
        self.resources = resources
        self.config: StoreConfig = resources.config
        self.batch_docs = batch_docs
        self.stats = stats
        self.indexer: Indexer | None = None
        self.busy_seconds = 0.0  # time the worker spent embedding and storing vectors

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> EmbedPipeline:
        if not crawler.settings.getbool("EMBED_ENABLED"):
            raise NotConfigured("embedding is off (EMBED_ENABLED); run `twin embed` later")
        resources = CrawlResources.of(crawler)
        return cls(resources, resources.config.embed_batch_docs, crawler.stats)

    def open_spider(self) -> None:
        try:
            self.indexer = self.config.open_indexer()
        except (StoreUnavailable, ModelMissing) as exc:
            logger.warning(
                "Embedding is off for this crawl: %s. Documents are stored and stay pending; "
                "run `twin embed` to embed them.",
                exc,
            )
            return
        self.writer: BatchWriter[dict[str, Any]] = BatchWriter(
            self._embed, self.batch_docs, "embed"
        )

    async def process_item(self, item: Document) -> Document:
        if self.indexer is None:
            self.stats.inc_value("twin/embed/pending")
            return item
        try:
            done: list[Embedded] = await self.writer.submit(item.record())
        except Exception as exc:  # any store failure leaves the document pending
            self.stats.inc_value("twin/embed/pending")
            logger.warning(
                "Could not embed %s (%s: %s); it stays pending for `twin embed`",
                item.url,
                type(exc).__name__,
                exc,
            )
            return item
        self.stats.inc_value("twin/embed/documents")
        self.stats.inc_value("twin/qdrant/points", next(d.chunks for d in done if d.id == item.id))
        return item

    def _embed(self, records: list[dict[str, Any]]) -> list[Embedded]:
        """Worker thread: vectors into Qdrant, then the documents marked embedded."""
        assert self.indexer is not None
        start = time.perf_counter()
        try:
            return self.indexer.index_stored(records, self.resources.mongo)
        finally:
            self.busy_seconds += time.perf_counter() - start

    async def close_spider(self) -> None:
        if self.indexer is None:
            return
        await self.writer.close()
        self.stats.set_value("twin/embed/seconds", round(self.busy_seconds, 3))
        self.indexer.qdrant.close()
