"""A running crawl's progress, in MongoDB (`crawl_progress`), for `twin serve`.

Every PROGRESS_INTERVAL seconds the crawl writes how many pages it has fetched out of
those discovered so far, and how many documents it stored; the record is removed when
the crawl closes. A crawl killed outright leaves its record behind, which readers ignore
once it is no longer refreshed.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import defer, task, threads

from twin_scraper.resources import CrawlResources
from twin_scraper.stores.mongo import StoreUnavailable

logger = logging.getLogger(__name__)

COLLECTION = "crawl_progress"


def progress_counts(stats: dict[str, Any]) -> dict[str, int]:
    """Pages fetched (answered or failed) and discovered (queued, and robots.txt files,
    which are fetched outside the scheduler), documents stored and dropped."""
    fetched = stats.get("downloader/response_count", 0) + stats.get("downloader/exception_count", 0)
    discovered = stats.get("scheduler/enqueued", 0) + stats.get("robotstxt/request_count", 0)
    return {
        "pages_done": fetched,
        "pages_discovered": max(discovered, fetched),
        "stored": stats.get("item_scraped_count", 0),
        "dropped": stats.get("item_dropped_count", 0),
    }


class CrawlProgressExtension:
    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.record: dict[str, Any] = {}
        self._loop: task.LoopingCall | None = None
        self._inflight: defer.Deferred | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlProgressExtension:
        interval = crawler.settings.getfloat("PROGRESS_INTERVAL")
        if interval <= 0:
            raise NotConfigured
        extension = cls(crawler, interval)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        self.record = {
            "_id": f"{os.getpid()}-{id(self.crawler):x}",
            "spider": spider.name,
            "sync_id": self.crawler.settings.get("TWIN_SYNC_ID") or None,
            "pid": os.getpid(),
            "started_at": datetime.now(UTC),
        }
        self._loop = task.LoopingCall(self._tick)
        self._loop.start(self.interval, now=False)

    def _collection(self) -> Any:
        """Opened on the reactor thread, as the pipelines open it; None while MongoDB is
        unreachable (the crawl's journal deals with that, progress just pauses)."""
        try:
            return CrawlResources.of(self.crawler).mongo.db[COLLECTION]
        except StoreUnavailable:
            return None

    def _tick(self) -> None:
        if self._inflight is not None:  # a slow store: skip a beat rather than queue writes
            return
        collection = self._collection()
        if collection is None:
            return
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        record = {**self.record, **progress_counts(stats), "updated_at": datetime.now(UTC)}
        self._inflight = threads.deferToThread(
            collection.replace_one, {"_id": record["_id"]}, record, upsert=True
        )
        self._inflight.addErrback(self._failed)
        self._inflight.addBoth(self._done)

    def _failed(self, failure: Any) -> None:
        logger.debug("Could not record crawl progress: %s", failure.getErrorMessage())

    def _done(self, _: Any) -> None:
        self._inflight = None

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        """Remove the record, after a write still under way (which would bring it back)."""
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self._inflight is not None:
            await maybe_deferred_to_future(self._inflight)
        collection = self._collection() if self.record else None
        if collection is None:
            return
        try:
            await maybe_deferred_to_future(
                threads.deferToThread(collection.delete_one, {"_id": self.record["_id"]})
            )
        except Exception as exc:  # a store that is down: readers drop stale records
            logger.debug("Could not clear crawl progress: %s", exc)
