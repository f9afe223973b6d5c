"""Helpers for the reliability tests: a generated blog of distinct articles, MongoDB and
Qdrant inspection, crawls as real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler

from tests.conftest import SPIDERS, CrawlResult
from twin_scraper.config import StoreConfig, project_settings
from twin_scraper.demo.server import Route, SiteServer
from twin_scraper.stores.embedder import MODEL_NAME
from twin_scraper.stores.qdrant import collection_name

REPO = Path(__file__).parents[2]
WORDS = (
    "river lantern copper meadow harbor violet quarry thimble saffron glacier orchard "
    "falcon ember willow basalt cinder juniper marble tundra velvet prairie walnut"
).split()


def article_html(n: int, base: str) -> bytes:
    """A distinct article of about 120 words, with the markup of a blog post."""
    words = [WORDS[(n * 7 + i * 3) % len(WORDS)] for i in range(120)]
    paragraphs = "".join(
        f"<p>Essay {n} part {p}: {' '.join(words[p * 30 : p * 30 + 30])}.</p>" for p in range(4)
    )
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Field note number {n}</title>
<link rel="canonical" href="{base}/notes/{n}/">
<meta property="og:type" content="article">
<meta property="article:published_time" content="2025-01-{n % 28 + 1:02d}T10:00:00+00:00">
<meta name="author" content="Rowan Vale">
</head><body><header><nav><a href="/">Home</a></nav></header>
<main><article><h1>Field note number {n}</h1><p class="byline">By Rowan Vale</p>
{paragraphs}</article></main><footer>Rowan Vale's notebook</footer></body></html>""".encode()


def add_articles(site: SiteServer, count: int) -> list[str]:
    """Serve `count` articles at /notes/N/; returns their URLs."""
    for n in range(count):
        site.routes[f"/notes/{n}/"] = Route(article_html(n, site.base))
    return [site.url(f"/notes/{n}/") for n in range(count)]


def qdrant_points(config: StoreConfig) -> list[Any]:
    from qdrant_client import QdrantClient

    client = QdrantClient(path=str(config.qdrant_path))
    try:
        name = collection_name(config.qdrant_collection, MODEL_NAME)
        if not client.collection_exists(name):
            return []
        points, _ = client.scroll(name, limit=100_000, with_payload=True)
        return points
    finally:
        client.close()


def own_data_dir(data_dir: Path, model_dir: Path) -> dict[str, Any]:
    """Settings for a data directory of the test's own (its own embedded MongoDB, Qdrant
    storage inside it), for crawls run as processes."""
    return {
        "TWIN_DATA_DIR": str(data_dir),
        "MONGO_DATABASE": "twin",
        "QDRANT_PATH": str(data_dir / "qdrant"),
        "EMBED_MODEL_DIR": str(model_dir),
    }


def environment(settings: dict[str, Any], **extra: str) -> dict[str, str]:
    """The test's settings as the environment variables a user would set."""
    return {
        **os.environ,
        "TWIN_DATA_DIR": settings["TWIN_DATA_DIR"],
        "TWIN_MONGO_DATABASE": settings["MONGO_DATABASE"],
        "TWIN_QDRANT_PATH": settings["QDRANT_PATH"],
        "TWIN_MODEL_DIR": settings["EMBED_MODEL_DIR"],
        "TWIN_MODEL_AUTO_FETCH": "false",
        "MONGODB_URI": "",
        "QDRANT_URL": "",
        **extra,
    }


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """`python -m <args>` in the repository, its output into `log`."""
    with open(log, "ab") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", *args], cwd=REPO, env=env, stdout=handle, stderr=handle
        )


def run(args: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


async def crawl(
    spider: str, settings: dict[str, Any], on_item: Any = None, **kwargs: Any
) -> CrawlResult:
    """`run_spider`, calling `on_item(item)` as each item leaves the pipelines (to inject a
    fault mid-crawl)."""
    crawler = Crawler(SPIDERS[spider], project_settings(settings))
    result = CrawlResult(crawler)
    crawler.signals.connect(
        lambda item: result.items.append(item), signal=signals.item_scraped, weak=False
    )
    crawler.signals.connect(
        lambda item, exception: result.dropped.append((item, exception)),
        signal=signals.item_dropped,
        weak=False,
    )
    if on_item is not None:
        crawler.signals.connect(on_item, signal=signals.item_scraped, weak=False)
    await crawler.crawl_async(**kwargs)
    return result
