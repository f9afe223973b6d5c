"""Downloader middleware: retries that honour `Retry-After`.

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

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response
from scrapy.settings import BaseSettings

from twin_scraper.urls import domain_of

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
