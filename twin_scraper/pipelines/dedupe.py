"""Deduplication by canonical URL and by content hash, within a run and across runs.

What is stored is loaded once at start (one person's corpus fits in memory): an
unchanged page is dropped before anything is written or embedded, a changed one goes on
to replace its document and vectors.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from scrapy.crawler import Crawler

from twin_scraper.items import Document
from twin_scraper.pipelines import Duplicate, Unchanged
from twin_scraper.resources import CrawlResources
from twin_scraper.stores.mongo import KnownDocument


class DedupePipeline:
    def __init__(
        self,
        load_known: Callable[[], dict[str, KnownDocument]],
        record_listing: Callable[[KnownDocument, datetime], None],
        stats: Any,
    ) -> None:
        self.load_known = load_known
        self.record_listing = record_listing
        self.stats = stats
        self.known: dict[str, KnownDocument] = {}
        self.url_by_hash: dict[str, str] = {}
        self.seen: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupePipeline:
        resources = CrawlResources.of(crawler)
        return cls(
            lambda: resources.known,
            lambda known, listed: resources.mongo.record_listing(known, listed),
            crawler.stats,
        )

    def open_spider(self) -> None:
        self.known = self.load_known()
        self.url_by_hash = {k.content_hash: url for url, k in self.known.items()}

    def process_item(self, item: Document) -> Document:
        url = item.canonical_url
        if url in self.seen:
            self.stats.inc_value("twin/items/duplicate")
            raise Duplicate(f"duplicate: already processed in this run: {url}")
        self.seen.add(url)
        known = self.known.get(url)
        if known is not None and known.content_hash == item.content_hash:
            listed = item.listed_updated_at
            last = known.listed_updated_at
            if listed is not None and (last is None or listed > last):
                self.record_listing(known, listed)  # so the next crawl need not fetch it
            self.stats.inc_value("twin/items/unchanged")
            raise Unchanged(f"unchanged since the last crawl: {url}")
        digest = item.content_hash
        twin = self.url_by_hash.get(digest)
        if twin is not None and twin != url:
            self.stats.inc_value("twin/items/duplicate")
            raise Duplicate(f"duplicate: same content as {twin}: {url}")
        self.url_by_hash[digest] = url
        item.change = "updated" if known is not None else "new"
        self.stats.inc_value(f"twin/items/{item.change}")
        return item
