"""LinkedIn: the member's posts and articles, from their data export or their activity.

    scrapy crawl linkedin -a export=PATH [-a author="Full Name"]
    scrapy crawl linkedin -a user=PROFILE_SLUG [-a author="Full Name"]

`export`: the archive LinkedIn sends ("Get a copy of your data"), as a .zip or the
folder it extracts to. Nothing is fetched: posts come from Shares.csv, articles from
Articles/Articles/*.html.

`user`: the profile's activity feed rendered in Chromium with the member's own session
(`LINKEDIN_LI_AT` or `LINKEDIN_STORAGE_STATE`), scrolled until no new post appears and
every "see more" expanded; each article it links to is rendered too. A login page, auth
wall or checkpoint stops the crawl with its reason. One page at a time, with delays.

Routing only: parsing lives in `twin_scraper.extract.linkedin`.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import scrapy
from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from scrapy.exceptions import CloseSpider
from scrapy.http import Response
from scrapy.settings import BaseSettings
from twisted.python.failure import Failure

from twin_scraper.browser import BrowserSpider, ClickAll, ScrollUntilStable, render_meta
from twin_scraper.extract.linkedin import (
    CARD_SELECTOR,
    SEE_MORE_SELECTOR,
    ExportError,
    LinkedInExport,
    export_article_fields,
    export_post_fields,
    feed_post_fields,
    parse_activity,
    parse_export,
    pulse_article_fields,
    read_export,
    wall_reason,
)
from twin_scraper.items import Document
from twin_scraper.netguard import TargetRefused
from twin_scraper.params import Author
from twin_scraper.seeds import LinkKind, SeedLink
from twin_scraper.spiders.base import ERROR_STATUSES, TwinSpider, failure_reason

#: The browser context holding the member's session (scrapy-playwright PLAYWRIGHT_CONTEXTS).
SESSION_CONTEXT = "linkedin"
#: Requests to LinkedIn share one download slot: its concurrency and delay are ours.
SLOT = "linkedin"
_SLUG = re.compile(r"^[\w\-%.]{2,100}$", re.UNICODE)

MISSING_SESSION = (
    "LinkedIn shows a member's posts only to a logged-in member, and no session is "
    "configured: set LINKEDIN_LI_AT to the value of your `li_at` cookie (or "
    "LINKEDIN_STORAGE_STATE to a Playwright storage-state file saved after logging in), "
    "or read your data export instead: scrapy crawl linkedin -a export=PATH"
)
WALL_ADVICE = (
    "the LinkedIn session is missing, expired or was refused: log in to LinkedIn in your "
    "browser and set a fresh LINKEDIN_LI_AT (or save LINKEDIN_STORAGE_STATE again), or read "
    "your data export instead: scrapy crawl linkedin -a export=PATH"
)


class SessionError(ValueError):
    """The configured LinkedIn session cannot be used; never quotes the secret."""


class LinkedInParams(BaseModel):
    """`-a export=PATH` or `-a user=PROFILE_SLUG`, with an optional `-a author=`."""

    model_config = ConfigDict(extra="forbid")

    export: str | None = None
    user: str | None = None
    author: Author = None

    @field_validator("user")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        if value is None:
            return None
        slug = profile_slug(value) or value.strip().strip("/")
        if not _SLUG.match(slug):
            raise ValueError(
                f"not a profile slug: {value!r} (the NAME of linkedin.com/in/NAME/, or that URL)"
            )
        return slug

    @model_validator(mode="after")
    def _one_source(self) -> LinkedInParams:
        if bool((self.export or "").strip()) == bool(self.user):
            raise ValueError(
                "give either -a export=PATH (your LinkedIn data export: the .zip or its "
                "folder) or -a user=PROFILE_SLUG (your activity, crawled with your LinkedIn "
                "session), one of them"
            )
        return self


def profile_slug(url: str) -> str | None:
    """NAME of a linkedin.com/in/NAME/... URL, lowercased."""
    match = re.search(r"/in/([^/?#]+)", urlsplit(url.strip()).path)
    return unquote(match.group(1)).lower() if match else None


def open_export(path: str) -> LinkedInExport:
    """Read and parse an export; raises ExportError naming the path and the cause."""
    try:
        return parse_export(read_export(path), str(path))
    except ExportError as exc:
        if str(path) in str(exc):
            raise
        raise ExportError(f"LinkedIn export {path}: {exc}") from None


def export_location(export: LinkedInExport, where: str) -> str:
    """Where in an export something is, for the crawl report (whose rows are by host):
    `linkedin-export://<archive name>/<file and line>`."""
    return f"linkedin-export://{Path(export.source).name}/{where}"


def session_state(settings: BaseSettings) -> dict[str, Any] | None:
    """The Playwright storage state carrying the member's LinkedIn session, from
    LINKEDIN_STORAGE_STATE (a file) or LINKEDIN_LI_AT (the cookie); None without one."""
    path = (settings.get("LINKEDIN_STORAGE_STATE") or "").strip()
    if path:
        file = Path(path).expanduser()
        try:
            state = json.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SessionError(f"LINKEDIN_STORAGE_STATE: no such file: {file}") from None
        except (OSError, UnicodeDecodeError, ValueError):
            raise SessionError(
                f"LINKEDIN_STORAGE_STATE: {file} is not a Playwright storage-state JSON file "
                "(save one with `context.storage_state(path=...)` after logging in)"
            ) from None
        cookies = state.get("cookies") if isinstance(state, dict) else None
        if not isinstance(cookies, list) or not any(
            isinstance(c, dict) and c.get("name") == "li_at" for c in cookies
        ):
            raise SessionError(
                f"LINKEDIN_STORAGE_STATE: {file} holds no `li_at` cookie: log in to LinkedIn "
                "in that browser before saving its state"
            )
        return state
    li_at = (settings.get("LINKEDIN_LI_AT") or "").strip()
    if not li_at:
        return None
    if not re.fullmatch(r"[\x21-\x7e]+", li_at) or ";" in li_at:
        raise SessionError(
            "LINKEDIN_LI_AT must be the bare value of the `li_at` cookie (no name, spaces or `;`)"
        )
    base = urlsplit(settings.get("LINKEDIN_BASE_URL"))
    host = base.hostname or "www.linkedin.com"
    try:
        ipaddress.ip_address(host)
        domain = host
    except ValueError:
        domain = "." + host
    cookie = {
        "name": "li_at",
        "value": li_at,
        "domain": domain,
        "path": "/",
        "expires": -1,
        "httpOnly": True,
        "secure": base.scheme == "https",
        "sameSite": "Lax",
    }
    return {"cookies": [cookie], "origins": []}


class LinkedInRoutes(BrowserSpider):
    """Items and requests for LinkedIn. Needs `self.author` (str | None)."""

    author: str | None

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        """The session becomes a browser context (settings, not request meta, so it is
        never written to a job directory), and LinkedIn requests share one polite slot."""
        super().update_settings(settings)
        state = session_state(settings)
        if state is not None:
            contexts = {**settings.getdict("PLAYWRIGHT_CONTEXTS")}
            contexts[SESSION_CONTEXT] = {"storage_state": state}
            settings.set("PLAYWRIGHT_CONTEXTS", contexts, priority="spider")
        slots = {**settings.getdict("DOWNLOAD_SLOTS")}
        slots[SLOT] = {
            "concurrency": settings.getint("LINKEDIN_CONCURRENCY"),
            "delay": settings.getfloat("LINKEDIN_DOWNLOAD_DELAY"),
            "jitter": 0.5,
        }
        settings.set("DOWNLOAD_SLOTS", slots, priority="spider")

    def has_linkedin_session(self) -> bool:
        return SESSION_CONTEXT in self.settings.getdict("PLAYWRIGHT_CONTEXTS")

    # --- routing --------------------------------------------------------------------
    def linkedin_requests(self, link: SeedLink) -> Iterator[Any]:
        if link.kind == LinkKind.LINKEDIN_EXPORT:
            try:
                export = open_export(link.url)
            except ExportError as exc:
                self.fail_page(link.url, "unreadable LinkedIn export", str(exc))
                return
            yield from self.export_documents(export)
            return
        if not self.has_linkedin_session():
            self.fail_page(link.url, "no LinkedIn session", MISSING_SESSION)
            return
        if "/pulse/" in urlsplit(link.url).path:
            yield self.pulse_request(link.url)
        elif slug := profile_slug(link.url):
            yield self.activity_request(slug)
        else:
            self.fail_page(
                link.url,
                "not a LinkedIn profile or article",
                f"{link.url}: give a profile (linkedin.com/in/NAME/) or an article "
                "(linkedin.com/pulse/...)",
            )

    # --- route 1: the data export ---------------------------------------------------
    def export_documents(self, export: LinkedInExport) -> Iterator[Document]:
        """Every post and article of an export, as documents for the pipelines."""
        author = self.author or export.author
        if not author:
            raise ExportError(
                f"LinkedIn export {export.source} names no member (no Profile.csv): "
                "pass the author's full name (-a author=...)"
            )
        self.logger.info(
            "LinkedIn export %s: %d posts, %d article pages, author %s",
            export.source,
            len(export.posts),
            len(export.articles),
            author,
        )
        for where, why in export.problems:
            self.fail_page(export_location(export, where), why)
        for post in export.posts:
            if not post.text:
                self.skip_page(post.url, "no text of the author's (a reshare or media alone)")
                continue
            yield Document.model_construct(**export_post_fields(post, author))
        for article in export.articles:
            if article.url is None:
                self.skip_page(
                    export_location(export, article.name),
                    "an unpublished draft (no public URL in the export)",
                )
                continue
            fields = export_article_fields(article.html, article.url, author, name=article.name)
            yield Document.model_construct(**fields)

    # --- route 2: the rendered activity ----------------------------------------------
    def _linkedin_meta(self, *actions: Any, **meta: Any) -> dict[str, Any]:
        return render_meta(
            *actions,
            playwright_context=SESSION_CONTEXT,
            download_slot=SLOT,
            autothrottle_dont_adjust_delay=True,  # the slot's delay is the floor
            # LinkedIn's robots.txt refuses every crawler it has not signed up; these are
            # the member's own pages, read with their own login as their browser would.
            dont_obey_robotstxt=True,
            handle_httpstatus_list=[*ERROR_STATUSES, 999],
            **meta,
        )

    def activity_request(self, slug: str) -> scrapy.Request:
        base = self.settings.get("LINKEDIN_BASE_URL").rstrip("/")
        scroll = ScrollUntilStable(
            CARD_SELECTOR,
            max_items=self.settings.getint("LINKEDIN_MAX_POSTS"),
            max_seconds=self.settings.getfloat("LINKEDIN_SCROLL_SECONDS"),
            pause_ms=int(self.settings.getfloat("LINKEDIN_SCROLL_PAUSE") * 1000),
        )
        return scrapy.Request(
            f"{base}/in/{slug}/recent-activity/all/",
            callback=self.parse_activity_page,
            errback=self.linkedin_errback,
            meta=self._linkedin_meta(scroll, ClickAll(SEE_MORE_SELECTOR), twin_profile=slug),
            dont_filter=True,
        )

    def pulse_request(self, url: str) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.parse_pulse,
            errback=self.linkedin_errback,
            meta=self._linkedin_meta(),
        )

    def parse_activity_page(self, response: Response) -> Iterator[Any]:
        self._stop_at_wall(response, "the activity feed")
        slug = response.meta["twin_profile"]
        posts = parse_activity(response.text, response.url)
        own = [p for p in posts if p.author_slug == slug]
        self.logger.info(
            "LinkedIn activity of %s: %d updates, %d of them the member's own",
            slug,
            len(posts),
            len(own),
        )
        if not own:
            self.fail_page(
                response.url,
                "no posts found",
                "no posts of the member on the rendered activity page: the profile has none, "
                "or LinkedIn changed its page (no `feed-shared-update-v2` cards by this member)",
            )
            return
        # Without -a author, the name on the member's own posts (their articles too).
        self.author = author = self.author or own[0].author_name
        base = f"{urlsplit(response.url).scheme}://{urlsplit(response.url).netloc}"
        fetched_at = datetime.now(UTC)
        articles: dict[str, None] = {}
        for post in posts:
            if post.author_slug != slug:
                self.skip_page(f"{base}/feed/update/{post.urn}/", "not the member's own post")
                continue
            articles.update(dict.fromkeys(post.article_urls))
            if not post.text:
                self.skip_page(f"{base}/feed/update/{post.urn}/", "no text of the member's")
                continue
            yield Document.model_construct(**feed_post_fields(post, author, fetched_at, base))
        for url in articles:
            yield self.pulse_request(url)

    def parse_pulse(self, response: Response) -> Iterator[Document]:
        """An article page (linkedin.com/pulse/...): one document.

        @fixture tests/fixtures/linkedin/pulse.html
        @returns items 1 1
        @scrapes title content published_at extractor
        """
        self._stop_at_wall(response, "an article")
        if response.status >= 400:
            self.fail_page(response.url, f"HTTP {response.status}")
            return
        fields = pulse_article_fields(response.text, response.url, self.author, response.status)
        yield Document.model_construct(**fields)

    def linkedin_errback(self, failure: Failure) -> None:
        if failure.check(TargetRefused):
            return  # the network guard reported it
        url = failure.request.url if hasattr(failure, "request") else "<unknown>"
        reason = failure_reason(failure)
        # Playwright's messages are kept short: they never hold the session, only the URL.
        self.fail_page(url, reason, f"{reason}: {failure.getErrorMessage()[:300]}")

    def _stop_at_wall(self, response: Response, wanted: str) -> None:
        """A login page, auth wall or checkpoint ends the crawl: nothing behind it can be
        read, and its text must never be stored as the member's writing."""
        reason = wall_reason(response.url, response.text)
        if response.status == 999:
            reason = "LinkedIn refused the request (HTTP 999: it suspects automation)"
        if reason is None:
            return
        asked = response.request.url if response.request else response.url
        detail = f"{reason} instead of {wanted} ({asked}): {WALL_ADVICE}"
        self.fail_page(asked, "login_wall", detail)
        self.logger.error("Stopping the LinkedIn crawl: %s", detail)
        raise CloseSpider("linkedin_login_wall")


class LinkedInSpider(LinkedInRoutes, TwinSpider):
    name = "linkedin"
    params_model = LinkedInParams
    contract_arguments = {"export": "tests/fixtures/linkedin/export"}
    path_arguments = ("export",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.author = self.params.author
        self.export: LinkedInExport | None = None
        if self.params.export:
            # Read now, so a bad path fails `scrapy crawl` at once with its reason.
            self.export = open_export(str(Path(self.params.export).expanduser()))
            if not (self.author or self.export.author):
                raise ExportError(
                    f"LinkedIn export {self.params.export} names no member (no Profile.csv): "
                    "pass the author's full name (-a author=...)"
                )

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> LinkedInSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        if spider.params.user and not spider.has_linkedin_session():
            raise SessionError(MISSING_SESSION)
        return spider

    async def start(self) -> Any:
        if self.export is not None:
            for document in self.export_documents(self.export):
                yield document
        else:
            yield self.activity_request(self.params.user)
