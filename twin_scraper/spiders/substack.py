"""The Substack spider: every post of a publication, or single posts, without a browser.

    scrapy crawl substack -a publication=NAME_OR_URL [-a author="Full Name"] [-a limit=N]
    scrapy crawl substack -a url=POST_URL[,POST_URL...] [-a author="Full Name"]

Routing only: parsing lives in `twin_scraper.extract.substack`. Discovery pages through the
publication's JSON archive until a page comes back empty; each post comes from the posts API,
or from its page when the site does not serve the API. The routes are a mixin so the seeds
spider serves Substack links the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import scrapy
from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from scrapy.http import Response, TextResponse

from twin_scraper.extract.substack import (
    ARCHIVE_MAX_LIMIT,
    ArchiveItem,
    SubstackError,
    archive_url,
    attribution,
    owner_of,
    parse_archive,
    parse_post,
    post_api_url,
    post_fields,
    post_location,
    post_page_fields,
    post_page_url,
    publication_base,
)
from twin_scraper.items import Document
from twin_scraper.params import Author, CommaList, Limit
from twin_scraper.resources import CrawlResources
from twin_scraper.seeds import LinkKind, SeedLink
from twin_scraper.spiders.base import ERROR_STATUSES, TwinSpider
from twin_scraper.urls import canonicalize_url, is_http_url


class SubstackParams(BaseModel):
    """`-a publication=NAME_OR_URL` or `-a url=POST_URL[,...]`, with optional `-a author=`,
    `-a limit=` and `-a include_coauthored=true`."""

    model_config = ConfigDict(extra="forbid")

    publication: str | None = None
    url: CommaList = None
    author: Author = None
    limit: Limit = None
    include_coauthored: bool = False

    @field_validator("publication")
    @classmethod
    def _check_publication(cls, value: str | None) -> str | None:
        if value is not None:
            publication_base(value, "https://{name}.substack.com")  # raises on a bad name
        return value

    @field_validator("url")
    @classmethod
    def _posts(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            bad = [u for u in value if not is_http_url(u) or post_location(u) is None]
            if bad:
                raise ValueError(f"not a Substack post URL (…/p/<slug>): {', '.join(bad)}")
            if not value:
                raise ValueError("no URL given")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> SubstackParams:
        if (self.publication is None) == (self.url is None):
            raise ValueError("give either -a publication=NAME_OR_URL or -a url=POST_URL")
        return self


@dataclass
class Publication:
    """Discovery bookkeeping for one publication."""

    base: str
    limit: int | None
    owner: str | None = None  # learned from the archive's bylines when no author is given
    scheduled: set[str] = field(default_factory=set)
    listed: int = 0

    def full(self) -> bool:
        return self.limit is not None and len(self.scheduled) >= self.limit


class SubstackRoutes:
    """Requests and callbacks for Substack. Needs `self.author` (str | None) and
    `self.include_coauthored` (bool)."""

    author: str | None
    include_coauthored: bool
    _substack_publications: dict[str, Publication]
    _substack_listed: dict[str, Any] | None = None

    def substack_requests(self, link: SeedLink) -> Iterator[scrapy.Request]:
        """A seed link: a post URL is that post; a publication's home (or `site:`) is
        every post of the publication."""
        location = post_location(link.url)
        if location is not None and link.kind != LinkKind.SITE:
            yield self.substack_post_request(*location)
            return
        is_root = not urlsplit(link.url).path.strip("/")
        if link.kind == LinkKind.SITE or is_root:
            yield from self.substack_publication_requests(link.url, link.limit)
            return
        self.fail_page(
            link.url,
            "not a Substack post or publication",
            "not a Substack post (…/p/<slug>) or publication home: nothing to crawl",
        )

    # --- discovery ------------------------------------------------------------------
    def substack_publication_requests(
        self, publication: str, limit: int | None
    ) -> Iterator[scrapy.Request]:
        base = publication_base(publication, self.settings.get("SUBSTACK_BASE_URL"))
        self._substack_publications.setdefault(base, Publication(base, limit))
        yield self._substack_archive_request(base, limit, 0)

    def _substack_archive_request(
        self, base: str, limit: int | None, offset: int
    ) -> scrapy.Request:
        size = self.settings.getint("SUBSTACK_ARCHIVE_PAGE_SIZE")
        if not 1 <= size <= ARCHIVE_MAX_LIMIT:
            raise ValueError(
                f"SUBSTACK_ARCHIVE_PAGE_SIZE must be 1 to {ARCHIVE_MAX_LIMIT} (Substack refuses "
                f"larger pages), not {size}"
            )
        return scrapy.Request(
            archive_url(base, offset, size),
            callback=self.parse_substack_archive,
            errback=self.errback,
            meta={"twin_publication": base, "twin_limit": limit, "twin_offset": offset},
            priority=10,  # discovery before fetching: the limit keeps the newest posts
            dont_filter=True,
        )

    def parse_substack_archive(self, response: Response) -> Iterator[scrapy.Request]:
        state = self._substack_publication(response)
        try:
            items = parse_archive(response.text if isinstance(response, TextResponse) else "")
        except SubstackError as exc:
            self.fail_page(response.url, "not a Substack archive", f"{exc} (is it Substack?)")
            return
        if not items:
            if state.listed == 0:
                self.fail_page(state.base, "no posts discovered", "the archive lists no post")
            return
        state.listed += len(items)
        if state.owner is None:
            state.owner = next(filter(None, (owner_of(i.bylines) for i in items)), None)
        for item in items:
            if state.full():
                return
            yield from self._schedule_substack_post(state, item)
        yield self._substack_archive_request(
            state.base, state.limit, response.meta["twin_offset"] + len(items)
        )

    def _schedule_substack_post(
        self, state: Publication, item: ArchiveItem
    ) -> Iterator[scrapy.Request]:
        page = item.url or post_page_url(state.base, item.slug)
        key = canonicalize_url(page)
        if key in state.scheduled:
            return
        author = self.author or state.owner
        names = ", ".join(b.name for b in item.bylines)
        verdict = attribution(item.bylines, author) if author else None
        if verdict == "guest":
            self.skip_page(page, f"written by {names}, not {author}")
            return
        if verdict == "coauthored" and not self.include_coauthored:
            self.skip_page(page, f"co-written by {names} (include_coauthored=true to keep it)")
            return
        state.scheduled.add(key)
        if self._substack_unchanged(key, item):
            self.unchanged_page(page)
            return
        yield self.substack_post_request(state.base, item.slug, item, author)

    def _substack_unchanged(self, key: str, item: ArchiveItem) -> bool:
        """Stored already, and the archive shows neither a newer date nor an edit."""
        if item.listed_at is None or not self.settings.getbool("SUBSTACK_TRUST_LISTING_DATES"):
            return False
        resources = CrawlResources.of(self.crawler)
        known = resources.known.get(key)
        last = known.listed_updated_at if known else None
        if last is None or item.listed_at > last:
            return False
        return self._substack_listings().get(key) == item.signature

    def _substack_listings(self) -> dict[str, Any]:
        """The archive fields each stored Substack post was listed with, loaded once."""
        if self._substack_listed is None:
            mongo = CrawlResources.of(self.crawler).mongo
            self._substack_listed = {
                doc["canonical_url"]: (doc.get("extra") or {}).get("listing")
                for doc in mongo.iter_documents({"platform": "substack"})
            }
        return self._substack_listed

    # --- posts ----------------------------------------------------------------------
    def substack_post_request(
        self,
        base: str,
        slug: str,
        item: ArchiveItem | None = None,
        author: str | None = None,
    ) -> scrapy.Request:
        """A post from the API; `item` when the archive listed it."""
        meta: dict[str, Any] = {
            "handle_httpstatus_list": ERROR_STATUSES,
            "twin_page": post_page_url(base, slug),
            "twin_author": author or self.author,
        }
        if item is not None:
            meta.update(twin_listed=item.listed_at, twin_listing=item.signature)
        return scrapy.Request(
            post_api_url(base, slug),
            callback=self.parse_substack_post,
            errback=self.errback,
            meta=meta,
        )

    def parse_substack_post(self, response: Response) -> Iterator[Document | scrapy.Request]:
        """A post from the API: one document (or its page, when there is no API).

        @fixture tests/fixtures/extract/substack/free_post/post.json
        @meta {"twin_page": "https://adabakes.substack.com/p/sourdough", "twin_author": "Ada"}
        @returns items 1 1
        @returns requests 0 0
        @scrapes title content published_at canonical_url extractor
        """
        page = response.meta["twin_page"]
        try:
            if response.status != 200 or not isinstance(response, TextResponse):
                raise SubstackError(f"HTTP {response.status}")
            post = parse_post(response.text)
        except SubstackError as exc:
            # Not served here (a proxied custom domain, an old post): read the page.
            self.logger.info("No post API at %s (%s); reading %s", response.url, exc, page)
            yield scrapy.Request(
                page,
                callback=self.parse_substack_page,
                errback=self.errback,
                meta={
                    "handle_httpstatus_list": ERROR_STATUSES,
                    **{k: v for k, v in response.meta.items() if k.startswith("twin_")},
                },
            )
            return
        fields = post_fields(post, page, response.meta["twin_author"], raw=response.text)
        yield self._substack_document(fields, response)

    def parse_substack_page(self, response: Response) -> Iterator[Document]:
        """A post's page, for sites without the API: one document.

        @fixture tests/fixtures/extract/substack/page_markup_paid/page.html
        @meta {"twin_author": "Ada Quill"}
        @returns items 1 1
        @scrapes title content extractor
        """
        if response.status >= 400 and response.status not in (401, 403, 429, 503):
            self.fail_page(response.url, f"HTTP {response.status}")
            return
        html = self.html_of(response)
        if html is None:
            return
        fields = post_page_fields(html, response.url, response.meta["twin_author"], response.status)
        yield self._substack_document(fields, response)

    def _substack_document(self, fields: dict[str, Any], response: Response) -> Document:
        if "twin_listing" in response.meta:
            fields["listed_updated_at"] = response.meta["twin_listed"]
            fields["extra"]["listing"] = response.meta["twin_listing"]
        # Built unvalidated: the validate pipeline checks it and drops it with the reason.
        return Document.model_construct(**fields)

    def _substack_publication(self, response: Response) -> Publication:
        """The publication's state; made again from the request's meta after a resume."""
        base = response.meta["twin_publication"]
        if base not in self._substack_publications:
            self._substack_publications[base] = Publication(base, response.meta.get("twin_limit"))
        return self._substack_publications[base]


class SubstackSpider(SubstackRoutes, TwinSpider):
    name = "substack"
    params_model = SubstackParams
    contract_arguments = {"publication": "adabakes"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.author = self.params.author
        self.include_coauthored = self.params.include_coauthored
        self._substack_publications = {}

    async def start(self) -> Any:
        if self.params.publication:
            for request in self.substack_publication_requests(
                self.params.publication, self.params.limit
            ):
                yield request
        for url in self.params.url or []:
            location = post_location(url)
            if location is not None:  # checked by the parameters already
                yield self.substack_post_request(*location)
