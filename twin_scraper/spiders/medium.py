"""The Medium spider: every story a user wrote, not only the newest ten.

    scrapy crawl medium -a user=HANDLE_OR_URL [-a author="Full Name"] [-a limit=N]
    scrapy crawl medium -a url=STORY_URL[,STORY_URL...] [-a author="Full Name"]

Discovery reads the RSS feed first (the newest 10 stories, each with the date it last
changed), then renders the profile's (or publication's) story list in Chromium and
scrolls it until no new story appears, reading Medium's own data for each story where the
page exposes it (the Apollo cache it was rendered from, and the `UserProfileQuery` GraphQL
answers its web app pages the list with): the exact date each story last changed, older
stories too. Stories themselves are plain HTTP: Medium renders
them on the server. Routing only: extraction lives in `twin_scraper.extract.medium`; the
routes are a mixin so the seeds spider serves Medium links the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import scrapy
from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from scrapy.http import Response

from twin_scraper.browser import (
    BrowserSpider,
    RecordResponses,
    ScrollResult,
    ScrollUntilStable,
    action_results,
    render_meta,
)
from twin_scraper.documents import same_author
from twin_scraper.extract.discovery import parse_feed
from twin_scraper.extract.medium import (
    ListedStory,
    MediumSource,
    SourceError,
    graphql_stories,
    listed_stories,
    profile_stories,
    resolve_source,
    story_fields,
    story_id,
    story_url,
)
from twin_scraper.items import Document
from twin_scraper.params import ArgumentError, Author, HttpUrls, Limit
from twin_scraper.resources import CrawlResources
from twin_scraper.seeds import SeedLink
from twin_scraper.spiders.base import ERROR_STATUSES, TwinSpider
from twin_scraper.urls import canonicalize_url

#: What a profile or publication list shows one story in (real Medium and the mock alike).
STORY_PREVIEW = "article"


class MediumParams(BaseModel):
    """`-a user=HANDLE_OR_URL` or `-a url=STORY_URL[,...]`, with `-a author=`, `-a limit=`."""

    model_config = ConfigDict(extra="forbid")

    user: str | None = None
    url: HttpUrls = None
    author: Author = None
    limit: Limit = None

    @field_validator("user")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        if value is not None:
            resolve_source(value)  # raises SourceError (a ValueError) naming the problem
        return value

    @model_validator(mode="after")
    def _one_source(self) -> MediumParams:
        if (self.url is None) == (self.user is None):
            raise ValueError("give either -a user=HANDLE_OR_URL or -a url=STORY_URL (one of them)")
        if self.user and not resolve_source(self.user).is_user and not self.author:
            raise ValueError(
                f"{self.user} is a publication or custom domain, whose stories have many "
                'authors: name whose to keep with -a author="Full Name"'
            )
        return self


@dataclass
class MediumState:
    """Discovery bookkeeping for one user or publication."""

    source: MediumSource
    limit: int | None
    # Keyed by post id (else URL): stories scheduled, left out, and their latest list date.
    scheduled: set[str] = field(default_factory=set)
    excluded: set[str] = field(default_factory=set)
    listed: dict[str, datetime] = field(default_factory=dict)

    def full(self) -> bool:
        return self.limit is not None and len(self.scheduled) >= self.limit

    def meta(self) -> dict[str, Any]:
        """Request meta that rebuilds this state after a resume from a job directory."""
        source = self.source
        return {
            "twin_medium": {
                "feed": source.feed_url,
                "list": source.list_url,
                "handle": source.handle,
                "limit": self.limit,
            }
        }


class MediumRoutes:
    """Requests and callbacks for Medium. Needs `self.author` (str | None)."""

    author: str | None

    def medium_requests(self, link: SeedLink) -> Iterator[scrapy.Request]:
        """A seed link: a story, else a user or publication whose stories are discovered."""
        if story_id(link.url):
            yield self.medium_story_request(link.url)
            return
        try:
            source = resolve_source(link.url, self.settings.get("MEDIUM_BASE_URL"))
        except SourceError as exc:
            self.fail_page(link.url, "not a Medium user or publication", str(exc))
            return
        yield from self.medium_source_requests(source, link.limit)

    def medium_source_requests(
        self, source: MediumSource, limit: int | None
    ) -> Iterator[scrapy.Request]:
        """The feed first; its callback then asks for the rendered story list, so the
        feed's exact dates are known before the list's coarser ones."""
        state = self._medium_states.setdefault(source.list_url, MediumState(source, limit))
        yield scrapy.Request(
            source.feed_url,
            callback=self.parse_medium_feed,
            errback=self.medium_feed_failed,
            meta={**state.meta(), "handle_httpstatus_list": ERROR_STATUSES},
            priority=10,  # discovery before fetching: the limit keeps the newest stories
            dont_filter=True,
        )

    def parse_medium_feed(self, response: Response) -> Iterator[scrapy.Request]:
        state = self._medium_state(response.meta)
        feed = parse_feed(response.body, response.url) if response.status == 200 else None
        if feed is None:
            self.logger.warning(
                "No RSS feed at %s (HTTP %d): only the story list is used",
                response.url,
                response.status,
            )
        else:
            for entry in feed.entries:
                yield from self._medium_schedule(state, entry.url, entry.updated, entry.author)
        if not state.full():
            yield self._medium_list_request(state)

    def medium_feed_failed(self, failure: Any) -> Iterator[scrapy.Request]:
        state = self._medium_state(failure.request.meta)
        self.logger.warning(
            "RSS feed %s failed (%s): only the story list is used",
            failure.request.url,
            failure.getErrorMessage(),
        )
        yield self._medium_list_request(state)

    def parse_medium_list(self, response: Response) -> Iterator[scrapy.Request]:
        state = self._medium_state(response.meta)
        results = action_results(response)
        stories = self._listed_with_dates(response, results)
        for scroll in results:
            if isinstance(scroll, ScrollResult):
                self.logger.info(
                    "Story list %s: %d stories after %d scrolls (%s)",
                    response.url,
                    scroll.items,
                    scroll.rounds,
                    scroll.stopped_by,
                )
        for story in stories:
            handle = state.source.handle
            if handle and story.author_handle not in (None, handle):
                state.excluded.add(story_id(story.url) or canonicalize_url(story.url))
                self.skip_page(story.url, f"written by @{story.author_handle}, not @{handle}")
                continue
            listed = story.updated or story.published
            yield from self._medium_schedule(state, story.url, listed, None)
        if not state.scheduled and not state.excluded:
            self.fail_page(
                state.source.list_url,
                "no stories discovered",
                "no stories discovered: neither the RSS feed nor the story list named one",
            )

    def _listed_with_dates(self, response: Response, results: list[Any]) -> list[ListedStory]:
        """The list's stories in page order; each with Medium's own dates where the page's
        Apollo cache or the GraphQL answers recorded while scrolling hold it (they give the
        update date the printed list lacks)."""
        exact: dict[str, ListedStory] = {}
        known, _ = profile_stories(response.text)
        for bodies in results:
            if isinstance(bodies, list):
                for body in bodies:
                    known.extend(graphql_stories(body)[0])
        for story in known:
            exact.setdefault(story_id(story.url) or story.url, story)
        listed = []
        for story in listed_stories(response.text, response.url):
            listed.append(exact.pop(story_id(story.url) or story.url, story))
        return listed + list(exact.values())  # in Medium's data but not (yet) on the page

    def medium_story_request(self, url: str, state: MediumState | None = None) -> scrapy.Request:
        """A story to extract; `state` when discovery found it (then it must prove to be
        by the author)."""
        # Error answers come to the callback: walls often come as 403/503.
        meta: dict[str, Any] = {"handle_httpstatus_list": ERROR_STATUSES}
        if state is not None:
            meta.update(state.meta(), twin_key=story_id(url) or canonicalize_url(url))
        return scrapy.Request(
            url, callback=self.parse_medium_story, errback=self.errback, meta=meta
        )

    def parse_medium_story(self, response: Response) -> Iterator[Document]:
        """A story page: one document.

        @fixture tests/fixtures/extract/medium/free_story_code/page.html
        @returns items 1 1
        @returns requests 0 0
        @scrapes title content published_at byline extractor
        """
        if response.status >= 400 and response.status not in (401, 403, 429, 503):
            self.fail_page(response.url, f"HTTP {response.status}")
            return
        html = self.html_of(response)
        if html is None:
            return
        fields = story_fields(html, response.url, self.author, response.status)
        if "twin_medium" in response.meta:
            state = self._medium_state(response.meta)
            fields["listed_updated_at"] = state.listed.get(response.meta["twin_key"])
            other = self._other_author(fields, state)
            if other:
                self.skip_page(response.url, f"written by {other}, not the requested author")
                return
        # Built unvalidated: the validate pipeline checks it and drops it with the reason.
        yield Document.model_construct(**fields)

    # --- helpers ------------------------------------------------------------------------
    @property
    def _medium_states(self) -> dict[str, MediumState]:
        return self.__dict__.setdefault("_medium_state_by_list", {})

    def _medium_state(self, meta: dict[str, Any]) -> MediumState:
        """The source's state; made again from the request's meta after a resume."""
        saved = meta["twin_medium"]
        source = MediumSource(saved["feed"], saved["list"], saved["handle"])
        return self._medium_states.setdefault(source.list_url, MediumState(source, saved["limit"]))

    def _medium_list_request(self, state: MediumState) -> scrapy.Request:
        settings = self.settings
        most = settings.getint("MEDIUM_LIST_MAX_STORIES")
        scroll = ScrollUntilStable(
            STORY_PREVIEW,
            max_items=min(most, state.limit) if state.limit else most,
            max_seconds=settings.getfloat("MEDIUM_LIST_MAX_SECONDS"),
            pause_ms=settings.getint("MEDIUM_LIST_PAUSE_MS"),
        )
        return scrapy.Request(
            state.source.list_url,
            callback=self.parse_medium_list,
            errback=self.errback,
            meta=render_meta(RecordResponses("/_/graphql"), scroll, **state.meta()),
            priority=10,
            dont_filter=True,
        )

    def _medium_schedule(
        self, state: MediumState, url: str, listed: datetime | None, byline: str | None
    ) -> Iterable[scrapy.Request]:
        url = story_url(url)
        # One story may be linked as medium.com/@ada/x-<id> and ada.medium.com/x-<id>.
        key = story_id(url) or canonicalize_url(url)
        previous = state.listed.get(key)
        if listed is not None and (previous is None or listed > previous):
            state.listed[key] = listed
        if key in state.scheduled or key in state.excluded or state.full():
            return
        if byline and self.author and same_author(byline, self.author) is False:
            state.excluded.add(key)
            self.skip_page(url, f"written by {byline}, not {self.author}")
            return
        state.scheduled.add(key)
        if listed and self.settings.getbool("MEDIUM_TRUST_LISTING_DATES"):
            known = CrawlResources.of(self.crawler).known.get(canonicalize_url(url))
            last = known.listed_updated_at if known else None
            if last is not None and listed <= last:
                self.unchanged_page(url)
                return
        yield self.medium_story_request(url, state)

    def _other_author(self, fields: dict[str, Any], state: MediumState) -> str | None:
        """Who wrote a discovered story when it is not the requested author, else None.
        The handle decides when both are known; the name otherwise."""
        byline = fields["byline"] or "someone else"
        handle = fields["extra"].get("author_handle")
        if state.source.handle and handle:
            return None if handle == state.source.handle else f"{byline} (@{handle})"
        if self.author and same_author(fields["byline"], self.author) is False:
            return byline
        return None


class MediumSpider(MediumRoutes, BrowserSpider, TwinSpider):
    name = "medium"
    params_model = MediumParams
    contract_arguments = {"user": "adaquill"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.author = self.params.author

    async def start(self) -> Any:
        if self.params.user:
            try:
                source = resolve_source(self.params.user, self.settings.get("MEDIUM_BASE_URL"))
            except SourceError as exc:
                raise ArgumentError(f"medium spider: -a user: {exc}") from None
            for request in self.medium_source_requests(source, self.params.limit):
                yield request
        for url in self.params.url or []:
            yield self.medium_story_request(url)
