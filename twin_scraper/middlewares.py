"""Downloader middlewares: the network guard, credentials attached at send time, retries
that honour `Retry-After`.

The network guard (`NetworkGuardMiddleware`, first in line) sees every request and every
redirect hop; see `twin_scraper.netguard`.

`GitHubAuthMiddleware` (last in line) puts GITHUB_TOKEN on a request for the GitHub API
just before it is sent and takes it off when the answer comes back: a request waiting in
the scheduler, retried, copied or pickled into a job directory never carries it.

Scrapy retries 429 and 503 answers at once, which is what a rate-limited host asked us
not to do. This subclass of its RetryMiddleware (same RETRY_TIMES bound) reads
`Retry-After` (seconds or an HTTP date) on 429 and 503, and without it backs off
RETRY_BACKOFF_BASE seconds, doubling per retry. The wait applies to the whole host:
every request to it waits until then, requests to other hosts go on. A host asking for
more than RETRY_AFTER_MAX seconds is not retried: the answer goes to the spider, which
reports it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.spidermiddlewares.urllength import UrlLengthMiddleware

from twin_scraper.netguard import HostGuard, NetworkPolicy, TargetRefused
from twin_scraper.report import page_failed
from twin_scraper.urls import domain_of, strip_credentials

logger = logging.getLogger(__name__)

BACK_OFF_STATUSES = (429, 503)


def retry_after(value: bytes | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header, or None if absent or unreadable."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


class RetryAfterMiddleware(RetryMiddleware):
    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.max_wait = settings.getfloat("RETRY_AFTER_MAX")
        self.base = settings.getfloat("RETRY_BACKOFF_BASE")
        self.not_before: dict[str, float] = {}  # host -> monotonic time it may be asked again

    async def process_request(self, request: Request) -> None:
        wait = self.not_before.get(domain_of(request.url), 0.0) - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Request | Response:
        if response.status in BACK_OFF_STATUSES and not request.meta.get("dont_retry"):
            wait = retry_after(response.headers.get(b"Retry-After"))
            if wait is None:
                wait = self.base * 2 ** request.meta.get("retry_times", 0)
            if wait > self.max_wait:
                self.crawler.stats.inc_value("twin/retry/retry_after_too_long")
                logger.warning(
                    "Not retrying %s: the host asks to wait %.0f s (more than RETRY_AFTER_MAX, "
                    "%.0f s)",
                    request.url,
                    wait,
                    self.max_wait,
                )
                return response
            host = domain_of(request.url)
            self.not_before[host] = max(self.not_before.get(host, 0.0), time.monotonic() + wait)
            self.crawler.stats.inc_value("twin/retry/backed_off")
        return super().process_response(request, response)


class NetworkGuardMiddleware:
    """Refuses requests the network policy does not allow (reported, with the variable
    that would allow them), and takes credentials out of URLs before anything logs or
    stores them."""

    def __init__(self, guard: HostGuard, crawler: Crawler) -> None:
        self.guard = guard
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NetworkGuardMiddleware:
        return cls(HostGuard(NetworkPolicy.from_settings(crawler.settings)), crawler)

    async def process_request(self, request: Request) -> Request | None:
        stripped = strip_credentials(request.url)
        if stripped != request.url:
            logger.warning("Credentials in a URL are never sent, logged nor stored: %s", stripped)
            return request.replace(url=stripped)
        await self._check(request, request.url)
        return None

    async def process_response(self, request: Request, response: Response) -> Response:
        """A page rendered in the browser may have been redirected there (the browser
        follows redirects itself): its final address is checked before it is used."""
        if response.url != request.url:
            await self._check(request, response.url)
        return response

    async def _check(self, request: Request, url: str) -> None:
        try:
            await self.guard.check(url)
        except TargetRefused as refused:
            hops = [*(request.meta.get("redirect_urls") or []), url]
            detail = str(refused)
            if len(hops) > 1:
                detail += f" (redirected: {' -> '.join(hops)})"
            logger.warning("%s", detail)
            self.crawler.stats.inc_value("twin/guard/refused")
            self.crawler.signals.send_catch_log(
                page_failed, url=hops[0], reason=refused.reason, detail=detail
            )
            raise


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


class GitHubAuthMiddleware:
    """GITHUB_TOKEN on requests to GITHUB_API_URL's origin only, for as long as they are
    on the wire."""

    def __init__(self, token: str, api_url: str) -> None:
        self.authorization = f"Bearer {token}"
        self.origin = _origin(api_url)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> GitHubAuthMiddleware:
        token = crawler.settings.get("GITHUB_TOKEN")
        if not token:
            raise NotConfigured
        return cls(token, crawler.settings.get("GITHUB_API_URL"))

    def process_request(self, request: Request) -> None:
        if _origin(request.url) == self.origin:  # a Link elsewhere never gets it
            request.headers[b"Authorization"] = self.authorization

    def process_response(self, request: Request, response: Response) -> Response:
        self._take_off(request)
        return response

    def process_exception(self, request: Request, exception: BaseException) -> None:
        self._take_off(request)

    def _take_off(self, request: Request) -> None:
        if request.headers.get(b"Authorization") == self.authorization.encode():
            del request.headers[b"Authorization"]


class ReportedUrlLengthMiddleware(UrlLengthMiddleware):
    """Spider middleware: Scrapy's URLLENGTH_LIMIT (links longer than 2,083 characters are
    not followed), with every such link in the crawl report instead of a log line."""

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        kept = super().get_processed_request(request, response)
        if kept is None:
            shown = f"{request.url[:200]}…"
            self.crawler.signals.send_catch_log(
                page_failed,
                url=shown,
                reason="URL too long",
                detail=f"URL too long: {len(request.url):,} characters, over URLLENGTH_LIMIT "
                f"({self.maxlength:,}): {shown}",
            )
        return kept
