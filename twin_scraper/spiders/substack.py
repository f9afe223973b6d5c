"""The Substack spider: every post of a publication, or single posts, without a browser.

    scrapy crawl substack -a publication=NAME_OR_URL [-a author="Full Name"] [-a limit=N]
    scrapy crawl substack -a user=HANDLE [-a author="Full Name"]     # every publication
    scrapy crawl substack -a url=POST_URL[,POST_URL...] [-a author="Full Name"]

Routing only: parsing lives in `twin_scraper.extract.substack`. Discovery reads the
publication's sitemap (each post's `lastmod`), then pages through its JSON archive until a page
comes back empty, then schedules what only the sitemap listed; each post comes from the posts
API, or from its page when the site does not serve the API. A person's publications come from
their public profile. The routes are a mixin so the seeds
spider serves Substack links the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import scrapy
from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from scrapy.http import Response, TextResponse

from twin_scraper.extract.discovery import parse_sitemap
from twin_scraper.extract.substack import (
    ARCHIVE_MAX_LIMIT,
    ArchiveItem,
    SubstackError,
    archive_url,
    attribution,
    bylines_of,
    owner_of,
    parse_archive,
    parse_post,
    parse_profile,
    post_api_url,
    post_fields,
    post_location,
    post_page_fields,
    post_page_url,
    profile_api_url,
    profile_handle,
    publication_base,
    sitemap_posts,
    sitemap_url,
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
    user: str | None = None
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

    @field_validator("user")
    @classmethod
    def _handle(cls, value: str | None) -> str | None:
        if value is None:
            return None
        handle = profile_handle(value) or value.strip().removeprefix("@").lower()
        if not re.fullmatch(r"[\w.-]{1,80}", handle):
            raise ValueError(f"not a Substack handle: {value!r} (HANDLE of substack.com/@HANDLE)")
        return handle

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
        given = [v for v in (self.publication, self.user, self.url) if v is not None]
        if len(given) != 1:
            raise ValueError(
                "give either -a publication=NAME_OR_URL, -a user=HANDLE or -a url=POST_URL "
                "(one of them)"
            )
        return self


@dataclass
class Publication:
    """Discovery bookkeeping for one publication."""

    base: str
    limit: int | None
    owner: str | None = None  # learned from the archive's bylines when no author is given
    scheduled: set[str] = field(default_factory=set)
    listed: int = 0
    #: The sitemap's posts (slug -> lastmod): update dates, and posts the archive omits.
    sitemap: dict[str, datetime | None] = field(default_factory=dict)
    archived: set[str] = field(default_factory=set)  # slugs the archive listed

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
        every post of the publication; a person's profile (`substack.com/@handle`) is every
        post of every publication they write for."""
        location = post_location(link.url)
        if location is not None and link.kind != LinkKind.SITE:
            yield self.substack_post_request(*location)
            return
        handle = profile_handle(link.url)
        if handle is not None:
            yield self.substack_profile_request(handle, link.limit)
            return
        is_root = not urlsplit(link.url).path.strip("/")
        if link.kind == LinkKind.SITE or is_root:
            yield from self.substack_publication_requests(link.url, link.limit)
            return
        self.fail_page(
            link.url,
            "not a Substack post or publication",
            "not a Substack post (…/p/<slug>), publication home or profile (substack.com/@…): "
            "nothing to crawl",
        )

    # --- discovery ------------------------------------------------------------------
    def substack_profile_request(self, handle: str, limit: int | None) -> scrapy.Request:
        return scrapy.Request(
            profile_api_url(self.settings.get("SUBSTACK_PROFILE_URL"), handle),
            callback=self.parse_substack_profile,
            errback=self.errback,
            meta={"twin_limit": limit, "handle_httpstatus_list": ERROR_STATUSES},
            priority=10,
            dont_filter=True,
        )

    def parse_substack_profile(self, response: Response) -> Iterator[scrapy.Request]:
        try:
            if response.status != 200 or not isinstance(response, TextResponse):
                raise SubstackError(f"HTTP {response.status}")
            profile = parse_profile(response.text)
        except SubstackError as exc:
            self.fail_page(response.url, "not a Substack profile", f"{exc} (is the handle right?)")
            return
        if not profile.publications:
            self.fail_page(response.url, "no publications", "the profile lists no publication")
            return
        # Without -a author, the profile's name is whose corpus this is.
        self.author = self.author or profile.name
        self.logger.info(
            "Substack profile %s: %d publication(s): %s",
            profile.handle,
            len(profile.publications),
            ", ".join(f"{name} ({role or 'member'})" for name, role in profile.publications),
        )
        for name, _ in profile.publications:
            yield from self.substack_publication_requests(name, response.meta["twin_limit"])

    def substack_publication_requests(
        self, publication: str, limit: int | None
    ) -> Iterator[scrapy.Request]:
        """The sitemap first (its `lastmod`s are the update dates the archive lacks), then
        the archive; a publication is discovered once however often it is named."""
        base = publication_base(publication, self.settings.get("SUBSTACK_BASE_URL"))
        if base in self._substack_publications:
            return
        self._substack_publications[base] = Publication(base, limit)
        yield scrapy.Request(
            sitemap_url(base),
            callback=self.parse_substack_sitemap,
            errback=self.substack_sitemap_failed,
            meta={
                "twin_publication": base,
                "twin_limit": limit,
                "handle_httpstatus_list": ERROR_STATUSES,
            },
            priority=11,
            dont_filter=True,
        )

    def parse_substack_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        state = self._substack_publication(response)
        sitemap = parse_sitemap(response.body) if response.status == 200 else None
        if sitemap is None:
            self.logger.info("No sitemap at %s (HTTP %d)", response.url, response.status)
        else:
            state.sitemap = sitemap_posts([(p.url, p.updated) for p in sitemap.pages])
        yield self._substack_archive_request(state.base, state.limit, 0)

    def substack_sitemap_failed(self, failure: Any) -> Iterator[scrapy.Request]:
        meta = failure.request.meta
        self.logger.info("Sitemap %s failed: %s", failure.request.url, failure.getErrorMessage())
        yield self._substack_archive_request(meta["twin_publication"], meta["twin_limit"], 0)

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
            yield from self._schedule_sitemap_only(state)
            if state.listed == 0 and not state.scheduled:
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
        state.archived.add(item.slug)
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
        # The sitemap's lastmod is the one update date a listing gives: an edit moves it.
        dates = [d for d in (item.listed_at, state.sitemap.get(item.slug)) if d is not None]
        listed = max(dates) if dates else None
        if self._substack_unchanged(key, listed, item.signature):
            self.unchanged_page(page)
            return
        yield self.substack_post_request(state.base, item.slug, item, author, listed)

    def _schedule_sitemap_only(self, state: Publication) -> Iterator[scrapy.Request]:
        """Posts the sitemap lists and the archive did not (their bylines are checked
        once fetched)."""
        for slug, lastmod in state.sitemap.items():
            if state.full():
                return
            page = post_page_url(state.base, slug)
            key = canonicalize_url(page)
            if slug in state.archived or key in state.scheduled:
                continue
            state.scheduled.add(key)
            if self._substack_unchanged(key, lastmod, None):
                self.unchanged_page(page)
                continue
            request = self.substack_post_request(state.base, slug, None, None, lastmod)
            request.meta["twin_check_author"] = state.owner
            yield request

    def _substack_unchanged(
        self, key: str, listed: datetime | None, signature: dict[str, Any] | None
    ) -> bool:
        """Stored already, and the listings show neither a newer date nor an edit."""
        if listed is None or not self.settings.getbool("SUBSTACK_TRUST_LISTING_DATES"):
            return False
        resources = CrawlResources.of(self.crawler)
        known = resources.known.get(key)
        last = known.listed_updated_at if known else None
        if last is None or listed > last:
            return False
        return signature is None or self._substack_listings().get(key) == signature

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
        listed: datetime | None = None,
    ) -> scrapy.Request:
        """A post from the API; `item` when the archive listed it, `listed` the latest
        date a listing (archive or sitemap) gave it."""
        meta: dict[str, Any] = {
            "handle_httpstatus_list": ERROR_STATUSES,
            "twin_page": post_page_url(base, slug),
            "twin_author": author or self.author,
        }
        if item is not None or listed is not None:
            meta.update(twin_listed=listed or (item.listed_at if item else None))
            meta.update(twin_listing=item.signature if item else None)
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
        if "twin_check_author" in response.meta and not self._substack_own(post, response, page):
            return
        fields = post_fields(post, page, response.meta["twin_author"], raw=response.text)
        yield self._substack_document(fields, response)

    def _substack_own(self, post: dict[str, Any], response: Response, page: str) -> bool:
        """A post found by the sitemap alone is kept when its bylines are the author's."""
        author = self.author or response.meta["twin_check_author"]
        bylines = bylines_of(post)
        verdict = attribution(bylines, author) if author else None
        names = ", ".join(b.name for b in bylines)
        if verdict == "guest":
            self.skip_page(page, f"written by {names}, not {author}")
        elif verdict == "coauthored" and not self.include_coauthored:
            self.skip_page(page, f"co-written by {names} (include_coauthored=true to keep it)")
        else:
            return True
        return False

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
        if "twin_listed" in response.meta:
            fields["listed_updated_at"] = response.meta["twin_listed"]
            if response.meta["twin_listing"] is not None:
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
        if self.params.user:
            yield self.substack_profile_request(self.params.user, self.params.limit)
        for url in self.params.url or []:
            location = post_location(url)
            if location is not None:  # checked by the parameters already
                yield self.substack_post_request(*location)
