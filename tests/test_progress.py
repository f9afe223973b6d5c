"""A running crawl's progress in MongoDB (`crawl_progress`), which the dashboard shows:
written while the crawl runs (through Scrapy's engine, against a slow site), removed when
it ends."""

from __future__ import annotations

from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_f_from_coro_f

from twin_scraper.config import project_settings
from twin_scraper.demo.server import SITE_DIR, SiteServer
from twin_scraper.progress import COLLECTION, progress_counts
from twin_scraper.spiders.article import ArticleSpider
from twin_scraper.stores.mongo import MongoStore


def test_progress_counts() -> None:
    counts = progress_counts(
        {
            "downloader/response_count": 7,
            "downloader/exception_count": 1,
            "scheduler/enqueued": 10,
            "robotstxt/request_count": 1,
            "item_scraped_count": 4,
            "item_dropped_count": 2,
        }
    )
    assert counts == {"pages_done": 8, "pages_discovered": 11, "stored": 4, "dropped": 2}
    # robots.txt answered before anything was queued: never more done than discovered.
    assert progress_counts({"downloader/response_count": 1}) == {
        "pages_done": 1,
        "pages_discovered": 1,
        "stored": 0,
        "dropped": 0,
    }


@deferred_f_from_coro_f
async def test_a_crawl_records_its_progress_while_it_runs(
    settings: dict[str, Any], mongo: MongoStore
) -> None:
    seen: list[dict[str, Any] | None] = []
    with SiteServer(SITE_DIR, latency=0.3) as site:
        crawler = Crawler(
            ArticleSpider,
            project_settings(
                settings | {"PROGRESS_INTERVAL": 0.2, "EMBED_ENABLED": False, "TWIN_SYNC_ID": "ada"}
            ),
        )

        def snapshot(item: Any) -> None:
            seen.append(mongo.db[COLLECTION].find_one({"spider": "article"}))

        crawler.signals.connect(snapshot, signal=signals.item_scraped, weak=False)
        try:
            await crawler.crawl_async(site=site.url("/"), author="Ada Quill")
        finally:
            crawler.signals.disconnect(snapshot, signal=signals.item_scraped, weak=False)
    records = [r for r in seen if r]
    assert len(seen) == 7 and records, "no progress was recorded during the crawl"
    last = records[-1]
    assert last["sync_id"] == "ada" and last["pid"] > 0
    assert 1 <= last["pages_done"] <= last["pages_discovered"]
    assert last["updated_at"] >= last["started_at"]
    assert [r["stored"] for r in records] == sorted(r["stored"] for r in records)
    assert mongo.db[COLLECTION].count_documents({}) == 0  # removed at the end
    (run,) = mongo.latest_runs(1)
    assert run["sync_id"] == "ada"  # the crawl report names the sync too
