"""Storage in MongoDB: the document in its category's collection, its raw HTML
(compressed) in `raw_pages`, a repository's files in `repository_files`, its author in
`users`. Writes are batched.

When MongoDB becomes unreachable mid-crawl, the crawl goes on: each batch goes to the
local journal (fsynced) instead, and MongoDB is tried again with growing back-off
(restarting the embedded server if it died). Once it answers, this crawl's journal is
written into it; what is still journaled at the end is written by the next crawl or
`twin journal replay`.

A full disk is treated like an outage while the journal can still be written (MongoDB
may sit on another disk). When neither can keep a document, the crawl stops at once
(finish reason `disk_full`, a non-zero exit) with a message naming the disk: every page
is either stored, journaled, or fetched again by the next run, never silently dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pymongo.errors import ConnectionFailure, PyMongoError
from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_from_coro

from twin_scraper.items import Document
from twin_scraper.pipelines import DiskFull, Journaled, StoreFailed, Unchanged
from twin_scraper.pipelines.batching import BatchWriter
from twin_scraper.resources import CrawlResources
from twin_scraper.stores.diskspace import free_space, is_disk_full
from twin_scraper.stores.journal import Entry, Journal
from twin_scraper.stores.mongo import MongoStore, StoreUnavailable, compress_html, file_id

logger = logging.getLogger(__name__)

STORED, JOURNALED = "stored", "journaled"
#: An outage, as opposed to MongoDB refusing a document: worth journaling and retrying.
OUTAGE = (ConnectionFailure, StoreUnavailable)


class MongoPipeline:
    def __init__(
        self,
        open_store: Callable[[], MongoStore],
        reconnect: Callable[[], MongoStore],
        journal: Journal,
        batch_size: int,
        stats: Any,
        first_retry: float = 1.0,
        max_retry: float = 30.0,
        stop: Callable[[str], None] = lambda message: None,
    ) -> None:
        self.open_store = open_store
        self.reconnect = reconnect
        self.journal = journal
        self.journal_file: Path = journal.new_file(uuid.uuid4().hex[:12])
        self.batch_size = batch_size
        self.stats = stats
        self.first_retry = first_retry
        self.max_retry = max_retry
        self.user_ids: dict[str, str] = {}
        self.writer: BatchWriter[tuple[dict[str, Any], Document]] | None = None
        self.down = False
        self.delay = first_retry
        self.retry_at = 0.0
        self.waiting = 0  # documents of this crawl in the journal, not yet in MongoDB
        self.stop = stop  # ends the crawl, with the reason
        self.lost = 0  # documents neither stored nor journaled (the disk is full)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MongoPipeline:
        resources = CrawlResources.of(crawler)
        settings = crawler.settings
        return cls(
            lambda: resources.mongo,
            resources.config.open_mongo,
            Journal(resources.config.data_dir),
            settings.getint("MONGO_BATCH_SIZE"),
            crawler.stats,
            settings.getfloat("MONGO_RETRY_FIRST_DELAY"),
            settings.getfloat("MONGO_RETRY_MAX_DELAY"),
            lambda message: _stop_crawl(crawler, message),
        )

    def open_spider(self) -> None:
        self.shared = self.store = self.open_store()
        self.writer = BatchWriter(self._write, self.batch_size, "mongo")

    async def process_item(self, item: Document) -> Document:
        try:
            outcome, changes = await self.writer.submit((item.record(), item))
        except DiskFull as exc:
            self.lost += 1
            self.stats.inc_value("twin/mongo/disk_full")
            if self.lost == 1:
                self.stop(str(exc))
            raise DiskFull(
                f"disk full: neither MongoDB nor the journal could keep it; the page will be "
                f"fetched again by the next run: {item.url}"
            ) from None
        except PyMongoError as exc:
            self.stats.inc_value("twin/mongo/failed")
            raise StoreFailed(
                f"MongoDB write failed at {self.store.where} ({type(exc).__name__}); "
                f"the page will be fetched again by the next run: {item.url}"
            ) from None
        if outcome == JOURNALED:
            raise Journaled(
                f"MongoDB unreachable, kept in the journal {self.journal_file.name}: {item.url}"
            )
        change = changes.get(item.id)
        if change is not None and change != item.change:
            # Another crawl stored this page since this one read what is stored: it was
            # that crawl's "new", so it is "unchanged" (not written) or "updated" here.
            self.stats.inc_value(f"twin/items/{item.change}", -1)
            self.stats.inc_value(f"twin/items/{change}")
            if change == "unchanged":
                raise Unchanged(f"unchanged: stored meanwhile by another crawl: {item.url}")
            item.change = change
        self.stats.inc_value("twin/mongo/written")
        return item

    # --- worker thread ------------------------------------------------------------------
    def _write(self, items: list[tuple[dict[str, Any], Document]]) -> tuple[str, dict[str, str]]:
        """Store a batch, or journal it while MongoDB is away; raises only for errors
        that are not an outage (MongoDB refusing a document). Raw pages are compressed
        here, off the reactor thread (zlib lets the reactor run meanwhile)."""
        batch = [(record, raw_record(item), file_records(item)) for record, item in items]
        if self.down and time.monotonic() < self.retry_at:
            return self._to_journal(batch), {}
        try:
            if self.down:
                self._recover()
            changes = self._store(batch)
        except OUTAGE as exc:
            self._went_down(exc)
            return self._to_journal(batch), {}
        except PyMongoError as exc:
            if not is_disk_full(exc):
                raise
            self._went_down(exc, "has no disk space left")
            return self._to_journal(batch), {}
        return STORED, changes

    def _store(self, batch: list[Entry]) -> dict[str, str]:
        docs = [doc | {"author_id": self._user_id(doc["author_full_name"])} for doc, _, _ in batch]
        return self.store.write_documents(
            docs,
            [raw for _, raw, _ in batch if raw is not None],
            {doc["_id"]: files for doc, _, files in batch if files is not None},
        )

    def _user_id(self, full_name: str) -> str:
        if full_name not in self.user_ids:
            self.user_ids[full_name] = self.store.get_or_create_user(full_name)["_id"]
        return self.user_ids[full_name]

    def _to_journal(self, batch: list[Entry]) -> str:
        try:
            self.journal.append(self.journal_file, batch)
        except OSError as exc:
            if not is_disk_full(exc):
                raise
            directory = self.journal.directory
            raise DiskFull(
                f"No space left on the disk of {directory} ({free_space(directory)}): MongoDB "
                f"at {self.store.where} could not store documents and the journal cannot keep "
                "them either. The crawl stops; pages not kept are fetched again by the next "
                "run. Free some space, then run the crawl again."
            ) from None
        self.waiting += len(batch)
        self.stats.inc_value("twin/journal/written", len(batch))
        return JOURNALED

    def _went_down(self, exc: Exception, what: str = "is unreachable") -> None:
        if not self.down:
            self.stats.inc_value("twin/mongo/outages")
            logger.warning(
                "MongoDB %s at %s (%s); the crawl goes on and keeps documents in the journal "
                "%s until it is back",
                what,
                self.store.where,
                type(exc).__name__,
                self.journal_file,
            )
        else:
            self.delay = min(self.delay * 2, self.max_retry)
        self.down = True
        self.retry_at = time.monotonic() + self.delay

    def _recover(self) -> None:
        """Reconnect (restarting the embedded server if it died), then write this crawl's
        journal. Raises an outage error if MongoDB is still away."""
        store = self.reconnect()
        if self.store is not self.shared:  # the crawl's other components still use that one
            self.store.close()
        self.store = store
        result = self.journal.replay(store, only=self.journal_file)
        self.stats.inc_value("twin/journal/replayed", result.documents)
        logger.warning(
            "MongoDB is back at %s: wrote the %d document(s) journaled meanwhile",
            store.where,
            result.documents,
        )
        self.down, self.delay, self.waiting = False, self.first_retry, 0

    async def close_spider(self) -> None:
        if self.writer is None:  # the store never opened
            return
        await self.writer.close()
        if self.down:
            try:
                await asyncio.to_thread(self._recover)
            except (*OUTAGE, PyMongoError) as exc:
                if not isinstance(exc, OUTAGE) and not is_disk_full(exc):
                    raise
                logger.error(
                    "MongoDB is still %s at %s: %d document(s) of this crawl wait in the "
                    "journal %s. They are written at the start of the next crawl, or now "
                    "with `twin journal replay` once MongoDB is back.",
                    "unreachable" if isinstance(exc, OUTAGE) else "out of disk space",
                    self.store.where,
                    self.waiting,
                    self.journal_file,
                )
        self.stats.set_value("twin/journal/waiting", self.waiting)
        if self.store is not self.shared:
            self.store.close()


def _stop_crawl(crawler: Crawler, message: str) -> None:
    """End the crawl now (finish reason `disk_full`), loudly: `scrapy crawl` and
    `twin crawl` exit non-zero on the `twin/fatal` stat."""
    logger.error("%s", message)
    crawler.stats.set_value("twin/fatal", message)
    deferred_from_coro(crawler.engine.close_spider_async(reason="disk_full"))


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


def file_records(item: Document) -> list[dict[str, Any]] | None:
    """A repository's files as stored, one record each; None for other documents."""
    if item.files is None:
        return None
    return [
        {
            "_id": file_id(item.id, f.path, f.sha),
            "doc_id": item.id,
            "canonical_url": item.canonical_url,
            **f.model_dump(),
            "fetched_at": item.fetched_at,
        }
        for f in item.files
    ]
