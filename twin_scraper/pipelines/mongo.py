"""Storage in MongoDB: the document in its category's collection, its raw HTML
(compressed) in `raw_pages`, its author in `users`. Writes are batched."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pymongo.errors import PyMongoError
from scrapy.crawler import Crawler

from twin_scraper.items import Document
from twin_scraper.pipelines import StoreFailed
from twin_scraper.pipelines.batching import BatchWriter
from twin_scraper.resources import CrawlResources
from twin_scraper.stores.mongo import MongoStore, compress_html

logger = logging.getLogger(__name__)

Entry = tuple[dict[str, Any], Document]


class MongoPipeline:
    def __init__(
        self,
        open_store: Callable[[], MongoStore],
        batch_size: int,
        stats: Any,
    ) -> None:
        self.open_store = open_store
        self.batch_size = batch_size
        self.stats = stats
        self.user_ids: dict[str, str] = {}
        self.writer: BatchWriter[Entry] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MongoPipeline:
        return cls(
            lambda: CrawlResources.of(crawler).mongo,
            crawler.settings.getint("MONGO_BATCH_SIZE"),
            crawler.stats,
        )

    def open_spider(self) -> None:
        self.store = self.open_store()
        self.writer = BatchWriter(self._write, self.batch_size, "mongo")

    async def process_item(self, item: Document) -> Document:
        try:
            record = item.record(author_id=self._user_id(item.author_full_name))
            await self.writer.submit((record, item))
        except PyMongoError as exc:
            self.stats.inc_value("twin/mongo/failed")
            raise StoreFailed(
                f"MongoDB write failed at {self.store.where} ({type(exc).__name__}); "
                f"the page will be fetched again by the next run: {item.url}"
            ) from None
        self.stats.inc_value("twin/mongo/written")
        return item

    def _user_id(self, full_name: str) -> str:
        if full_name not in self.user_ids:
            self.user_ids[full_name] = self.store.get_or_create_user(full_name)["_id"]
        return self.user_ids[full_name]

    def _write(self, batch: list[Entry]) -> None:
        """Worker thread; raw pages are compressed here, off the reactor (zlib lets the
        reactor run meanwhile)."""
        raw = [raw_record(item) for _, item in batch]
        self.store.write_documents(
            [record for record, _ in batch], [r for r in raw if r is not None]
        )

    async def close_spider(self) -> None:
        if self.writer is not None:  # None when the store never opened
            await self.writer.close()


def raw_record(item: Document) -> dict[str, Any] | None:
    """The raw page to keep for re-extraction: compressed, one version per content hash."""
    if item.raw_html is None:
        return None
    return {
        "_id": f"{item.id}:{item.content_hash[:16]}",
        "doc_id": item.id,
        "url": item.url,
        "canonical_url": item.canonical_url,
        "extractor": item.extractor,
        "html_z": compress_html(item.raw_html),
        "size": len(item.raw_html),
        "fetched_at": item.fetched_at,
        "http_status": item.http_status,
    }
