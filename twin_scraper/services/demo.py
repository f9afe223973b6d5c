"""`twin demo`: the bundled sample blog served on 127.0.0.1, crawled through the whole
pipeline into its own data directory, then searched."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from twin_scraper.services.corpus import SearchResult, search
from twin_scraper.services.crawling import Crawl, CrawlOutcome, run
from twin_scraper.services.workspace import ServiceError, Workspace

DEMO_AUTHOR = "Ada Quill"
DEMO_PORT = 8765
#: The search after the crawl: the sourdough post answers it, in other words.
DEMO_QUERY = "how do I keep my starter alive for naturally leavened loaves"


@dataclass(frozen=True)
class DemoResult:
    outcome: CrawlOutcome
    search: SearchResult
    data_dir: Path


def run_demo(
    ws: Workspace,
    demo_dir: Path,
    query: str,
    serving: Callable[[str, str], None] = lambda url, author: None,
) -> DemoResult:
    """Crawl the sample blog into `demo_dir` and search it; the embedded MongoDB it
    started is stopped again (the data stays)."""
    from twin_scraper.demo.server import SiteServer
    from twin_scraper.stores.embedded_mongo import stop_server

    demo = Workspace({**ws.overrides, "TWIN_DATA_DIR": str(demo_dir.resolve())})
    try:
        server = SiteServer(port=DEMO_PORT).start()
    except OSError:
        server = SiteServer().start()
    serving(f"{server.base}/", DEMO_AUTHOR)
    try:
        crawl = Crawl("article", {"site": server.url("/"), "author": DEMO_AUTHOR}, label="demo")
        extra = {
            # The sample blog is served on 127.0.0.1: the network guard allows that alone.
            "ALLOWED_PRIVATE_NETWORKS": ["127.0.0.1/32"],
            "ROBOTSTXT_OBEY": True,
            "AUTOTHROTTLE_ENABLED": False,
            "LOG_LEVEL": "WARNING",
        }
        outcomes = run(demo, [crawl], extra)
    finally:
        server.stop()
    try:
        if not outcomes:
            raise ServiceError("the demo crawl was interrupted")
        found = search(demo, query, 3) if outcomes[0].ok else SearchResult([], None, None)
    finally:
        stop_server(demo.data_dir)
    return DemoResult(outcomes[0], found, demo.data_dir)
