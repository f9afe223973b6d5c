"""One page as clean Markdown (`twin md URL`) and what a crawl would fetch (`twin map URL`):
both go through Scrapy with the project's settings (robots.txt, size limits, user
agent), and neither stores anything."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.http import Response

from twin_scraper.services.crawling import in_reactor
from twin_scraper.services.workspace import ServiceError, Workspace
from twin_scraper.urls import is_http_url

#: A one-page fetch: no pipelines, no report, no job directory.
QUIET_CRAWL = {"ITEM_PIPELINES": {}, "EXTENSIONS": {}, "LOG_LEVEL": "WARNING"}


@dataclass(frozen=True)
class Page:
    url: str  # after redirects
    title: str | None
    byline: str | None
    published_at: datetime | None
    markdown: str
    extractor: str

    def as_markdown(self) -> str:
        """The body, under its title when the body does not start with it."""
        body = self.markdown.strip()
        if self.title and not body.lstrip("# ").startswith(self.title.strip()):
            body = f"# {self.title.strip()}\n\n{body}"
        return body + "\n"

    def as_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "title": self.title,
            "byline": self.byline,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "extractor": self.extractor,
            "markdown": self.markdown,
        }


class _PageSpider(scrapy.Spider):
    """Fetches one URL and keeps the response (or the failure) for the caller."""

    name = "twin-page"

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.url = url
        self.response: Response | None = None
        self.failure: str | None = None

    async def start(self) -> Any:
        yield scrapy.Request(
            self.url,
            callback=self.parse,
            errback=self.failed,
            meta={"handle_httpstatus_all": True},
            dont_filter=True,
        )

    def parse(self, response: Response) -> None:
        self.response = response

    def failed(self, failure: Any) -> None:
        from twin_scraper.spiders.base import failure_reason

        self.failure = failure_reason(failure)


def fetch(ws: Workspace, url: str) -> Response:
    """One page, fetched as a crawl would fetch it."""
    from scrapy.crawler import Crawler

    if not is_http_url(url):
        raise ServiceError(f"not an http(s) URL: {url!r}")

    async def work(runner: Any) -> _PageSpider:
        crawler = Crawler(_PageSpider, ws.settings(QUIET_CRAWL))
        await runner.crawl(crawler, url=url)
        return crawler.spider

    spider = in_reactor(ws, QUIET_CRAWL, work)
    if spider.response is None:
        raise ServiceError(f"could not fetch {url}: {spider.failure or 'no answer'}")
    if spider.response.status >= 400:
        raise ServiceError(f"{url} answered HTTP {spider.response.status}")
    return spider.response


def markdown_of(ws: Workspace, url: str) -> Page:
    """The clean Markdown of one page, by the extractor of the platform its domain
    belongs to (the generic article extractor elsewhere). A wall, an error page or an
    empty extraction is an error naming the verdict, as the quality gate would refuse it."""
    from twin_scraper.extract.encoding import decode_html
    from twin_scraper.items import Document
    from twin_scraper.pipelines.quality import rejection

    response = fetch(ws, url)
    content_type = response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
    if content_type and "html" not in content_type:
        raise ServiceError(f"{response.url} is not an HTML page ({content_type.split(';')[0]})")
    html, _ = decode_html(response.body, getattr(response, "encoding", None))
    settings = ws.settings()
    fields = _fields(html, response.url, response.status, settings)
    # Nothing is stored, so no author is needed: the byline stands in.
    fields["author_full_name"] = fields.get("author_full_name") or fields.get("byline") or "-"
    document = Document.model_validate(fields)
    problem = rejection(document, settings.getdict("QUALITY_MIN_WORDS"))
    if problem is not None:
        raise ServiceError(f"{response.url}: {problem[1]}")
    return Page(
        url=response.url,
        title=document.title,
        byline=document.byline,
        published_at=document.published_at,
        markdown=document.content,
        extractor=document.extractor,
    )


def _fields(html: str, url: str, status: int, settings: Any) -> dict[str, Any]:
    """Document fields by the platform's page extractor, falling back to the generic one
    for pages it does not know (a profile, an index)."""
    from twin_scraper.documents import article_fields
    from twin_scraper.extract.linkedin import PULSE_EXTRACTOR
    from twin_scraper.platforms import ARTICLE, EXTRACTORS, GITHUB, LINKEDIN, platform_for

    platform = platform_for(url, settings)
    builder = {
        LINKEDIN.name: EXTRACTORS[PULSE_EXTRACTOR].fields,
        GITHUB.name: article_fields,
    }.get(platform.name, platform.fields)
    now = datetime.now(UTC)
    if builder is not ARTICLE.fields:
        try:
            fields = builder(html, url, None, status, now)
            if fields.get("content", "").strip():
                return fields
        except Exception:  # not a page of the platform's kind: the generic extractor
            pass
    return article_fields(html, url, None, status, now)


# --- map ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteMap:
    fetched: list[str]  # discovery: robots.txt, home pages, feeds, sitemaps, listings
    posts: list[str]  # what a crawl would fetch next
    unchanged: list[str]  # listed, but unchanged since the last crawl: not fetched
    problem: str | None  # why discovery did not get far, if it did not

    def as_json(self) -> dict[str, Any]:
        return {
            "fetched": self.fetched,
            "posts": self.posts,
            "unchanged": self.unchanged,
            "problem": self.problem,
        }


def map_urls(
    ws: Workspace, urls: list[str], author: str | None = None, limit: int | None = None
) -> SiteMap:
    """What `twin crawl URL...` would fetch, found by running its discovery for real."""
    from scrapy.crawler import Crawler

    from twin_scraper.services.crawling import plan
    from twin_scraper.spiders.seeds import SeedsSpider

    bad = [u for u in urls if not is_http_url(u)]
    if bad:
        raise ServiceError(f"not an http(s) URL: {', '.join(bad)}")
    (crawl,) = plan(ws, urls, author, limit).crawls
    extra = {**QUIET_CRAWL, "TWIN_MAP_ONLY": True, "EMBED_ENABLED": False}

    async def work(runner: Any) -> Any:
        crawler = Crawler(SeedsSpider, ws.settings(extra))
        await runner.crawl(crawler, **crawl.arguments)
        return crawler

    crawler = in_reactor(ws, extra, work)
    middleware = getattr(crawler, "twin_map", None)
    if middleware is None:
        raise ServiceError("the map middleware did not run (TWIN_MAP_ONLY)")
    problem = None
    if not middleware.posts and not middleware.unchanged:
        problem = "discovery found no post: check the URL (a site's root lists every post)"
    return SiteMap(middleware.fetched, middleware.posts, middleware.unchanged, problem)
