"""The generic article spider: any blog's posts, by URL or discovered from a site.

    scrapy crawl article -a url=URL[,URL...] [-a author="Full Name"]
    scrapy crawl article -a site=URL [-a author="Full Name"] [-a limit=N]

Routing only: extraction lives in `twin_scraper.extract`, discovery parsing in
`twin_scraper.extract.discovery`. The routes are a mixin so the seeds spider serves the
same links the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response, TextResponse

from twin_scraper.documents import article_fields, looks_like_article, same_author
from twin_scraper.extract.discovery import (
    feed_links,
    parse_feed,
    parse_sitemap,
    sitemaps_from_robots,
)
from twin_scraper.extract.medium import resolve_source
from twin_scraper.extract.substack import post_location
from twin_scraper.items import Document
from twin_scraper.params import ArticleParams
from twin_scraper.platforms import Platform, detect_platform
from twin_scraper.resources import CrawlResources
from twin_scraper.seeds import LinkKind, SeedLink
from twin_scraper.spiders.base import ERROR_STATUSES, TwinSpider, in_thread
from twin_scraper.urls import canonicalize_url, domain_of


@dataclass
class SiteState:
    """Discovery bookkeeping for one site: what is scheduled, and the limit."""

    site: str  # URL of the site's home, ending in "/"
    limit: int | None
    found: dict[str, str] = field(default_factory=dict)  # URL by canonical URL, in order
    requested: set[str] = field(default_factory=set)  # discovery URLs asked for
    discovering: int = 0  # discovery requests not answered yet
    scheduled: set[str] = field(default_factory=set)
    excluded: set[str] = field(default_factory=set)
    listed: dict[str, datetime] = field(default_factory=dict)  # latest listing date by URL
    feed_pages: int = 0
    sitemaps: int = 0
    reported: bool = False
    handed_to: str | None = None  # the platform its home page showed it is (Medium, Substack)

    def full(self) -> bool:
        """Enough posts found to stop paging through feeds and sitemaps."""
        return self.limit is not None and len(self.found.keys() - self.excluded) >= self.limit

    def to_fetch(self) -> list[tuple[str, str]]:
        """Found posts not yet scheduled nor excluded, newest first within the limit."""
        posts = [(k, url) for k, url in self.found.items() if k not in self.excluded]
        if self.limit is not None:
            oldest = datetime.min.replace(tzinfo=UTC)
            posts.sort(key=lambda post: self.listed.get(post[0]) or oldest, reverse=True)
            posts = posts[: max(0, self.limit - len(self.scheduled))]
        return [(k, url) for k, url in posts if k not in self.scheduled]

    def covers(self, url: str) -> bool:
        """A page of this site (same host, under its path), not its home page."""
        home, page = urlsplit(self.site), urlsplit(url)
        return (
            domain_of(url) == domain_of(self.site)
            and page.path.startswith(home.path)
            and page.path.rstrip("/") != home.path.rstrip("/")
        )


class ArticleRoutes:
    """Requests and callbacks for blog articles. Needs `self.author` (str | None)."""

    author: str | None
    _sites: dict[str, SiteState]

    def article_requests(self, link: SeedLink) -> Iterator[scrapy.Request]:
        is_root = not urlsplit(link.url).path.strip("/")
        if link.kind == LinkKind.SITE or (link.kind == LinkKind.AUTO and is_root):
            yield from self.site_requests(link.url, link.limit)
        else:
            yield self.article_request(link.url)

    def article_request(self, url: str, site: SiteState | None = None) -> scrapy.Request:
        """A page to extract; `site` when discovery found it (then it must prove to be a
        post by the author)."""
        # Error answers come to the callback (challenge and login walls often come as
        # 403/503: judged by their content); redirects are still followed.
        meta: dict[str, Any] = {"handle_httpstatus_list": ERROR_STATUSES}
        if site is not None:
            meta.update(twin_site=site.site, twin_limit=site.limit, twin_key=canonicalize_url(url))
        return scrapy.Request(url, callback=self.parse_article, errback=self.errback, meta=meta)

    async def parse_article(self, response: Response) -> AsyncIterator[Document]:
        """An article page: one document.

        @fixture tests/fixtures/extract/article/german_news/page.html
        @returns items 1 1
        @returns requests 0 0
        @scrapes title content published_at canonical_url extractor
        """
        if response.status >= 400 and response.status not in (401, 403, 429, 503):
            self.fail_page(response.url, f"HTTP {response.status}")
            return
        html = self.html_of(response)
        if html is None:
            return
        platform = self._served_by(html, response.url)
        if platform is not None and "twin_site" not in response.meta:
            for item in self._hand_page_over(platform, response):
                yield item
            return
        fields = await in_thread(article_fields, html, response.url, self.author, response.status)
        if "twin_site" in response.meta:
            # The latest date any feed or sitemap gave it, by now.
            fields["listed_updated_at"] = self._site(response).listed.get(response.meta["twin_key"])
            if not looks_like_article(html, response.url, fields["published_at"]):
                self.skip_page(response.url, "not an article (no date or article markup)")
                return
            if self.author and same_author(fields["byline"], self.author) is False:
                self.skip_page(response.url, f"written by {fields['byline']}, not {self.author}")
                return
        # Built unvalidated: the validate pipeline checks it and drops it with the reason.
        yield Document.model_construct(**fields)

    # --- discovery ------------------------------------------------------------------
    def site_requests(self, url: str, limit: int | None) -> Iterator[scrapy.Request]:
        """Discover a site's posts: feeds announced by (or guessed under) its home page,
        sitemaps named in robots.txt or found at the usual places."""
        site = url if url.endswith("/") else url + "/"
        state = self._sites.setdefault(site, SiteState(site, limit))
        yield from self._discovery_request(url, self.parse_site_home, state, self.home_errback)
        yield from self._discovery_request(
            urljoin(site, "/robots.txt"), self.parse_robots, state, errors_to_callback=True
        )

    def parse_site_home(self, response: Response) -> Iterator[scrapy.Request]:
        state = self._answered(response)
        feeds = []
        if isinstance(response, TextResponse):
            platform = self._served_by(response.text, response.url)
            if platform is not None:
                state.handed_to = platform.name
                yield from self._hand_site_over(platform, state)
                return
            feeds = feed_links(response.text, response.url)
        paths = self.settings.getlist("ARTICLE_FEED_PATHS")
        for feed in feeds or [urljoin(state.site, path.lstrip("/")) for path in paths]:
            yield from self._discovery_request(feed, self.parse_feed_page, state)
        yield from self._fetch_when_discovered(state)

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        state = self._answered(response)
        found = sitemaps_from_robots(response.text) if response.status == 200 else []
        usual = [urljoin(state.site, "sitemap.xml"), urljoin(state.site, "/sitemap.xml")]
        for sitemap in found or dict.fromkeys(usual):
            yield from self._discovery_request(sitemap, self.parse_sitemap_page, state)
        yield from self._fetch_when_discovered(state)

    def parse_feed_page(self, response: Response) -> Iterator[scrapy.Request]:
        state = self._answered(response)
        feed = parse_feed(response.body, response.url)
        if feed is None:
            self.logger.debug("Not a feed: %s", response.url)
            yield from self._fetch_when_discovered(state)
            return
        state.feed_pages += 1
        for entry in feed.entries:
            if domain_of(entry.url) != domain_of(state.site):
                self.skip_page(entry.url, "listed by the site's feed but on another site")
                continue
            if self.author and same_author(entry.author, self.author) is False:
                state.excluded.add(canonicalize_url(entry.url))
                self.skip_page(entry.url, f"written by {entry.author}, not {self.author}")
                continue
            self._found(state, entry.url, entry.updated)
        max_pages = self.settings.getint("ARTICLE_MAX_FEED_PAGES")
        if feed.next_url and not state.full() and state.feed_pages < max_pages:
            yield from self._discovery_request(feed.next_url, self.parse_feed_page, state)
        yield from self._fetch_when_discovered(state)

    def parse_sitemap_page(self, response: Response) -> Iterator[scrapy.Request]:
        state = self._answered(response)
        sitemap = parse_sitemap(response.body)
        if sitemap is None:
            self.logger.debug("Not a sitemap: %s", response.url)
            yield from self._fetch_when_discovered(state)
            return
        max_sitemaps = self.settings.getint("ARTICLE_MAX_SITEMAPS")
        for child in sitemap.sitemaps:
            if not state.full() and state.sitemaps < max_sitemaps:
                state.sitemaps += 1
                yield from self._discovery_request(child, self.parse_sitemap_page, state)
        for page in sitemap.pages:
            if state.covers(page.url):
                self._found(state, page.url, page.updated)
        yield from self._fetch_when_discovered(state)

    def on_idle(self) -> None:
        """Whatever discovery found and has not scheduled yet (a site whose discovery
        was cut short, e.g. by a resume) is fetched now; a site that yielded no post is a
        failure worth reporting."""
        requests = [request for state in self._sites.values() for request in self._schedule(state)]
        for request in requests:
            self.crawler.engine.crawl(request)
        if requests:
            raise DontCloseSpider
        for state in self._sites.values():
            if not (state.scheduled or state.excluded or state.reported or state.handed_to):
                state.reported = True
                self.fail_page(
                    state.site,
                    "no posts discovered",
                    "no posts discovered: no feed or sitemap listed a page of this site",
                )

    def discovery_errback(self, failure: Any) -> Iterator[scrapy.Request]:
        self.logger.debug("Discovery request failed: %s", failure.getErrorMessage())
        state = self._answered(failure.request)
        yield from self._fetch_when_discovered(state)

    def home_errback(self, failure: Any) -> Iterator[scrapy.Request]:
        self.errback(failure)  # the site's home page failing is worth a report line
        yield from self.discovery_errback(failure)

    # --- Medium and Substack behind the author's own domain -------------------------
    def _served_by(self, html: str, url: str) -> Platform | None:
        """The platform a page of a custom domain is served by, when this spider also
        has that platform's routes (the seeds spider has every platform's)."""
        platform = detect_platform(html)
        if platform is None:
            return None
        if not hasattr(self, platform.route):
            self.logger.info("%s is served by %s: its own spider reads it best", url, platform.name)
            return None
        self.logger.info("%s is served by %s: read as %s", url, platform.name, platform.name)
        return platform

    def _hand_site_over(self, platform: Platform, state: SiteState) -> Iterator[scrapy.Request]:
        """Every post of the site, discovered the platform's way (Substack's archive and
        sitemap, Medium's feed and story list) instead of as a generic blog."""
        if platform.name == "substack":
            yield from self.substack_publication_requests(state.site, state.limit)
        else:
            source = resolve_source(state.site, self.settings.get("MEDIUM_BASE_URL"))
            yield from self.medium_source_requests(source, state.limit)

    def _hand_page_over(self, platform: Platform, response: Response) -> Iterator[Any]:
        """One page of a custom domain, read by the platform's extractor (a Substack post
        from its API)."""
        location = post_location(response.url) if platform.name == "substack" else None
        if location is not None:
            yield self.substack_post_request(*location)
        elif platform.name == "substack":
            response.meta.update(twin_page=response.url, twin_author=self.author)
            yield from self.parse_substack_page(response)
        else:
            yield from self.parse_medium_story(response)

    def _answered(self, response: Response | scrapy.Request) -> SiteState:
        state = self._site(response)
        state.discovering = max(0, state.discovering - 1)
        return state

    def _fetch_when_discovered(self, state: SiteState) -> Iterator[scrapy.Request]:
        """Once every feed and sitemap of the site has answered, fetch what they found:
        with all bylines and dates known, a post one feed names as someone else's is
        never fetched, and a newer date in any listing counts. Each site goes on by
        itself, whatever other sources of a seed batch are doing."""
        if state.discovering == 0:
            yield from self._schedule(state)

    def _site(self, response: Response | scrapy.Request) -> SiteState:
        """The site's discovery state; made again from the request's meta after a resume
        from a job directory, where only requests survive."""
        site = response.meta["twin_site"]
        if site not in self._sites:
            self._sites[site] = SiteState(site, response.meta.get("twin_limit"))
        return self._sites[site]

    def _discovery_request(
        self,
        url: str,
        callback: Any,
        state: SiteState,
        errback: Any = None,
        errors_to_callback: bool = False,
    ) -> Iterator[scrapy.Request]:
        """A feed, sitemap or home page to read, once per site. Never dropped by the
        duplicate filter (the site counts its answers, and a sitemap listing itself is
        caught here); it is answered by its callback or its errback."""
        if url in state.requested or state.handed_to:
            return
        state.requested.add(url)
        state.discovering += 1
        meta: dict[str, Any] = {"twin_site": state.site, "twin_limit": state.limit}
        if errors_to_callback:
            meta["handle_httpstatus_list"] = ERROR_STATUSES
        yield scrapy.Request(
            url,
            callback=callback,
            errback=errback or self.discovery_errback,
            meta=meta,
            dont_filter=True,
            priority=10,  # discovery before fetching: the limit keeps the newest posts
        )

    def _found(self, state: SiteState, url: str, listed: datetime | None) -> None:
        key = canonicalize_url(url)
        previous = state.listed.get(key)
        if listed is not None and (previous is None or listed > previous):
            state.listed[key] = listed
        if key not in state.found:
            state.found[key] = url

    def _schedule(self, state: SiteState) -> Iterator[scrapy.Request]:
        if state.handed_to:
            return  # the platform's routes discover and fetch it
        trust_dates = self.settings.getbool("ARTICLE_TRUST_LISTING_DATES")
        for key, url in state.to_fetch():
            state.scheduled.add(key)
            listed = state.listed.get(key)
            stored = CrawlResources.of(self.crawler).known.get(key) if trust_dates else None
            last = stored.listed_updated_at if stored else None
            if listed and last is not None and listed <= last:
                self.unchanged_page(url)
                continue
            yield self.article_request(url, site=state)


class ArticleSpider(ArticleRoutes, TwinSpider):
    name = "article"
    params_model = ArticleParams
    contract_arguments = {"url": "http://127.0.0.1/"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.author = self.params.author
        self._sites = {}

    async def start(self) -> Any:
        if self.params.site:
            for request in self.site_requests(self.params.site, self.params.limit):
                yield request
        for url in self.params.url or []:
            yield self.article_request(url)
