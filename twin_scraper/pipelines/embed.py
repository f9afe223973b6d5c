"""Embedding into Qdrant: token-aware chunks, embedded in batches off the reactor thread.

A document that cannot be embedded (Qdrant locked or down, model missing) keeps
`embed.status: pending` in MongoDB and goes on: `twin embed` catches up later. A crawl
that found Qdrant's local storage held by another process (two Scrapyd jobs at once)
waits for it at the end, up to QDRANT_BUSY_WAIT seconds, and embeds what is pending then.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
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
from twin_scraper.stores.qdrant import StoreBusy

logger = logging.getLogger(__name__)


class EmbedPipeline:
    def __init__(
        self,
        resources: CrawlResources,
        batch_docs: int,
        stats: Any,
        busy_wait: float = 0.0,
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self.resources = resources
        self.config: StoreConfig = resources.config
        self.batch_docs = batch_docs
        self.stats = stats
        self.busy_wait = busy_wait
        self.stopping = stopping
        self.indexer: Indexer | None = None
        self.busy = False
        self.busy_seconds = 0.0  # time the worker spent embedding and storing vectors

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> EmbedPipeline:
        if not crawler.settings.getbool("EMBED_ENABLED"):
            raise NotConfigured("embedding is off (EMBED_ENABLED); run `twin embed` later")
        resources = CrawlResources.of(crawler)
        return cls(
            resources,
            resources.config.embed_batch_docs,
            crawler.stats,
            crawler.settings.getfloat("QDRANT_BUSY_WAIT"),
            lambda: not crawler.crawling,  # a stop was asked for (Ctrl-C, cancel.json)
        )

    def open_spider(self) -> None:
        try:
            self.indexer = self.config.open_indexer()
        except (StoreUnavailable, ModelMissing) as exc:
            self.busy = isinstance(exc, StoreBusy)
            if self.busy and self.busy_wait > 0:
                logger.warning(
                    "%s. Documents are stored as pending; at its end this crawl waits up to "
                    "%g s for Qdrant to embed them.",
                    exc,
                    self.busy_wait,
                )
            else:
                logger.warning(
                    "Embedding is off for this crawl: %s. Documents are stored and stay "
                    "pending; run `twin embed` to embed them.",
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
        self.stats.inc_value("twin/embed/submitted")  # the progress display's queue
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
            if self.busy and self.busy_wait > 0:
                if self.stopping():  # a stopped crawl is not held up waiting for Qdrant
                    logger.info("Stopped: the documents stay pending for `twin embed`")
                else:
                    await asyncio.to_thread(self._catch_up)
            return
        await self.writer.close()
        self.stats.set_value("twin/embed/seconds", round(self.busy_seconds, 3))
        self.indexer.qdrant.close()

    def _catch_up(self) -> None:
        """Worker thread, at the end of a crawl that found Qdrant busy: wait for it, then
        embed every pending document, as `twin embed` would."""
        try:
            indexer = self.config.open_indexer(wait=self.busy_wait)
        except (StoreUnavailable, ModelMissing) as exc:
            logger.warning("Documents stay pending for `twin embed`: %s", exc)
            return
        documents = points = 0
        try:
            documents, points = indexer.index_pending(self.resources.mongo, self.batch_docs)
        except Exception as exc:  # what is not embedded stays pending, as during the crawl
            logger.warning(
                "Catching up on embedding stopped (%s: %s); the rest stays pending for "
                "`twin embed`",
                type(exc).__name__,
                exc,
            )
        finally:
            indexer.qdrant.close()
        self.stats.inc_value("twin/embed/caught_up", documents)
        self.stats.inc_value("twin/qdrant/points", points)
        logger.info(
            "Qdrant is free again: embedded %d pending document(s) into %d chunk(s)",
            documents,
            points,
        )
