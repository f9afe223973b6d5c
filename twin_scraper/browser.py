"""Rendering pages in Chromium through scrapy-playwright, only where a page needs it.

A spider that may render mixes in `BrowserSpider`: that enables scrapy-playwright's
download handler for it alone, and the handler launches Chromium on the first request
carrying `meta["playwright"]` (a crawl that renders nothing starts no browser). Every
other request still goes through Scrapy's own downloader.

Every request a rendered page makes (scripts, frames, XHR) goes through the network guard
(`GuardedPlaywrightHandler`), as the navigation itself does in the guard middleware.

Pages are never handed to callbacks (`playwright_include_page` stays off): the work on a
page is done by page actions (`PageMethod` callables such as `ScrollUntilStable`) and
scrapy-playwright closes the page after them, also when one of them fails.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler
from scrapy_playwright.page import PageMethod

from twin_scraper.netguard import HostGuard, NetworkPolicy, TargetRefused

logger = logging.getLogger(__name__)

PLAYWRIGHT_HANDLER = "twin_scraper.browser.GuardedPlaywrightHandler"
#: Resource types a corpus never needs; blocking them keeps rendering fast and small.
BLOCKED_RESOURCES = frozenset({"image", "media", "font"})


class BrowserSpider:
    """Spider mixin: requests with `meta["playwright"]` are rendered by Chromium."""

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)  # type: ignore[misc]
        handlers = settings.getdict("DOWNLOAD_HANDLERS")  # keeps file:// and data: off
        settings.set(
            "DOWNLOAD_HANDLERS",
            {**handlers, "http": PLAYWRIGHT_HANDLER, "https": PLAYWRIGHT_HANDLER},
            priority="spider",
        )


class GuardedPlaywrightHandler(ScrapyPlaywrightDownloadHandler):
    """scrapy-playwright's handler, with every request of a rendered page checked by the
    network guard before Chromium sends it (after PLAYWRIGHT_ABORT_REQUEST, which drops
    images and fonts without looking their hosts up).
    Chromium follows redirects by itself: their final page is checked by the guard
    middleware when the response comes back."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.guard = HostGuard(NetworkPolicy.from_settings(crawler.settings))
        self.configured_abort = self.abort_request
        self.abort_request = self.guarded_abort

    async def guarded_abort(self, request: Any) -> bool:
        if self.configured_abort is not None:
            verdict = self.configured_abort(request)
            if await verdict if hasattr(verdict, "__await__") else verdict:
                return True
        try:
            await self.guard.check(request.url)
        except TargetRefused as refused:
            logger.warning("A rendered page's request was refused: %s", refused)
            self.stats.inc_value("twin/guard/refused_in_browser")
            return True
        return False


async def block_heavy_resources(request: Any) -> bool:
    """`PLAYWRIGHT_ABORT_REQUEST`: drop images, media and fonts before they download."""
    return request.resource_type in BLOCKED_RESOURCES


@dataclass(frozen=True)
class ScrollResult:
    items: int
    rounds: int
    stopped_by: str  # "stable", "max_items" or "max_seconds"


@dataclass(frozen=True)
class ScrollUntilStable:
    """Page action: scroll to the bottom until no new items appear, within bounds.

    Infinite lists (a Medium profile, a LinkedIn activity feed) add items as the reader
    scrolls. Items are counted by `item_selector`; scrolling stops once the count has not
    grown for `stable_rounds` scrolls, reaches `max_items`, or `max_seconds` have passed.
    """

    item_selector: str
    max_items: int = 1000
    max_seconds: float = 60.0
    pause_ms: int = 400
    stable_rounds: int = 3

    async def __call__(self, page: Any) -> ScrollResult:
        deadline = time.monotonic() + self.max_seconds
        count = await page.locator(self.item_selector).count()
        rounds = unchanged = 0
        while True:
            if count >= self.max_items:
                stopped_by = "max_items"
                break
            if unchanged >= self.stable_rounds:
                stopped_by = "stable"
                break
            if time.monotonic() >= deadline:
                stopped_by = "max_seconds"
                break
            await page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
            await page.wait_for_timeout(self.pause_ms)
            rounds += 1
            new_count = await page.locator(self.item_selector).count()
            unchanged = unchanged + 1 if new_count == count else 0
            count = new_count
        if stopped_by != "stable":
            logger.warning(
                "Stopped scrolling %s after %d rounds with %d items: %s bound reached",
                page.url,
                rounds,
                count,
                stopped_by,
            )
        return ScrollResult(items=count, rounds=rounds, stopped_by=stopped_by)


@dataclass(frozen=True)
class RecordResponses:
    """Page action: keep the text of every response whose URL holds `url_part` while the
    actions after it run (the JSON a web app pages its lists with as the reader scrolls,
    such as Medium's GraphQL answers); returns that growing list."""

    url_part: str
    max_bodies: int = 500

    async def __call__(self, page: Any) -> list[str]:
        bodies: list[str] = []

        async def keep(response: Any) -> None:
            if self.url_part not in response.url or len(bodies) >= self.max_bodies:
                return
            try:
                bodies.append(await response.text())
            except Exception as exc:  # the page moved on or closed: that answer is lost
                logger.debug("Could not read %s: %s", response.url, exc)

        page.on("response", keep)
        return bodies


_CLICK_FIRST_N = (
    "(els, n) => { els.slice(0, n).forEach(e => e.click()); return Math.min(els.length, n); }"
)


@dataclass(frozen=True)
class ClickAll:
    """Page action: click every element matching `selector` (such as the "see more"
    toggles of truncated posts) until none is left, within bounds; returns the clicks.

    Clicks are sent from the page's JavaScript, so an element scrolled out of view or
    covered by a banner is still clicked. A selector should match only the state before
    the click (for example `:not([aria-expanded=true])`), else the loop stops when clicks
    no longer change the count.
    """

    selector: str
    max_clicks: int = 1000
    max_seconds: float = 30.0
    pause_ms: int = 200

    async def __call__(self, page: Any) -> int:
        deadline = time.monotonic() + self.max_seconds
        clicks = 0
        count = await page.locator(self.selector).count()
        while count and clicks < self.max_clicks and time.monotonic() < deadline:
            clicks += await page.eval_on_selector_all(
                self.selector,
                _CLICK_FIRST_N,
                self.max_clicks - clicks,
            )
            await page.wait_for_timeout(self.pause_ms)
            remaining = await page.locator(self.selector).count()
            if remaining >= count:
                break  # clicking changes nothing: do not loop until the deadline
            count = remaining
        if count:
            logger.warning("%d element(s) %r left unclicked on %s", count, self.selector, page.url)
        return clicks


def render_meta(*actions: Any, **meta: Any) -> dict[str, Any]:
    """Request meta that renders the page in Chromium, then runs `actions` on it in order
    (callables taking the page, e.g. `ScrollUntilStable(...)`)."""
    return {
        "playwright": True,
        "playwright_page_methods": [PageMethod(action) for action in actions],
        **meta,
    }


def action_results(response: Response) -> list[Any]:
    """What each page action of a rendered response returned, in order."""
    return [method.result for method in response.meta.get("playwright_page_methods", ())]
