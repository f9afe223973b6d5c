"""Stores shared by the components of one crawl: opened once, on first use, and closed
when the engine stops (after every pipeline and the report are done with them)."""

from __future__ import annotations

import logging
from functools import cached_property

from pymongo.errors import PyMongoError
from scrapy import signals
from scrapy.crawler import Crawler

from twin_scraper.config import StoreConfig
from twin_scraper.stores.journal import Journal
from twin_scraper.stores.mongo import KnownDocument, MongoStore, StoreUnavailable

logger = logging.getLogger(__name__)


class CrawlResources:
    def __init__(self, crawler: Crawler) -> None:
        self.config = StoreConfig.from_settings(crawler.settings)
        self.mongo_error: StoreUnavailable | None = None
        crawler.signals.connect(self.close, signal=signals.engine_stopped)

    @classmethod
    def of(cls, crawler: Crawler) -> CrawlResources:
        resources = getattr(crawler, "_twin_resources", None)
        if resources is None:
            resources = cls(crawler)
            crawler._twin_resources = resources  # type: ignore[attr-defined]
        return resources

    @cached_property
    def mongo(self) -> MongoStore:
        """Opened once; a failure is remembered, so later users fail at once with the same
        message instead of waiting out the connection timeout again."""
        if self.mongo_error is not None:
            raise self.mongo_error
        try:
            store = self.config.open_mongo()
        except StoreUnavailable as exc:
            self.mongo_error = exc
            raise
        replay_journal(Journal(self.config.data_dir), store)
        return store

    @cached_property
    def known(self) -> dict[str, KnownDocument]:
        """What is stored, by canonical URL, loaded once per crawl: deduplication and
        discovery (to skip pages listed as unchanged) share it."""
        return self.mongo.known_documents()

    def close(self) -> None:
        if "mongo" in self.__dict__:
            self.mongo.close()
            del self.__dict__["mongo"]


def replay_journal(journal: Journal, store: MongoStore) -> None:
    """Write what earlier crawls journaled during a MongoDB outage, before this crawl
    reads what is stored. A failure leaves it journaled for the next try."""
    if not journal.files():
        return
    try:
        result = journal.replay(store)
    except PyMongoError as exc:
        logger.warning(
            "Could not write the journal %s into MongoDB (%s); it stays for the next crawl",
            journal.directory,
            type(exc).__name__,
        )
        return
    logger.warning(
        "Wrote %d document(s) journaled by earlier crawls during a MongoDB outage (%d older "
        "than what is stored, left as stored)",
        result.documents,
        result.superseded,
    )
