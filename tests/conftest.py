"""Shared fixtures: real stores (nx-27017 through pymongo, Qdrant local mode, the offline
model) and sites served from 127.0.0.1. Spiders run through Scrapy's engine on the
asyncio reactor (pytest-twisted, `--reactor=asyncio`)."""

from __future__ import annotations

import os

# The network guard refuses private and loopback targets; tests serve on 127.0.0.1 and
# allow exactly that, for this process and every crawl it starts (they inherit the
# environment). Set before the project's settings module is first imported. The SSRF
# tests (tests/reliability/test_ssrf.py) override it to run with the guard in force.
os.environ["TWIN_ALLOW_PRIVATE"] = "127.0.0.1/32"

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.utils.spider import DefaultSpider

from twin_scraper.config import StoreConfig, project_settings
from twin_scraper.demo.server import SITE_DIR, SiteServer
from twin_scraper.spiders.article import ArticleSpider
from twin_scraper.spiders.linkedin import LinkedInSpider
from twin_scraper.spiders.seeds import SeedsSpider
from twin_scraper.spiders.substack import SubstackSpider
from twin_scraper.stores.embedded_mongo import ensure_server, stop_server
from twin_scraper.stores.embedder import ensure_model
from twin_scraper.stores.mongo import MongoStore

TESTS_DIR = Path(__file__).parent
TEST_SITE = TESTS_DIR / "site"
SPIDERS = {
    "article": ArticleSpider,
    "seeds": SeedsSpider,
    "linkedin": LinkedInSpider,
    "substack": SubstackSpider,
    "default": DefaultSpider,
}


@pytest.fixture(scope="session")
def mongo_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One embedded MongoDB server for the session, started by the project's own code."""
    data_dir = tmp_path_factory.mktemp("twin-data")
    ensure_server(data_dir)
    yield data_dir
    stop_server(data_dir)


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The offline model, assembled once (by the project) into the default model cache."""
    settings = project_settings()
    ensure_model(settings.get("EMBED_MODEL_DIR"))
    return Path(settings.get("EMBED_MODEL_DIR"))


@pytest.fixture(scope="session")
def site() -> Iterator[SiteServer]:
    with SiteServer(TEST_SITE) as server:
        yield server


@pytest.fixture(scope="session")
def demo_site() -> Iterator[SiteServer]:
    with SiteServer(SITE_DIR) as server:
        yield server


@pytest.fixture
def settings(mongo_data_dir: Path, model_dir: Path, tmp_path: Path) -> dict[str, Any]:
    """Settings for one test: its own MongoDB database and Qdrant storage."""
    return {
        "TWIN_DATA_DIR": str(mongo_data_dir),
        "MONGO_DATABASE": f"test_{uuid.uuid4().hex[:12]}",
        "QDRANT_URL": "",
        "QDRANT_PATH": str(tmp_path / "qdrant"),
        "EMBED_MODEL_DIR": str(model_dir),
        "EMBED_AUTO_FETCH": False,
        "AUTOTHROTTLE_ENABLED": False,
        "LOG_LEVEL": "INFO",
    }


@pytest.fixture
def store_config(settings: dict[str, Any]) -> StoreConfig:
    return StoreConfig.from_settings(project_settings(settings))


@pytest.fixture
def mongo(settings: dict[str, Any]) -> Iterator[MongoStore]:
    store = StoreConfig.from_settings(project_settings(settings)).open_mongo()
    yield store
    store.client.drop_database(store.db.name)
    store.close()


@dataclass
class CrawlResult:
    crawler: Crawler
    items: list[Any] = field(default_factory=list)
    dropped: list[tuple[Any, Exception]] = field(default_factory=list)

    @property
    def stats(self) -> dict[str, Any]:
        return self.crawler.stats.get_stats()


async def run_spider(
    spider: str | type[Spider], settings: dict[str, Any], **kwargs: Any
) -> CrawlResult:
    """Run a spider (a name or a class) through Scrapy's engine with the project's
    settings plus `settings`."""
    spidercls = SPIDERS[spider] if isinstance(spider, str) else spider
    crawler = Crawler(spidercls, project_settings(settings))
    result = CrawlResult(crawler)
    # Strong references: Scrapy holds signal receivers weakly, and a lambda would vanish.
    # pydispatcher keeps strong ones in a module-level registry, so they are disconnected
    # at the end: left there, they would keep every crawler of the session in memory.
    receivers = {
        signals.item_scraped: lambda item: result.items.append(item),
        signals.item_dropped: lambda item, exception: result.dropped.append((item, exception)),
    }
    for signal, receiver in receivers.items():
        crawler.signals.connect(receiver, signal=signal, weak=False)
    try:
        await crawler.crawl_async(**kwargs)
    finally:
        for signal, receiver in receivers.items():
            crawler.signals.disconnect(receiver, signal=signal, weak=False)
    return result
