"""Which platform handles a link: a registry keyed by domain.

A seed file's links are routed here: a platform names the spider method that turns a
link into requests (every platform's routes are mixed into the seeds spider) and the
function that re-extracts its stored raw pages. Unknown domains go to the generic
article extractor. Later platforms add an entry; their base-URL setting makes the
registry route 127.0.0.1 test servers to them too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from scrapy.settings import BaseSettings

from twin_scraper.documents import article_fields
from twin_scraper.extract.github import no_raw_page
from twin_scraper.extract.linkedin import (
    CRAWL_EXTRACTOR,
    EXPORT_EXTRACTOR,
    PULSE_EXTRACTOR,
    crawled_post_fields,
    export_article_fields,
    pulse_article_fields,
)
from twin_scraper.extract.medium import story_fields
from twin_scraper.extract.substack import substack_fields
from twin_scraper.urls import domain_of

FieldsBuilder = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class Platform:
    name: str
    route: str  # spider method: (link: SeedLink) -> Iterable[Request]
    fields: FieldsBuilder  # (html, url, author, http_status, fetched_at) -> Document fields
    domains: tuple[str, ...] = ()
    base_url_setting: str | None = None

    def handles(self, url: str, settings: BaseSettings) -> bool:
        host = domain_of(url)
        domains = set(self.domains)
        if self.base_url_setting and settings.get(self.base_url_setting):
            domains.add(domain_of(settings.get(self.base_url_setting)))
        return any(host == d or host.endswith("." + d) for d in domains if d)


ARTICLE = Platform("article", route="article_requests", fields=article_fields)
MEDIUM = Platform(
    "medium",
    route="medium_requests",
    fields=story_fields,
    domains=("medium.com",),  # also its subdomains: ada.medium.com
    base_url_setting="MEDIUM_BASE_URL",
)
SUBSTACK = Platform(
    "substack",
    route="substack_requests",
    fields=substack_fields,
    domains=("substack.com",),
    base_url_setting="SUBSTACK_BASE_URL",
)

# LinkedIn: its data export (a seed's `linkedin_export: PATH`) and linkedin.com links
# (profiles and articles, rendered with the member's session). Three extractors: export
# article pages, rendered feed cards, rendered article pages.
LINKEDIN = Platform(
    "linkedin",
    route="linkedin_requests",
    fields=crawled_post_fields,
    domains=("linkedin.com",),
    base_url_setting="LINKEDIN_BASE_URL",
)

# Repositories are stored as committed, with no raw page: nothing for `twin reextract`,
# so GitHub is routed (PLATFORMS) but not an entry of EXTRACTORS.
GITHUB = Platform(
    "github",
    route="github_requests",
    fields=no_raw_page,
    domains=("github.com",),
    base_url_setting="GITHUB_API_URL",
)

#: Checked in order; the first that handles a link's domain gets it, else ARTICLE.
PLATFORMS: list[Platform] = [MEDIUM, SUBSTACK, LINKEDIN, GITHUB]

#: Extractor name (as stored with each document) -> platform, for re-extraction.
EXTRACTORS: dict[str, Platform] = {
    ARTICLE.name: ARTICLE,
    MEDIUM.name: MEDIUM,
    SUBSTACK.name: SUBSTACK,
    CRAWL_EXTRACTOR: LINKEDIN,
    EXPORT_EXTRACTOR: replace(LINKEDIN, fields=export_article_fields),
    PULSE_EXTRACTOR: replace(LINKEDIN, fields=pulse_article_fields),
}


def platform_for(url: str, settings: BaseSettings) -> Platform:
    return next((p for p in PLATFORMS if p.handles(url, settings)), ARTICLE)


#: What a page served by Medium or Substack carries whatever its domain: Medium's app
#: links (`al:ios:url` "medium://p/<id>", "medium:/p/<id>" in 2015, its App Store id,
#: `al:android:package` "com.medium.reader") and its CDN; Substack's generator meta, its
#: CDN and its `window._preloads`.
_MARKUP = {
    "medium": re.compile(
        r"""content=["'](?:medium:/|com\.medium\.reader["']|828256236["'])"""
        r"|cdn-client\.medium\.com",
        re.IGNORECASE,
    ),
    "substack": re.compile(
        r"""<meta[^>]+name=["']generator["'][^>]+content=["']substack["']"""
        r"""|<meta[^>]+content=["']substack["'][^>]+name=["']generator["']"""
        r"|substackcdn\.com|window\._preloads\s*=",
        re.IGNORECASE,
    ),
}


def detect_platform(html: str) -> Platform | None:
    """Medium or Substack behind an author's own domain, from its first page's markup
    (its `<head>` says so before any script runs); None for any other site."""
    head = html[:300_000]
    for platform in (MEDIUM, SUBSTACK):
        if _MARKUP[platform.name].search(head):
            return platform
    return None
