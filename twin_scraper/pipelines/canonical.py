"""A document's identity is its canonical URL, so a page must not claim another site's.

A page's `<link rel="canonical">` names the URL its content really lives at. Taken as
is, a page on any host could name a stored document of another site as its canonical
and replace it (the crawl would report it `updated`). So a canonical URL on another host
than the page is accepted only when the platform itself vouches for it: the page came
from the platform's own host (medium.com, *.substack.com, or their test origins) and the
platform's data gives that very URL as the post's home (Medium's `mediumUrl`, Substack's
`canonical_url`: custom domains). Otherwise the document keeps the URL it was fetched
from as its identity, and the URL it declared is kept as an alias in
`extra.declared_canonical`: stored beside the other document, never over it.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler
from scrapy.settings import BaseSettings

from twin_scraper.items import Document
from twin_scraper.platforms import PLATFORMS
from twin_scraper.urls import canonicalize_url, domain_of

logger = logging.getLogger(__name__)


def vouched(item: Document, settings: BaseSettings) -> bool:
    """Does the platform the page came from vouch for its canonical URL?"""
    home = item.extra.get("platform_url")
    if not isinstance(home, str) or canonicalize_url(home) != item.canonical_url:
        return False
    return any(p.name == item.platform and p.handles(item.url, settings) for p in PLATFORMS)


class CanonicalPipeline:
    def __init__(self, settings: BaseSettings, stats: Any) -> None:
        self.settings = settings
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CanonicalPipeline:
        return cls(crawler.settings, crawler.stats)

    def process_item(self, item: Document) -> Document:
        if domain_of(item.canonical_url) == domain_of(item.url) or vouched(item, self.settings):
            return item
        declared = item.canonical_url
        item.canonical_url = canonicalize_url(item.url)
        item.extra = {**item.extra, "declared_canonical": declared}
        self.stats.inc_value("twin/items/canonical_elsewhere")
        logger.info(
            "%s names %s, on another host, as its canonical URL: stored under its own URL, "
            "with the other as an alias",
            item.url,
            declared,
        )
        return item
