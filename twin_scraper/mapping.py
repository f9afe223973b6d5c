"""`twin map`: a crawl that runs discovery for real (robots.txt, home pages, feeds,
sitemaps, listings, APIs) but fetches no post. Enabled by TWIN_MAP_ONLY only.

A spider middleware next to the engine takes every request bound for a post callback out
of the spider's output and records it instead: what a crawl would fetch, exactly as its
routes and incremental checks decide, with nothing stored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from twin_scraper.report import page_unchanged

#: The callbacks that fetch a post, an article, a story or a repository: the work of a
#: crawl, as opposed to its discovery.
POST_CALLBACKS = frozenset(
    {
        "parse_article",
        "parse_medium_story",
        "parse_substack_post",
        "parse_substack_page",
        "parse_pulse",
        "parse_github_languages",
    }
)


class MapOnlyMiddleware:
    def __init__(self) -> None:
        self.posts: list[str] = []  # would be fetched, in the order discovery found them
        self.fetched: list[str] = []  # fetched for discovery
        self.unchanged: list[str] = []  # listed as unchanged since the last crawl

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MapOnlyMiddleware:
        if not crawler.settings.getbool("TWIN_MAP_ONLY"):
            raise NotConfigured
        middleware = cls()
        crawler.signals.connect(middleware.response_received, signal=signals.response_received)
        crawler.signals.connect(middleware.page_unchanged, signal=page_unchanged)
        crawler.twin_map = middleware  # type: ignore[attr-defined]
        return middleware

    def response_received(self, response: Response) -> None:
        if response.url not in self.fetched:  # robots.txt: Scrapy's and the spider's
            self.fetched.append(response.url)

    def page_unchanged(self, url: str) -> None:
        self.unchanged.append(url)

    def _keep(self, entry: Any) -> bool:
        if isinstance(entry, Request) and getattr(entry.callback, "__name__", "") in POST_CALLBACKS:
            if entry.url not in self.posts:
                self.posts.append(entry.url)
            return False
        return True

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for entry in start:
            if self._keep(entry):
                yield entry

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        for entry in result:
            if self._keep(entry):
                yield entry

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        async for entry in result:
            if self._keep(entry):
                yield entry
